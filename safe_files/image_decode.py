"""The guarded decode of an untrusted image: what its first bytes announce, then a Pillow decode that
must pass the guard's rules. Scraping (downloaded bodies), cleaning and shards (files on disk),
inference (archive members) and the studio (uploads) all decode through here.

Each refusal is an ImageRejected whose `reason` names the rule, and whose detail names the setting:
  too-large    the declared pixel count is over the memory budget `max_pixels` (the colorize setting
               --max-pixels, the studio's too; scraping and cleaning keep their own, smaller cap);
  implausible  the declared pixels are far more than the file's bytes can hold for its format
               (decoded bytes per byte of file, for 8-bit grey its pixels per byte: PLAUSIBLE_RATIO):
               a decompression bomb, judged above 32 MP (PLAUSIBILITY_FLOOR). No budget admits it: a
               real 98 MP grey scan is 21 pixels per byte as JPEG, 1 as an uncompressed TIFF;
  truncated    the file ends before its image data does: found from its structure before any pixel
               is decoded where the format allows (JPEG, PNG, TIFF, WebP), else by the decode;
  corrupt      anything else Pillow cannot decode.
Every rule runs from the header and the file's bytes, before a pixel buffer is allocated. Then
open_checked decodes the whole image, so a bad file fails here with a reason, not later in a worker;
open_for_working_size decodes a JPEG at reduced scale (its draft mode) for a working-size copy, and
open_judged hands the judged, undecoded image to a reader that decodes it its own way, and
declared_header only reads what a header declares (format, size), judging nothing.

Pillow's own cap (Image.MAX_IMAGE_PIXELS, a warning at 89 MP and DecompressionBombError at twice
that) would pre-empt the budget, so each guarded open raises it to its budget for its duration only
(`pillow_pixel_cap`), and the process-wide value is restored after.
"""

from __future__ import annotations

import io
import math
import mmap
import os
import re
import struct
import threading
import warnings
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import BinaryIO, Iterator

import numpy as np
from PIL import Image, JpegImagePlugin, TiffImagePlugin

from safe_files.row_memory import RowMemory

# The memory budget's default: a 500 MP master (an 8x10 inch negative at 2,400 dpi is 460 MP) with room.
DEFAULT_MAX_PIXELS = 600_000_000
# The cap of scraping and cleaning: photographs for a training set, not masters (a 8000 x 8000 scan).
DATASET_MAX_PIXELS = 64_000_000

# Decoded bytes per byte of file (the compression ratio; for 8-bit grey, pixels per byte) that a real
# picture stays under, by format. Counting decoded bytes, not pixels, puts bombs of every mode at the
# codec's limit: zeros in PNG or deflate TIFF are ~1,030:1 whether 1-bit, grey or RGB. Measured by
# benchmarks/guard_ratios.py (docs/benchmarks.md) on bw-archive photos upscaled with Lanczos to
# 100-460 MP (smoother, so more compressible, than real scans; grey unless noted) and on the
# flattest legitimate file, a small print on a noiseless blank scanner bed (0.9% of a 100 MP scan):
#   JPEG q90  upscaled 13-30 (RGB 35-44), blank bed 74-167 (optimized tables); zeros at 400 MP: 85
#             baseline, 256 optimized (2 bits per 8x8 block, ordinary coding's floor), 170 progressive.
#             400 is 9x the upscaled photos, 2.4x the blank bed: only a crafted stream gets past it.
#   PNG       upscaled 5-15 (RGB 7-8), blank bed 168; zeros 1,030 (grey), 1,029 (1-bit).
#             400 is 26x the upscaled photos, 2.4x the blank bed, 2.6x under any deflate bomb.
#   TIFF      upscaled LZW 1.4-3.3, Deflate 2.3-6.7, none 1.0 (RGB 1.7-2.9); blank bed LZW 67,
#             Deflate 116; zeros: Deflate 674, Group 4 (1-bit) 4,284, LZW 146-151 as Pillow writes it
#             (under the bound: the memory budget is what limits an LZW TIFF). 400: 60x the upscaled
#             photos, 3.4x the blank bed.
PLAUSIBLE_RATIO = {"JPEG": 400, "PNG": 400, "TIFF": 400}
# Formats not measured (GIF, BMP, WebP, AVIF ...): the same bound.
OTHER_PLAUSIBLE_RATIO = 400
# Under this, a file is cheap to decode whatever it declares (96 MB as RGB): flat graphics and
# blank pages, which do compress past these thresholds, are not judged.
PLAUSIBILITY_FLOOR = 32_000_000

