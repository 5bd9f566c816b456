"""A large colorized picture joined and written strip by strip (inference/lightness_strips.py holds its L).

Each strip of codes becomes float L, is joined to the picture's ab (`join_rows`: the whole picture's
bilinear taps, so strips meet without a seam) and is released; then:
- TIFF: the RGB rows go straight into the file with tifffile, compressed strip by strip in threads
  with the input's compression (none, LZW, Deflate: as the whole-picture path), 16 bits a sample for a
  16-bit input, BigTIFF once the pixels could pass 4 GB; XMP and IPTC with the provenance as tags
  (inference/archival_metadata.py), then optional C2PA signing. Peak memory: the codes plus a few strips.
- JPEG, PNG, WebP, BMP: Pillow encodes only a whole image, so the strips are pasted into one RGB image
  (4 bytes a pixel inside Pillow: 1.8 GB at 460 MP), filled as the codes empty, then saved to the file.
"""

from __future__ import annotations

import zlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import imagecodecs
import numpy as np
import tifffile
import torch
from PIL import Image

from inference.archival_metadata import tiff_archival_tags
from inference.colour_profiles import output_profile
from inference.content_credentials import sign_file
from inference.full_res_lab import join_rows
from inference.lightness_strips import LightnessStrips, rechunked
from inference.output_encoding import (
    SourceMetadata,
    check_output_size,
    output_format,
    output_provenance,
    save_image,
    tiff_compression,
)
from safe_files.row_memory import RowMemory

TIFF_STRIP_BYTES = 1 << 20  # per TIFF strip: what a reader holds to decode one
DEFLATE_LEVEL = 6  # libtiff's default, what Pillow's tiff_deflate writes
BIGTIFF_BYTES = 4_000_000_000  # classic TIFF offsets are 32-bit: past ~4 GB of pixels, BigTIFF
# EXIF text tags a large TIFF keeps (tifffile writes the layout, software, resolution and ICC itself).
_TEXT_TAGS = (270, 271, 272, 306, 315, 316, 33432)  # description, make, model, date, artist, host, copyright


def joined_strips(strips: LightnessStrips, ab: torch.Tensor | np.ndarray, bits: int = 8) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, uint8 RGB rows, uint16 with bits=16) top to bottom; each strip's codes are released once joined."""
    if isinstance(ab, torch.Tensor):
        ab = ab.detach().to("cpu", torch.float32).numpy()
    for index, start in enumerate(strips.starts):
        rgb = join_rows(strips.lightness(index), ab, start, strips.height, bits)
        strips.release(index)
        yield start, rgb


def assemble(strips: LightnessStrips, ab: torch.Tensor | np.ndarray) -> Image.Image:
    """The whole picture as one RGBX image (Pillow's own layout of RGB, 4 bytes a pixel) over an anonymous
    memory map: the strips are written into it as they are joined, its pages are taken only as rows
    land while the codes' pages go back, and Pillow maps it without a copy (JPEG encodes RGBX as RGB)."""
    width, height = strips.width, strips.height
    memory = RowMemory(height, width * 4)
    pixels = memory.array(np.uint8, width, 4)
    for start, rgb in joined_strips(strips, ab):
        pixels[start:start + rgb.shape[0], :, :3] = rgb
    del pixels
    return Image.frombuffer("RGBX", (width, height), memory.buffer, "raw", "RGBX", 0, 1)


def assemble_sixteen_bit(strips: LightnessStrips, ab: torch.Tensor | np.ndarray) -> np.ndarray:
    """The whole 16-bit picture, uint16 (H, W, 3) over an anonymous memory map (6 bytes a pixel), for a
    16-bit PNG (one image for the encoder, as `assemble` is for Pillow)."""
    memory = RowMemory(strips.height, strips.width * 6)
    pixels = memory.array(np.uint16, strips.width, 3)
    for start, rgb in joined_strips(strips, ab, 16):
        pixels[start:start + rgb.shape[0]] = rgb
    return pixels


def write_in_strips(strips: LightnessStrips, ab: torch.Tensor | np.ndarray, meta: SourceMetadata, model_version: str,
                    path: Path) -> None:
    """Join and write the picture to `path` in its output format (the input's)."""
    out_format = output_format(meta)
    check_output_size(out_format, strips.width, strips.height)  # before any work
    if out_format == "TIFF":
        write_tiff(strips, ab, meta, model_version, path)
    elif meta.bits == 16:
        save_image(assemble_sixteen_bit(strips, ab), meta, model_version, path)
    else:
        save_image(assemble(strips, ab), meta, model_version, path)


def needs_bigtiff(width: int, height: int, samples: int = 3) -> bool:
    return width * height * samples >= BIGTIFF_BYTES


def write_tiff(strips: LightnessStrips, ab: torch.Tensor | np.ndarray, meta: SourceMetadata, model_version: str,
               path: Path, workers: int = 2) -> None:
    width, height = strips.width, strips.height
    bits = 16 if meta.bits == 16 else 8
    rows = max(1, TIFF_STRIP_BYTES // (width * 3 * bits // 8))
    compression = tiff_compression(meta)[1]  # the input's: none, LZW or Deflate
    tags = _text_tags(meta)
    if meta.archival is not None:  # XMP and IPTC as exiv2 writes them, provenance included
        meta.provenance = output_provenance(meta, model_version)
        tags += tiff_archival_tags(meta.archival, meta.provenance, (width, height))
    options: dict = {"software": f"tintype ({model_version})", "metadata": None, "photometric": "rgb",
                     "compression": compression, "rowsperstrip": rows, "extratags": tags,
                     "iccprofile": output_profile(meta.icc_profile)}
    if meta.dpi:
        options.update(resolution=meta.dpi, resolutionunit="INCH")
    with ThreadPoolExecutor(workers, thread_name_prefix="tintype-deflate") as pool, \
            tifffile.TiffWriter(path, bigtiff=needs_bigtiff(width, height, 3 * bits // 8)) as tiff:
        pieces = rechunked((rgb for _, rgb in joined_strips(strips, ab, bits)), rows)
        tiff.write(_compressed(pieces, pool, workers, _ENCODERS[compression]),
                   shape=(height, width, 3), dtype=np.uint16 if bits == 16 else np.uint8, **options)
    if meta.signing and meta.provenance:  # last: the signature covers the final bytes
        sign_file(path, "TIFF", meta.format, meta.provenance, meta.signing)


# tifffile's compression name -> the strip encoder run in the pool (all release the GIL).
_ENCODERS = {"zlib": lambda raw: zlib.compress(raw, DEFLATE_LEVEL), "deflate": lambda raw: zlib.compress(raw, DEFLATE_LEVEL),
             "lzw": imagecodecs.lzw_encode, None: bytes}


def _compressed(pieces: Iterator[np.ndarray], pool: ThreadPoolExecutor, workers: int, encode=_ENCODERS["zlib"]) -> Iterator[bytes]:
    """Encode each strip in the pool, at most a few strips ahead, in order."""
    ahead: deque = deque()
    for piece in pieces:
        ahead.append(pool.submit(encode, np.ascontiguousarray(piece).tobytes()))
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
