"""The guarded decode of an untrusted image: what its first bytes announce, then a full Pillow decode
under a pixel cap. Scraping (downloaded bodies), cleaning and shards (files on disk), inference
(archive members) and the studio (uploads) all decode through here.

Safety: the pixel count is checked from the header before any pixel is decoded (decompression
bombs: Pillow's own warning is raised as an error), and the whole image is decoded, so a truncated
or corrupt file fails here with a reason, not later in a worker.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image

DEFAULT_MAX_PIXELS = 64_000_000  # a 8000 x 8000 scan; bigger is refused as a likely bomb

ImageSource = str | os.PathLike | bytes | BinaryIO


class ImageRejected(Exception):
    """An input that is not a usable image. `reason` is a short code (corrupt, too-large, ...)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


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


def _as_file(source: ImageSource) -> str | BinaryIO:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source))
    if isinstance(source, os.PathLike):
        return os.fspath(source)
    return source


def open_checked(source: ImageSource, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Open and fully decode an image, refusing bombs ("too-large") and corrupt data ("corrupt").
    The mode is left as stored; a missing file raises FileNotFoundError as it is."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(_as_file(source))
            width, height = image.size
            if width * height > max_pixels:
                raise ImageRejected("too-large", f"{width}x{height} exceeds {max_pixels} pixels")
            image.load()
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected("too-large", str(error)) from error
    except FileNotFoundError:
        raise
    except Exception as error:  # Pillow raises OSError, SyntaxError, ValueError, struct.error ...
        raise ImageRejected("corrupt", f"{type(error).__name__}: {error}") from error
    return image
