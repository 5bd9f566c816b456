"""One studio job, start to end: uploaded bytes -> full-resolution result and before/after previews.

The steps are the Colorizer's own (prepare, predict, render, encode); between them the progress
callback is told the share done and what is happening, which the page shows as a bar.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from inference.colorizer import Colorizer
from inference.output_encoding import eight_bit_view
from inference.previews import thumbnail
from safe_files.atomic_output import write_bytes_atomic

PREVIEW_SIDE = 1600  # the slider shows at most this; the download is always full size
PREVIEW_QUALITY = 88
BEFORE_PREVIEW = "before.jpg"
AFTER_PREVIEW = "after.jpg"

ProgressCallback = Callable[[float, str], None]


@dataclass(frozen=True)
class JobOutput:
    result: Path
    width: int
    height: int
    model_version: str


def write_preview(image: Image.Image, path: Path) -> None:
    buffer = io.BytesIO()
    thumbnail(image, PREVIEW_SIDE).save(buffer, format="JPEG", quality=PREVIEW_QUALITY)
    write_bytes_atomic(path, buffer.getvalue())


def colorize_upload(
    colorizer: Colorizer, data: bytes, out_dir: Path, result_name: str, progress: ProgressCallback | None = None
) -> JobOutput:
    """Colorize `data` into out_dir/result_name (the input's format) and out_dir/AFTER_PREVIEW."""
    report = progress or (lambda share, stage: None)
    report(0.05, "decoding")
    prepared = colorizer.prepare(data)
    report(0.25, f"running the model at {prepared.bucket[1]}x{prepared.bucket[0]}")
    ab = colorizer.predict([prepared])[0]
    report(0.6, f"joining colour to the full-resolution {prepared.size[0]}x{prepared.size[1]} picture")
    image = colorizer.render_image(prepared, ab)
    report(0.8, "encoding")
    result = out_dir / result_name
    write_bytes_atomic(result, colorizer.encode(prepared, image))  # 16-bit, metadata and provenance as the CLI's
    write_preview(eight_bit_view(image), out_dir / AFTER_PREVIEW)
    report(1.0, "done")
    width, height = prepared.size
    return JobOutput(result, width, height, colorizer.version)