ImageSource = str | os.PathLike | bytes | BinaryIO


class ImageRejected(Exception):
    """An input that is not a usable image. `reason` is a short code (too-large, implausible,
    truncated, corrupt, ...); `detail` says why, and which setting changes it; `size` is the declared
    (width, height) where the header was read; `pixels` the declared pixel count where known (also when
    Pillow refused the header itself, which names only the count)."""

    def __init__(self, reason: str, detail: str = "", size: tuple[int, int] | None = None,
                 pixels: int | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.size = size
        self.pixels = size[0] * size[1] if pixels is None and size else pixels


@dataclass(frozen=True)
class ImageKind:
    format: str  # Pillow's format name
    mime: str
    extension: str


# (prefix, kind); WebP (RIFF....WEBP) and AVIF (....ftypavif) are checked apart in `sniff`.
_MAGIC = (
    (b"\xff\xd8\xff", ImageKind("JPEG", "image/jpeg", ".jpg")),
    (b"\x89PNG\r\n\x1a\n", ImageKind("PNG", "image/png", ".png")),
    (b"GIF87a", ImageKind("GIF", "image/gif", ".gif")),
    (b"GIF89a", ImageKind("GIF", "image/gif", ".gif")),
    (b"II*\x00", ImageKind("TIFF", "image/tiff", ".tif")),
    (b"MM\x00*", ImageKind("TIFF", "image/tiff", ".tif")),
    (b"II+\x00", ImageKind("TIFF", "image/tiff", ".tif")),  # BigTIFF
    (b"MM\x00+", ImageKind("TIFF", "image/tiff", ".tif")),
    (b"BM", ImageKind("BMP", "image/bmp", ".bmp")),
)
_WEBP = ImageKind("WEBP", "image/webp", ".webp")
_AVIF = ImageKind("AVIF", "image/avif", ".avif")


def sniff(head: bytes) -> ImageKind | None:
    """The image format the first (at least 12) bytes announce, or None for anything else."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _WEBP
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis"):
        return _AVIF
    for prefix, kind in _MAGIC:
        if head.startswith(prefix):
            return kind
    return None


# -- Pillow's own cap, raised to the budget for one guarded open -----------------------------------
_cap_lock = threading.Lock()
_open_budgets: list[int] = []
_outside_cap: int | None = Image.MAX_IMAGE_PIXELS


@contextmanager
def pillow_pixel_cap(max_pixels: int) -> Iterator[None]:
    """Pillow's MAX_IMAGE_PIXELS at `max_pixels` (the largest budget of the guarded opens running
    now, in any thread) while the block runs, so Pillow's bomb check never refuses what the budget
    admits; the process's own value is back when the last one ends. A lazily loaded image that is
    loaded later (a TIFF checks again in load) should be loaded inside this block."""
    global _outside_cap
    with _cap_lock:
        if not _open_budgets:
            _outside_cap = Image.MAX_IMAGE_PIXELS
        _open_budgets.append(max_pixels)
        Image.MAX_IMAGE_PIXELS = max(_open_budgets)
    try:
        yield
    finally:
        with _cap_lock:
            _open_budgets.remove(max_pixels)
            Image.MAX_IMAGE_PIXELS = max(_open_budgets) if _open_budgets else _outside_cap


# -- the file's bytes, for the rules that read them --------------------------------------------------
@contextmanager
def _file_bytes(source: ImageSource) -> Iterator[tuple[str | BinaryIO, bytes | mmap.mmap]]:
    """(what Pillow opens, the whole file's bytes): a path is memory-mapped, not read."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        yield io.BytesIO(data), data
    elif isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            handle = open(path, "rb")
        except FileNotFoundError:
            raise
        except OSError as error:  # a folder, no permission: as a file Pillow cannot read
            raise ImageRejected("corrupt", f"{type(error).__name__}: {error}") from error
        with handle, ExitStack() as stack:
            size = os.fstat(handle.fileno()).st_size
            data = stack.enter_context(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)) if size else b""
            yield path, data
    else:
        try:
            source.seek(0)
        except (AttributeError, OSError):  # a stream: read on from where it is
            pass
        data = source.read()
        yield io.BytesIO(data), data


