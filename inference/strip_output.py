"""A large colorized picture joined and written strip by strip (inference/lightness_strips.py holds its L).

Each strip of codes becomes float L, is joined to the picture's ab (`join_rows`: the whole picture's
bilinear taps, so strips meet without a seam) and is released; then:
- TIFF: the RGB rows go straight into the file with tifffile, deflate-compressed strip by strip in
  threads (the same compression as the whole-picture path's Pillow TIFF), BigTIFF once the pixels could
  pass 4 GB. Peak memory: the codes plus a few strips.
- JPEG, PNG, WebP, BMP: Pillow encodes only a whole image, so the strips are pasted into one RGB image
  (4 bytes a pixel inside Pillow: 1.8 GB at 460 MP), filled as the codes empty, then saved to the file.
"""

from __future__ import annotations

import mmap
import zlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import numpy as np
import tifffile
import torch
from PIL import Image

from inference.full_res_lab import join_rows
from inference.lightness_strips import LightnessStrips, rechunked
from inference.output_encoding import (
    SourceMetadata,
    check_output_size,
    output_format,
    save_image,
)

TIFF_STRIP_BYTES = 1 << 20  # per TIFF strip: what a reader holds to decode one
DEFLATE_LEVEL = 6  # libtiff's default, what Pillow's tiff_deflate writes
BIGTIFF_BYTES = 4_000_000_000  # classic TIFF offsets are 32-bit: past ~4 GB of pixels, BigTIFF
# EXIF text tags a large TIFF keeps (tifffile writes the layout, software, resolution and ICC itself).
_TEXT_TAGS = (270, 271, 272, 306, 315, 316, 33432)  # description, make, model, date, artist, host, copyright


def joined_strips(strips: LightnessStrips, ab: torch.Tensor | np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, uint8 RGB rows) top to bottom; each strip's codes are released once joined."""
    if isinstance(ab, torch.Tensor):
        ab = ab.detach().to("cpu", torch.float32).numpy()
    for index, start in enumerate(strips.starts):
        rgb = join_rows(strips.lightness(index), ab, start, strips.height)
        strips.release(index)
        yield start, rgb


def assemble(strips: LightnessStrips, ab: torch.Tensor | np.ndarray) -> Image.Image:
    """The whole picture as one RGBX image (Pillow's own layout of RGB, 4 bytes a pixel) over an anonymous
    memory map: the strips are written into it as they are joined, its pages are taken only as rows
    land while the codes' pages go back, and Pillow maps it without a copy (JPEG encodes RGBX as RGB)."""
    width, height = strips.width, strips.height
    buffer = mmap.mmap(-1, width * height * 4)
    pixels = np.frombuffer(buffer, np.uint8).reshape(height, width, 4)
    for start, rgb in joined_strips(strips, ab):
        pixels[start:start + rgb.shape[0], :, :3] = rgb
    del pixels
    return Image.frombuffer("RGBX", (width, height), buffer, "raw", "RGBX", 0, 1)


def write_in_strips(strips: LightnessStrips, ab: torch.Tensor | np.ndarray, meta: SourceMetadata, model_version: str,
                    path: Path) -> None:
    """Join and write the picture to `path` in its output format (the input's)."""
    out_format = output_format(meta)
    check_output_size(out_format, strips.width, strips.height)  # before any work
    if out_format == "TIFF":
        write_tiff(strips, ab, meta, model_version, path)
    else:
        save_image(assemble(strips, ab), meta, model_version, path)


def needs_bigtiff(width: int, height: int, samples: int = 3) -> bool:
    return width * height * samples >= BIGTIFF_BYTES


def write_tiff(strips: LightnessStrips, ab: torch.Tensor | np.ndarray, meta: SourceMetadata, model_version: str,
               path: Path, workers: int = 2) -> None:
    width, height = strips.width, strips.height
    rows = max(1, TIFF_STRIP_BYTES // (width * 3))
    options: dict = {"software": f"tintype ({model_version})", "metadata": None, "photometric": "rgb",
                     "compression": "zlib", "rowsperstrip": rows, "extratags": _text_tags(meta)}
    if meta.dpi:
        options.update(resolution=meta.dpi, resolutionunit="INCH")
    if meta.icc_profile:
        options["iccprofile"] = meta.icc_profile
    with ThreadPoolExecutor(workers, thread_name_prefix="tintype-deflate") as pool, \
            tifffile.TiffWriter(path, bigtiff=needs_bigtiff(width, height)) as tiff:
        tiff.write(_compressed(rechunked((rgb for _, rgb in joined_strips(strips, ab)), rows), pool, workers),
                   shape=(height, width, 3), dtype=np.uint8, **options)


def _compressed(pieces: Iterator[np.ndarray], pool: ThreadPoolExecutor, workers: int) -> Iterator[bytes]:
    """Deflate each strip in the pool (zlib releases the GIL), at most a few strips ahead, in order."""
    ahead: deque = deque()
    for piece in pieces:
        ahead.append(pool.submit(zlib.compress, np.ascontiguousarray(piece).tobytes(), DEFLATE_LEVEL))
        if len(ahead) > 2 * workers:
            yield ahead.popleft().result()
    while ahead:
        yield ahead.popleft().result()


def _text_tags(meta: SourceMetadata) -> list[tuple]:
    if not meta.exif:
        return []
    exif = Image.Exif()
    exif.load(meta.exif)
    return [(tag, "s", 0, exif[tag], True) for tag in _TEXT_TAGS if isinstance(exif.get(tag), str) and exif[tag]]
