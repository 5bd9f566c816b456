"""The markdown for the previews artifact: the contact sheet inline, plus where the PNG is.

Checked in headless Chromium against Prefect 3.8.8's UI (server on 127.0.0.1, PREFECT_UI_ENABLED):
the artifact page renders markdown images, data: URIs included (they become <img> elements and
paint). So the sheet is embedded as a data: URI (a JPEG scaled to stay small in the database),
and the full-size PNG's path is given for viewers without the UI.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image

INLINE_MAX_SIDE = 1200
INLINE_QUALITY = 80


def inline_jpeg_uri(path: Path) -> str:
    image = Image.open(path).convert("RGB")
    image.thumbnail((INLINE_MAX_SIDE, INLINE_MAX_SIDE))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=INLINE_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def preview_markdown(sheet: Path) -> str:
    return (
        "# Before / after\n\n"
        "Left: the original; right: colorized (a sample of the run).\n\n"
        f"![contact sheet]({inline_jpeg_uri(sheet)})\n\n"
        f"Full-size contact sheet: `{sheet.resolve()}`\n"
    )
