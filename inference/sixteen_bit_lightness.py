"""The full-resolution L of a 16-bit master from all its bits (the whole-picture path).

Pillow keeps 16-bit grey (I;16) but reads 16-bit RGB as 8-bit RGB, and converts ICC profiles in 8 bits
only. So for a 16-bit input:
- grey: the 16-bit codes through a table (sRGB grey, or the input's gray profile: inference/colour_profiles.py);
- RGB (TIFF, PNG): the file's pixels read again at 16 bits (tifffile, imagecodecs; the guard has already
  judged and decoded the file), alpha on white as elsewhere, L through the profile if any, kept as
  16-bit L codes (full_res_lab.L_OF_L_CODE) so the strip path can hold the same values.
Returned in the stored orientation; the caller turns it upright with the picture.
Anything else (8-bit pictures, 32-bit integer or float modes) returns None: the 8-bit path applies.
"""

from __future__ import annotations

import io

import imagecodecs
import numpy as np
import tifffile
from PIL import Image

from inference.colour_profiles import grey_lightness_table, lightness_codes_of_rgb16
from inference.full_res_lab import L_OF_GREY16, L_OF_L_CODE

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_sixteen_bit(data: bytes) -> bool:
    """A PNG whose IHDR declares 16 bits a sample (Pillow reads its RGB as 8 bits and forgets it)."""
    return data[:8] == _PNG_MAGIC and data[12:16] == b"IHDR" and data[24] == 16


def sixteen_bit_lightness(image: Image.Image, data: bytes, notes: list[str]) -> np.ndarray | None:
    """float32 L (H, W) of a 16-bit input from its 16 bits, stored orientation; None for the 8-bit path.
    A 16-bit RGB file its readers cannot decode again falls back to the 8-bit path, with a note."""
    icc = image.info.get("icc_profile")
    if image.mode.startswith("I;16"):
        codes = np.asarray(image).astype(np.uint16, copy=False)
        table = grey_lightness_table(icc, 16) if icc else None
        return (table if table is not None else L_OF_GREY16)[codes]
    if image.mode not in ("RGB", "RGBA") or not (image.format == "TIFF" or png_sixteen_bit(data)):
        return None
    try:
        rgb = _rgb16(data, image.format, image.size)
    except Exception as error:  # a TIFF layout tifffile does not read (old JPEG, bit-planes ...)
        notes.append(f"16-bit pixels not read again ({type(error).__name__}: {error}): L from 8 bits")
        return None
    if rgb is None:
        return None
    return L_OF_L_CODE[lightness_codes_of_rgb16(rgb, icc)]


def _rgb16(data: bytes, fmt: str, size: tuple[int, int]) -> np.ndarray | None:
    width, height = size
    if fmt == "TIFF":
        with tifffile.TiffFile(io.BytesIO(data)) as tiff:
            page = tiff.pages.first
            if page.bitspersample != 16 or page.samplesperpixel not in (3, 4):
                return None
            pixels = page.asarray()
            if pixels.ndim == 3 and pixels.shape[0] in (3, 4) and pixels.shape[1:] == (height, width):
                pixels = np.moveaxis(pixels, 0, -1)  # planar configuration "separate"
    else:
        pixels = imagecodecs.png_decode(data)
    if pixels.dtype != np.uint16 or pixels.shape[:2] != (height, width) or pixels.shape[-1] not in (3, 4):
        raise ValueError(f"{pixels.dtype} {pixels.shape} where {width}x{height} RGB was declared")
    if pixels.shape[-1] == 4:  # transparent areas on white, the paper colour (as image_loading does)
        alpha = pixels[..., 3:].astype(np.float32) / 65535.0
        pixels = np.rint(pixels[..., :3] * alpha + 65535.0 * (1.0 - alpha)).astype(np.uint16)
    return pixels
