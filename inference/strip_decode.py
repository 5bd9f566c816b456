"""A large picture decoded strip by strip: its full-resolution L as compact codes, the L the model sees
at the working size, and a reduced copy for the colour verdict and the previews.

Where the pixels come from:
- a TIFF that tifffile can read by itself (grey or RGB, 8 or 16 bits, uncompressed, deflate, zstd,
  LZMA or PackBits, strips or tiles): one strip or tile at a time, so no decoded full-size image ever
  exists; 16-bit grey keeps all 16 bits for L;
- anything else (JPEG, PNG, LZW or JPEG-compressed TIFF ...): Pillow decodes it whole in its stored
  mode (1 byte a pixel for 8-bit grey, 2 for 16-bit grey, 4 for RGB: Pillow has no row-wise decode)
  under the guard's rules (safe_files/image_decode.py), into memory whose rows are handed back as the
  strips are cut from them (open_checked_in_rows), so the decoded picture shrinks as its codes grow.
Either way each strip goes through the same per-pixel steps as the whole-picture path (ICC profile to
sRGB, alpha on white, palette and CMYK to RGB), then becomes codes: the grey level, or the 16-bit
luminance code of RGB (inference/full_res_lab.py). The working-size L is the same antialiased bilinear
resize the whole-picture path runs, done as its two passes: across each strip as it arrives, then down
the narrow column of results, so it equals the whole-picture resize exactly. The EXIF orientation is
applied last, to the codes (inference/lightness_strips.py) and to the small copies.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import tifffile
import torch
import torch.nn.functional as F
from PIL import Image

from inference.colour_check import THUMBNAIL_SIDE
from inference.colour_profiles import grey_lightness_table, lightness_codes_of_rgb16
from inference.full_res_lab import (
    L_OF_GREY8,
    L_OF_GREY16,
    L_OF_L_CODE,
    L_OF_Y16,
    luminance_codes,
)
from inference.lightness_strips import (
    EXIF_ORIENTATION,
    LightnessStrips,
    orient,
    oriented_strips,
    rechunked,
    turns_sideways,
)
from inference.output_encoding import SourceMetadata, capture_metadata
from inference.sixteen_bit_lightness import png_sixteen_bit
from inference.working_size import working_shape
from preprocessing.images.image_loading import to_rgb
from safe_files.image_decode import (
    DecodedRows,
    ImageRejected,
    ImageSource,
    declared_header,
    open_checked_in_rows,
    open_judged,
)

STRIP_PIXELS = 4_000_000  # pixels per strip of float work (~16 MB of L, ~60 MB in the join)
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


@dataclass
class StripDecode:
    strips: LightnessStrips  # upright
    working: torch.Tensor  # float32 (1, h, w) L at the working size, upright
    reduced: Image.Image  # upright, RGB (or L for a grey picture), shorter side >= 2 x THUMBNAIL_SIDE where the picture has it
    grey: bool
    metadata: SourceMetadata


def stored_as_grey(image: Image.Image) -> bool:
    return image.mode in GREY_MODES or (image.mode == "P" and _palette_is_grey(image))


def _palette_is_grey(image: Image.Image) -> bool:
    palette = np.asarray(image.getpalette() or [], dtype=np.int16).reshape(-1, 3)
    return bool(palette.size) and bool(np.all(palette.max(axis=1) - palette.min(axis=1) <= 2))


def declared_pixels(source: ImageSource, max_pixels: int) -> int | None:
    """The pixel count the header declares (no pixel decoded, ~0.1 ms), or None where Pillow cannot say:
    the guarded decode then gives the reason."""
    return declared_format_and_pixels(source, max_pixels)[1]


def declared_format_and_pixels(source: ImageSource, max_pixels: int) -> tuple[str | None, int | None]:
    """(format, pixel count) as the header declares them, (None, None) where Pillow cannot say."""
    try:
        fmt, (width, height) = declared_header(source, max_pixels)
    except Exception:
        return None, None
    return fmt, width * height


def decode_in_strips(source: ImageSource, working_size: int, max_pixels: int, strip_pixels: int = STRIP_PIXELS) -> StripDecode:
    """Decode `source` strip by strip (about `strip_pixels` each); refusals as ImageRejected, under the
    guard's rules as open_checked."""
    head = _head(source)
    tiff = _tiff_source(source, head)
    if tiff is not None and tiff_strip_source(tiff):
        with open_judged(source, max_pixels) as header:  # the rules on the header; tifffile decodes
            metadata, orientation, grey, size = _header_facts(header)
            icc = header.info.get("icc_profile")
        pieces = _tiff_strips(tiff, icc, size, strip_pixels)
    else:
        decoded = open_checked_in_rows(source, max_pixels)
        image = decoded.image if isinstance(decoded, DecodedRows) else decoded
        metadata, orientation, grey, size = _header_facts(image)
        icc = image.info.get("icc_profile")
        if image.mode in ("RGB", "RGBA") and png_sixteen_bit(head):
            metadata.notes.append("a 16-bit RGB PNG of 40 MP or more: L from 8 bits (the large-scan path reads "
                                  "16-bit RGB from TIFF only)")
        pieces = _row_strips(decoded, strip_pixels) if isinstance(decoded, DecodedRows) else _pillow_strips(image, strip_pixels)
    return _collect(pieces, size, working_size, orientation, metadata, grey, strip_pixels, icc)


