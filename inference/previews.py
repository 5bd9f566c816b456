"""Before/after previews: small pairs, the contact sheet of them, and the markdown artifact that shows it.

Before/after previews: one small pair per sampled image, and a contact sheet of the pairs.

The markdown for the previews artifact: the contact sheet inline, plus where the PNG is.

Checked in headless Chromium against Prefect 3.8.8's UI (server on 127.0.0.1, PREFECT_UI_ENABLED):
the artifact page renders markdown images, data: URIs included (they become <img> elements and
paint). So the sheet is embedded as a data: URI (a JPEG scaled to stay small in the database),
and the full-size PNG's path is given for viewers without the UI.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image, ImageDraw

from safe_files.atomic_output import atomic_path

PREVIEW_SIDE = 192
PREVIEWS_FOLDER = "previews"


def thumbnail(image: Image.Image, side: int = PREVIEW_SIDE) -> Image.Image:
    if image.mode != "RGB":  # a large scan's RGBX result: box-reduce before converting, never a full-size copy
        factor = max(1, min(image.size) // (2 * side))
        image = image.reduce(factor) if factor > 1 else image
    small = image.copy() if image.mode == "RGB" else image.convert("RGB")
    small.thumbnail((side, side), Image.Resampling.BICUBIC, reducing_gap=2.0)
    return small


def preview_pair(before: Image.Image, after: Image.Image) -> Image.Image:
    """Before (left) and after (right), each at most PREVIEW_SIDE pixels."""
    left, right = thumbnail(before), thumbnail(after)
    pair = Image.new("RGB", (left.width + right.width + 4, max(left.height, right.height)), "white")
    pair.paste(left, (0, 0))
    pair.paste(right, (left.width + 4, 0))
    return pair


def build_contact_sheet(pairs: list[Path], out: Path, columns: int = 2, caption_height: int = 14) -> Path | None:
    """Tile the preview pairs (captioned with their file names) into one PNG; None if there are none."""
    images = [(path, Image.open(path).convert("RGB")) for path in pairs if path.is_file()]
    if not images:
        return None
    cell_w = max(im.width for _, im in images) + 8
    cell_h = max(im.height for _, im in images) + caption_height + 8
    rows = (len(images) + columns - 1) // columns
    sheet = Image.new("RGB", (cell_w * min(columns, len(images)), cell_h * rows), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (path, image) in enumerate(images):
        x, y = (index % columns) * cell_w + 4, (index // columns) * cell_h + 4
        draw.text((x, y), path.stem[:60], fill="black")
        sheet.paste(image, (x, y + caption_height))
    with atomic_path(out, durable=False) as temporary:  # a re-run draws it again: no fsync
        sheet.save(temporary, format="PNG")
    return out


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
