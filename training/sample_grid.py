"""A PNG of rows `input L | prediction | truth`, for a person to look at after each evaluation."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from preprocessing.atomic_files import write_bytes_atomic

GAP = 2


def write_sample_grid(rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]], path: str | Path, cell: int = 128) -> Path:
    """rows of three uint8 (H, W, 3) images -> one PNG, each image scaled to height `cell`."""
    scaled_rows = []
    for row in rows:
        images = [Image.fromarray(image) for image in row]
        images = [im.resize((max(1, round(im.width * cell / im.height)), cell), Image.Resampling.BICUBIC) for im in images]
        scaled_rows.append(images)
    width = max(sum(im.width for im in row) + GAP * (len(row) - 1) for row in scaled_rows)
    canvas = Image.new("RGB", (width, len(scaled_rows) * (cell + GAP) - GAP), "white")
    for index, row in enumerate(scaled_rows):
        x = 0
        for image in row:
            canvas.paste(image, (x, index * (cell + GAP)))
            x += image.width + GAP
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", optimize=True)
    write_bytes_atomic(path, buffer.getvalue())
    return Path(path)
