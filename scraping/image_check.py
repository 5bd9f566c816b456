"""Is this body an image we accept? Magic bytes first, then a full Pillow decode under a pixel cap.

Mirrors preprocessing.images.image_loading.open_checked (same cap, same bomb handling); it is repeated
here, small, because scraping may not import preprocessing (../shared/DESIGN.md layout rules).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image

from scraping.fetch_outcomes import Invalid

# (prefix, offset, mime, extension); WebP and AVIF need a second look below.
_MAGIC = (
    (b"\xff\xd8\xff", 0, "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", ".png"),
    (b"GIF87a", 0, "image/gif", ".gif"),
    (b"GIF89a", 0, "image/gif", ".gif"),
    (b"II*\x00", 0, "image/tiff", ".tif"),
    (b"MM\x00*", 0, "image/tiff", ".tif"),
    (b"BM", 0, "image/bmp", ".bmp"),
)


@dataclass(frozen=True)
class CheckedImage:
    mime: str
    extension: str
    width: int
    height: int


def sniff(data: bytes) -> tuple[str, str] | None:
    """(mime, extension) from the first bytes, or None when they are not a known image format."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", ".webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "image/avif", ".avif"
    for prefix, offset, mime, extension in _MAGIC:
        if data[offset : offset + len(prefix)] == prefix:
            return mime, extension
    return None


def check_image(data: bytes, max_pixels: int) -> CheckedImage:
    """Raise Invalid("not-image" | "too-large" | "corrupt") unless `data` decodes fully within the cap."""
    kind = sniff(data)
    if kind is None:
        raise Invalid("not-image", f"unrecognised magic bytes {data[:8]!r}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise Invalid("too-large", f"{width}x{height} exceeds {max_pixels} pixels")
                image.load()
    except Invalid:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise Invalid("too-large", str(error)) from error
    except Exception as error:  # Pillow raises OSError, SyntaxError, ValueError, struct.error ...
        raise Invalid("corrupt", f"{type(error).__name__}: {error}") from error
    return CheckedImage(mime=kind[0], extension=kind[1], width=width, height=height)