def _jpeg_scan_start(data: bytes | mmap.mmap) -> int | None:
    """Offset of the first start-of-scan marker, walking the marker segments; None if malformed."""
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
        elif marker == 0xDA:
            return at
        elif marker == 0x01 or 0xD0 <= marker <= 0xD8:  # no length field
            at += 2
        else:
            at += 2 + struct.unpack(">H", data[at + 2 : at + 4])[0]
    return None


_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _truncation(kind: ImageKind | None, data: bytes | mmap.mmap) -> str | None:
    """Why the file's structure says it was cut short, or None: checked before any pixel is decoded."""
    size = len(data)
    if kind is None:
        return None
    if kind.format == "JPEG":
        scan = _jpeg_scan_start(data)
        # Entropy-coded data cannot hold FF D9 (an FF there is followed by 00 or a restart marker), so
        # the end-of-image marker after the first scan is the end of the pixels, even with data appended.
        if scan is not None and data.find(b"\xff\xd9", scan) < 0:
            return f"the JPEG ends at byte {size:,} with no end-of-image marker after its scan data"
    elif kind.format == "PNG":
        if data.rfind(_PNG_END) < 0:
            return f"the PNG ends at byte {size:,} with no IEND chunk"
    elif kind.format == "TIFF" and size >= 16:
        order = "<" if data[:2] == b"II" else ">"
        big = data[2:4] in (b"+\x00", b"\x00+")  # BigTIFF: an 8-byte offset at byte 8
        first_ifd = struct.unpack(order + "Q", data[8:16])[0] if big else struct.unpack(order + "I", data[4:8])[0]
        if first_ifd >= size:
            return f"the TIFF's directory is at byte {first_ifd:,}, past its end at {size:,}"
    elif kind.format == "WEBP" and size >= 8:
        declared = struct.unpack("<I", data[4:8])[0] + 8
        if declared > size:
            return f"the WebP declares {declared:,} bytes and has {size:,}"
    return None


def _tiff_data_end(image: Image.Image) -> int:
    """The byte just past the TIFF's last strip or tile, as its directory declares them."""
    tags = image.tag_v2
    ends = [0]
    for offsets_tag, counts_tag in ((273, 279), (324, 325)):  # strips, tiles
        offsets, counts = tags.get(offsets_tag), tags.get(counts_tag)
        if offsets is not None and counts is not None:
            offsets = offsets if isinstance(offsets, tuple) else (offsets,)
            counts = counts if isinstance(counts, tuple) else (counts,)
            ends.extend(offset + count for offset, count in zip(offsets, counts))
    return max(ends)


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:,.1f} MP" if pixels >= 100_000 else f"{pixels:,} pixels"


def _bytes_per_pixel(mode: str) -> float:
    """Decoded bytes per pixel of a Pillow mode ("1" is packed 8 to a byte)."""
    if mode == "1":
        return 1 / 8
    try:
        bands = Image.getmodebands(mode)
    except (KeyError, ValueError):
        return 1.0
    return bands * (2 if mode.startswith("I;16") else 4 if mode in ("I", "F") else 1)