def _head(source: ImageSource) -> bytes:
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            return handle.read(32)
    return bytes(source[:32]) if isinstance(source, (bytes, bytearray, memoryview)) else b""


def _header_facts(image: Image.Image) -> tuple[SourceMetadata, int, bool, tuple[int, int]]:
    orientation = int(image.getexif().get(EXIF_ORIENTATION, 1) or 1)
    return capture_metadata(image), orientation, stored_as_grey(image), image.size


TiffSource = str | os.PathLike | bytes


def _tiff_source(source: ImageSource, head: bytes) -> TiffSource | None:
    """What tifffile reads strip by strip when `source` (whose first bytes are `head`) is a TIFF, the only
    format read so: a path as it is (tifffile reads each strip from the file, nothing held whole), bytes
    as they are; else None."""
    if head[:4] not in _TIFF_MAGIC:
        return None
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    return source if isinstance(source, (str, os.PathLike)) else None


def _tiff_file(source: TiffSource) -> tifffile.TiffFile:
    return tifffile.TiffFile(io.BytesIO(source) if isinstance(source, bytes) else source)


# -- where the strips come from ------------------------------------------------------------------------
def _strip_rows(width: int, height: int, strip_pixels: int) -> tuple[int, int]:
    """Rows per strip (a multiple of the verdict's reduction factor, so the reduced copy is the whole
    picture's), and that factor: judge_colour's own for this size."""
    factor = max(1, min(width, height) // (2 * THUMBNAIL_SIDE))
    return max(factor, strip_pixels // max(width, 1) // factor * factor), factor


def _pillow_strips(image: Image.Image, strip_pixels: int) -> Iterator[tuple[str, np.ndarray]]:
    """("grey8" | "grey16" | "rgb8", array) per strip of a decoded Pillow image, which is released at the end."""
    width, height = image.size
    rows, _ = _strip_rows(width, height, strip_pixels)
    peak = _sixteen_bit_peak(image)
    try:
        for start in range(0, height, rows):
            strip = image.crop((0, start, width, min(height, start + rows)))
            yield _normalised(strip, image.info.get("icc_profile"), peak)
    finally:
        image.close()


def _row_strips(decoded: DecodedRows, strip_pixels: int) -> Iterator[tuple[str, np.ndarray]]:
    """As _pillow_strips, read straight from the decoded rows (no crop copies), each band of rows handed
    back once the strip made from it is done: the decoded picture shrinks as its codes grow."""
    image, pixels = decoded.image, decoded.pixels
    width, height = image.size
    rows, _ = _strip_rows(width, height, strip_pixels)
    icc = image.info.get("icc_profile")
    try:
        for start in range(0, height, rows):
            band = pixels[start:start + rows]
            if image.mode == "I;16":
                yield "grey16", band
            elif image.mode == "L" and not icc:
                yield "grey8", band
            elif image.mode == "RGB" and not icc:
                yield "rgb8", band  # RGBX, read in place (a copy to 3 bytes a pixel costs more than the rest)
            else:  # a profile, alpha or CMYK: the whole-picture path's own steps, on this band
                yield _normalised(Image.fromarray(band[..., :3] if image.mode == "RGB" else band, image.mode), icc, None)
            decoded.memory.release(start, start + rows)
    finally:
        image.close()


def _sixteen_bit_peak(image: Image.Image) -> float | None:
    """The scale a 32-bit integer or float picture maps onto 16 bits, from the whole picture (as the
    whole-picture path scales it): 65,535 for 16-bit data, 1.0 or 255 for floats."""
    if image.mode == "I":
        top = image.getextrema()[1]
        return 65535.0 if top <= 65535 else float(top)
    if image.mode == "F":
        return 1.0 if image.getextrema()[1] <= 1.0 else 255.0
    return None


def _normalised(strip: Image.Image, icc: bytes | None, peak: float | None) -> tuple[str, np.ndarray]:
    mode = strip.mode
    if mode.startswith("I;16") or (mode in ("I", "F") and peak):
        array = np.asarray(strip)
        if mode in ("I", "F"):
            array = np.rint(np.clip(array.astype(np.float64) * (65535.0 / peak), 0, 65535))
        return "grey16", array.astype(np.uint16)
    if mode == "L" and not icc:
        return "grey8", np.asarray(strip)
    if mode == "RGB" and not icc:
        return "rgb8", np.asarray(strip)
    # Everything else takes the whole-picture path's own steps (ICC, alpha, palette, CMYK), without
    # the EXIF turn: that is applied once, to the whole picture's codes.
    strip.info = {"icc_profile": icc} if icc else {}
    rgb = to_rgb(strip, in_place=True)
    return "rgb8", np.asarray(rgb)


def _readable_page(page: tifffile.TiffPage) -> bool:
    photometric = int(page.photometric)
    shapes = {(int(tifffile.PHOTOMETRIC.MINISBLACK), 1), (int(tifffile.PHOTOMETRIC.MINISWHITE), 1),
              (int(tifffile.PHOTOMETRIC.RGB), 3)}
    if (photometric, page.samplesperpixel) not in shapes or page.bitspersample not in (8, 16):
        return False
    if int(page.sampleformat) != 1 or page.is_subsampled or page.fillorder != 1 or page.extrasamples:
        return False
    if page.samplesperpixel > 1 and int(page.planarconfig) != int(tifffile.PLANARCONFIG.CONTIG):
        return False
    try:
        tifffile.TIFF.DECOMPRESSORS[page.compression]  # LZW and JPEG need imagecodecs: Pillow reads those
        if page.predictor > 1:
            tifffile.TIFF.UNPREDICTORS[page.predictor]
    except KeyError:
        return False
    return True


def tiff_strip_source(source: TiffSource) -> bool:
    """Whether tifffile reads this TIFF's first page strip by strip without extra codecs."""
    try:
        with _tiff_file(source) as tiff:
            return _readable_page(tiff.pages.first)
    except Exception:
        return False


def _tiff_strips(source: TiffSource, icc: bytes | None, size: tuple[int, int], strip_pixels: int) -> Iterator[tuple[str, np.ndarray]]:
    width, height = size
    rows, _ = _strip_rows(width, height, strip_pixels)
    try:
        with _tiff_file(source) as tiff:
            page = tiff.pages.first
            inverted = int(page.photometric) == int(tifffile.PHOTOMETRIC.MINISWHITE)
            rgb = page.samplesperpixel == 3
            for band in rechunked(_tiff_bands(page, width, height), rows):
                if inverted:
                    band = np.iinfo(band.dtype).max - band
                if band.dtype == np.uint16:  # its profile, if any, is applied from 16 bits when collected
                    yield ("rgb16" if rgb else "grey16"), band
                    continue
                if icc:  # the whole-picture path converts 8-bit pictures to sRGB first
                    yield _normalised(Image.fromarray(band), icc, None)
                else:
                    yield ("rgb8" if rgb else "grey8"), band
    except ImageRejected:
        raise
    except Exception as error:  # zlib.error, ValueError, struct.error ... on damaged strips
        raise ImageRejected("corrupt", f"{type(error).__name__}: {error}") from error


def _tiff_bands(page: tifffile.TiffPage, width: int, height: int) -> Iterator[np.ndarray]:
    """The page's rows top to bottom, one strip or one row of tiles at a time, (rows, width[, 3])."""
    samples = page.samplesperpixel
    dtype = np.dtype(f"u{page.bitspersample // 8}")
    band: np.ndarray | None = None
    band_top = 0
    for segment, index, _ in page.segments(maxworkers=1):
        top, left = int(index[2]), int(index[3])
        segment = np.asarray(segment).reshape(segment.shape[1:])  # (rows, columns, samples)
        if not page.is_tiled:
            yield segment[..., 0] if samples == 1 else segment
            continue
        if band is None or top != band_top:
            if band is not None:
                yield band
            band_top = top
            band = np.zeros((min(page.tilelength, height - top), width) + ((samples,) if samples > 1 else ()), dtype)
        right = min(width, left + segment.shape[1])
        tile = segment[: band.shape[0], : right - left]
        band[:, left:right] = tile[..., 0] if samples == 1 else tile
    if band is not None:
        yield band


# -- what the strips become ----------------------------------------------------------------------------
def _collect(pieces: Iterator[tuple[str, np.ndarray]], size: tuple[int, int], working_size: int,
             orientation: int, metadata: SourceMetadata, grey: bool, strip_pixels: int, icc: bytes | None) -> StripDecode:
    width, height = size
    upright_width, upright_height = (height, width) if turns_sideways(orientation) else (width, height)
    target = working_shape(upright_width, upright_height, working_size)
    target_height, target_width = (target[1], target[0]) if turns_sideways(orientation) else target
    rows, factor = _strip_rows(width, height, strip_pixels)
    across = torch.empty(height, target_width, dtype=torch.float32)  # the first resize pass, every row
    reduced: Image.Image | None = None
    strips: LightnessStrips | None = None
    start = 0
    for kind, array in pieces:
        if kind == "rgb8" and grey:  # grey with alpha, a palette or a profile: its grey is any channel, as in the whole path
            kind, array = "grey8", np.ascontiguousarray(array[..., 0])
        if strips is None:
            strips = LightnessStrips(width, height, *_code_table(kind, icc), rows)
        index = start // rows
        if start != strips.starts[index] or array.shape[0] != min(rows, height - start) or array.shape[1] != width:
            raise ImageRejected("corrupt", f"a strip of {array.shape[:2]} at row {start} of {width}x{height}")
        codes = strips.strip(index)
        codes[...] = _codes(kind, array, icc)
        lightness = torch.from_numpy(strips.lightness(index))
        across[start:start + array.shape[0]] = F.interpolate(
            lightness[None, :, None, :], size=(1, target_width), mode="bilinear", align_corners=False, antialias=True
        )[0, :, 0, :]
        small = _eight_bit_image(kind, array)
        small = small.reduce(factor) if factor > 1 else small
        if reduced is None:
            reduced = Image.new(small.mode, (-(-width // factor), -(-height // factor)))
        reduced.paste(small, (0, start // factor))
        start += array.shape[0]
    if strips is None or start != height:
        raise ImageRejected("corrupt", f"decoded {start} of {height} rows")
    working = F.interpolate(across[None, None], size=(target_height, target_width), mode="bilinear",
                            align_corners=False, antialias=True)[0]
    if orientation in range(2, 9):
        strips = oriented_strips(strips, orientation, _strip_rows(upright_width, upright_height, strip_pixels)[0])
        working = torch.from_numpy(np.ascontiguousarray(orient(working[0].numpy(), orientation)))[None]
        reduced = Image.fromarray(np.ascontiguousarray(orient(np.asarray(reduced), orientation)))
    return StripDecode(strips, working, reduced, grey, metadata)


def _code_table(kind: str, icc: bytes | None) -> tuple[type, np.ndarray]:
    """The codes' type and the table that looks them up to L, as the whole-picture path computes L:
    8-bit pieces come already in sRGB; 16-bit ones meet their profile here, from all 16 bits."""
    if kind == "rgb16":
        return np.uint16, L_OF_L_CODE
    if kind == "grey16":
        profiled = grey_lightness_table(icc, 16) if icc else None
        return np.uint16, L_OF_GREY16 if profiled is None else profiled
    return {"rgb8": (np.uint16, L_OF_Y16), "grey8": (np.uint8, L_OF_GREY8)}[kind]


def _codes(kind: str, array: np.ndarray, icc: bytes | None) -> np.ndarray:
    if kind == "rgb8":
        return luminance_codes(array)
    if kind == "rgb16":
        return lightness_codes_of_rgb16(array, icc)
    return array


def _eight_bit_image(kind: str, array: np.ndarray) -> Image.Image:
    if kind in ("grey16", "rgb16"):
        return Image.fromarray(((array.astype(np.uint32) + 128) // 257).astype(np.uint8))
    if array.ndim == 3 and array.shape[2] == 4:  # RGBX rows: Pillow unpacks them to RGB itself
        return Image.frombuffer("RGB", (array.shape[1], array.shape[0]), np.ascontiguousarray(array), "raw", "RGBX", 0, 1)
    return Image.fromarray(array)
