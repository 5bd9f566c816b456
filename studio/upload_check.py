"""Is an upload a picture we will colorize? Size, then magic bytes, then a real decode under a pixel cap.

The order is cheapest first: the byte count is known before anything is parsed, the magic bytes say
whether it claims to be an image format Pillow reads, and only then is it decoded in full
(safe_files.image_decode.open_checked refuses, before any pixel is allocated, a picture over the
memory budget, a file too small for the pixels it declares, and a truncated one; corrupt data while
decoding). Each refusal carries a sentence for the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from safe_files.image_decode import (
    DEFAULT_MAX_PIXELS,
    ImageRejected,
    open_checked,
    sniff,
)

DEFAULT_MAX_UPLOAD_BYTES = 40 * 1024 * 1024

ACCEPTED_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "BMP", "GIF")


class UploadRefused(Exception):
    """An upload the studio will not colorize; str(error) is the message shown on the page."""

    def __init__(self, reason: str, message: str, status: int = 415) -> None:
        super().__init__(message)
        self.reason = reason  # short code: too-big, not-an-image, too-many-pixels, implausible, corrupt, empty
        self.status = status  # the HTTP status the server answers with


@dataclass(frozen=True)
class CheckedUpload:
    image: Image.Image  # decoded, mode as stored (orientation not yet applied)
    format: str
    width: int
    height: int


def sniff_format(head: bytes) -> str | None:
    """The accepted image format the first bytes announce, or None."""
    kind = sniff(head)
    return kind.format if kind is not None and kind.format in ACCEPTED_FORMATS else None


def size_refusal(byte_count: int, max_bytes: int) -> UploadRefused:
    return UploadRefused(
        "too-big", f"file too large: {byte_count / 1e6:.1f} MB is over the {max_bytes / 1e6:.1f} MB upload limit", 413
    )


def _amount(byte_count: int) -> str:
    return f"{byte_count / 1e6:.1f} MB" if byte_count >= 1e6 else f"{max(1, round(byte_count / 1e3))} KB"


def check_upload(data: bytes, max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES, max_pixels: int = DEFAULT_MAX_PIXELS) -> CheckedUpload:
    """Accept the bytes as an image or raise UploadRefused with the reason."""
    if not data:
        raise UploadRefused("empty", "the file is empty", 400)
    if len(data) > max_bytes:
        raise size_refusal(len(data), max_bytes)
    announced = sniff_format(data[:16])
    if announced is None:
        raise UploadRefused(
            "not-an-image", f"not an image: the file is none of {', '.join(ACCEPTED_FORMATS)} (checked by its first bytes)"
        )
    try:
        image = open_checked(data, max_pixels=max_pixels)
    except ImageRejected as error:
        size, pixels = error.size, error.pixels  # where Pillow refused the header itself, only the count
        what = f"{pixels / 1e6:.0f} megapixels" if pixels else "too many pixels"
        what = f"{size[0]}x{size[1]} is {what}" if size else what
        if error.reason == "too-large":
            raise UploadRefused(
                "too-many-pixels",
                f"too many pixels: {what}, over the studio's {max_pixels / 1e6:g} megapixel memory budget "
                "(tintype studio --max-pixels)",
                413,
            ) from error
        if error.reason == "implausible":
            raise UploadRefused(
                "implausible",
                f"refused as a likely decompression bomb: {what} in only {_amount(len(data))}, "
                f"far more than a real {announced} file of that size holds",
                413,
            ) from error
        # truncated or corrupt: the guard's detail says which
        raise UploadRefused("corrupt", f"the {announced} file cannot be decoded ({error})", 422) from error
    return CheckedUpload(image, announced, image.width, image.height)