def _judge(image: Image.Image, kind: ImageKind | None, file_size: int, max_pixels: int) -> None:
    """The rules on the header (no pixel decoded yet): budget, structure, plausibility."""
    width, height = image.size
    pixels = width * height
    if pixels > max_pixels:
        raise ImageRejected("too-large", (
            f"{width}x{height} is {_megapixels(pixels)}, over the memory budget of {_megapixels(max_pixels)} "
            f"(max_pixels; raise --max-pixels on a machine with the memory)"), image.size)
    if isinstance(image, TiffImagePlugin.TiffImageFile) and (data_end := _tiff_data_end(image)) > file_size:
        raise ImageRejected("truncated", (
            f"the TIFF's image data runs to byte {data_end:,}, past its end at {file_size:,}"), image.size)
    format = kind.format if kind else (image.format or "?")  # an MPO is a JPEG
    limit = PLAUSIBLE_RATIO.get(format, OTHER_PLAUSIBLE_RATIO)
    ratio = pixels * _bytes_per_pixel(image.mode) / max(file_size, 1)
    if pixels > PLAUSIBILITY_FLOOR and ratio > limit:
        raise ImageRejected("implausible", (
            f"the {format} declares {width}x{height} {image.mode} = {_megapixels(pixels)} in {file_size:,} bytes, "
            f"{ratio:,.0f} decoded bytes per byte of file where a real {format} stays under {limit}: "
            f"a likely decompression bomb, refused at any --max-pixels"), image.size)


def _bomb_refusal(error: Exception, max_pixels: int) -> ImageRejected:
    """Pillow refused the header itself (over twice the budget): the same words as the budget rule."""
    count = re.search(r"\((\d+) pixels\)", str(error))
    pixels = int(count.group(1)) if count else None
    what = _megapixels(pixels) if pixels else "the declared size"
    return ImageRejected("too-large", (
        f"{what} is over the memory budget of {_megapixels(max_pixels)} "
        f"(max_pixels; raise --max-pixels on a machine with the memory)"), pixels=pixels)


def _decode_failure(error: Exception) -> ImageRejected:
    """A failure while decoding the pixels (the header was read): Pillow says when the data ran out."""
    text = f"{type(error).__name__}: {error}"
    if "truncated" in str(error).lower():  # "image file is truncated (N bytes not processed)"
        return ImageRejected("truncated", text)
    return ImageRejected("corrupt", text)


