"""Is this body an image we accept? Magic bytes first, then the guarded full decode
(safe_files.image_decode), each refusal as the manifest's Invalid status."""

from __future__ import annotations

from dataclasses import dataclass

from safe_files.image_decode import ImageRejected, open_checked, sniff
from scraping.fetch_outcomes import Invalid


@dataclass(frozen=True)
class CheckedImage:
    mime: str
    extension: str
    width: int
    height: int


def check_image(data: bytes, max_pixels: int) -> CheckedImage:
    """Raise Invalid("not-image" | "too-large" | "corrupt") unless `data` decodes fully within the cap."""
    kind = sniff(data[:16])
    if kind is None:
        raise Invalid("not-image", f"unrecognised magic bytes {data[:8]!r}")
    try:
        with open_checked(data, max_pixels=max_pixels) as image:
            width, height = image.size
    except ImageRejected as error:
        raise Invalid(error.reason, error.detail) from error
    return CheckedImage(mime=kind.mime, extension=kind.extension, width=width, height=height)