def declared_header(source: ImageSource, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[str | None, tuple[int, int]]:
    """(format, (width, height)) as the header declares them, no pixel decoded and none of the guard's
    rules applied (~0.1 ms): for choosing how to read, count or name a picture, never for trusting it.
    Pillow's cap is at `max_pixels` meanwhile; Pillow's own errors are raised as they are."""
    openable = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    with pillow_pixel_cap(max_pixels), warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(openable) as image:
            return image.format, image.size


@contextmanager
def open_judged(source: ImageSource, max_pixels: int = DEFAULT_MAX_PIXELS) -> Iterator[Image.Image]:
    """The opened image, not decoded, once the guard's rules passed on its header and bytes, inside
    Pillow's cap at the budget: for a reader that decodes the pixels its own way (a large TIFF strip by
    strip with tifffile), and the first step of the decodes below. Use the image inside the block. Any
    refusal as ImageRejected (a missing file as FileNotFoundError)."""
    with _file_bytes(source) as (openable, data), pillow_pixel_cap(max_pixels):
        kind = sniff(bytes(data[:16]))
        cut = _truncation(kind, data)
        if cut:
            raise ImageRejected("truncated", cut)
        try:
            with warnings.catch_warnings():
                # Pillow warns between its cap and twice it; the budget rule below decides instead.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(openable)
        except Image.DecompressionBombError as error:
            raise _bomb_refusal(error, max_pixels) from error
        except Exception as error:  # Pillow raises OSError, SyntaxError, ValueError, struct.error ...
            raise ImageRejected("corrupt", f"{type(error).__name__}: {error}") from error
        _judge(image, kind, len(data), max_pixels)
        yield image


def open_checked(source: ImageSource, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Open and fully decode an image under the guard's rules (too-large, implausible, truncated,
    corrupt). The mode is left as stored; a missing file raises FileNotFoundError as it is."""
    with open_judged(source, max_pixels) as image:
        try:
            image.load()
        except Exception as error:
            raise _decode_failure(error) from error
    return image


# Stored modes Pillow can decode into memory laid out as ours: (Pillow's in-memory layout, bytes a pixel).
_ROW_LAYOUTS = {"L": ("L", 1), "I;16": ("I;16", 2), "RGB": ("RGBX", 4), "RGBA": ("RGBA", 4), "CMYK": ("CMYK", 4)}


@dataclass
class DecodedRows:
    """A decoded picture whose pixels live in a RowMemory: `pixels` is (height, width) for L and 16-bit
    grey, (height, width, 4) for the rest (RGB as Pillow holds it, RGBX); `image` is the Pillow image
    over the same memory (header, info, mode as stored)."""
    image: Image.Image
    pixels: np.ndarray
    memory: RowMemory


def open_checked_in_rows(source: ImageSource, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedRows | Image.Image:
    """open_checked, with the pixels decoded into a RowMemory where the stored mode has a fixed layout
    (8-bit and 16-bit grey, RGB, RGBA, CMYK), so a reader that goes top to bottom hands each band of rows
    back as it finishes with it: Pillow decodes a JPEG or PNG only whole, and a 460 MP RGB scan is 1.8 GB
    decoded. Other modes come back as open_checked's image."""
    with open_judged(source, max_pixels) as image:
        layout = _ROW_LAYOUTS.get(image.mode)
        memory = mapped = None
        if layout is not None:
            memory = RowMemory(image.size[1], image.size[0] * layout[1])
            # Pillow decodes into an image that is already there (ImageFile.load_prepare): ours.
            mapped = image.im = Image.core.map_buffer(memory.buffer, image.size, "raw", 0, (layout[0], 0, 1))
        try:
            image.load()
        except Exception as error:
            raise _decode_failure(error) from error
    if memory is None or image.im is not mapped:  # a plugin that maps the file or converts on load
        return image
    dtype, samples = {1: (np.uint8, 1), 2: (np.dtype("<u2"), 1), 4: (np.uint8, 4)}[layout[1]]
    return DecodedRows(image, memory.array(dtype, image.size[0], samples), memory)


def open_for_working_size(source: ImageSource, size: int, max_pixels: int = DEFAULT_MAX_PIXELS,
                          mode: str | None = None) -> Image.Image:
    """A decoded copy whose longer side is at least `size` pixels, for work that needs only the
    working size (the model's input), under the same rules as open_checked.

    A JPEG decodes at 1/2, 1/4 or 1/8 scale inside the DCT (Image.draft): a 460 MP scan read for a
    512 px working size costs ~7 MP of memory and about a tenth of the time, and `mode="L"` also
    skips the colour channels of a colour JPEG (a JPEG's L is its luma Y, not CIE L). Other formats
    decode in full (mode as stored). The result is loaded, its EXIF orientation not yet applied, and
    `info["full_size"]` holds the stored (width, height) the copy was scaled from."""
    with open_judged(source, max_pixels) as image:
        full_size = image.size
        scale = min(1.0, size / max(full_size))
        wanted = (max(1, math.ceil(full_size[0] * scale)), max(1, math.ceil(full_size[1] * scale)))
        if isinstance(image, JpegImagePlugin.JpegImageFile):
            image.draft(mode, wanted)
        try:
            image.load()
        except Exception as error:
            raise _decode_failure(error) from error
    image.info["full_size"] = full_size
    return image
