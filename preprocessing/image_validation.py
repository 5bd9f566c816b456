"""Validation: is this file a usable photograph? A full decode plus size, shape and animation rules.

Everything `image_loading.load_rgb` does (full decode, bomb check, ICC -> sRGB, EXIF orientation,
CMYK / palette / 16-bit / alpha -> RGB) plus the limits below. Animated images (GIF, APNG, WebP)
are rejected: their frames are palette-dithered or video stills, and picking one frame would
silently train on a thumbnail of something else; a single-frame GIF is validated like any image.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from preprocessing.image_errors import ImageRejected
from preprocessing.image_loading import DEFAULT_MAX_PIXELS, ImageSource, open_checked, to_rgb


@dataclass(frozen=True)
class ValidationLimits:
    min_side: int = 64  # shorter side in pixels, after EXIF rotation
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_aspect: float = 4.0  # long side / short side: panoramas and banners are not training crops
    allow_animated: bool = False


@dataclass
class ValidImage:
    image: Image.Image  # 8-bit RGB, sRGB, upright
    source_mode: str  # the stored mode (L, RGB, CMYK, P, I;16 ...), for the colour filter
    source_format: str


def validate_image(path: ImageSource, limits: ValidationLimits = ValidationLimits()) -> ValidImage:
    """Decode and normalise `path`, or raise ImageRejected(reason) with reason one of
    corrupt, too-large, too-small, bad-aspect, animated."""
    stored = open_checked(path, max_pixels=limits.max_pixels)
    if not limits.allow_animated and getattr(stored, "n_frames", 1) > 1:
        raise ImageRejected("animated", f"{stored.format} with {stored.n_frames} frames")
    source_mode, source_format = stored.mode, stored.format or "?"
    try:
        image = to_rgb(stored, in_place=True)
    except Exception as error:  # a broken EXIF block or palette can fail only here
        raise ImageRejected("corrupt", f"{type(error).__name__}: {error}") from error
    width, height = image.size
    if min(width, height) < limits.min_side:
        raise ImageRejected("too-small", f"{width}x{height}, shorter side below {limits.min_side}")
    if max(width, height) / min(width, height) > limits.max_aspect:
        raise ImageRejected("bad-aspect", f"{width}x{height}, aspect above {limits.max_aspect}")
    return ValidImage(image, source_mode, source_format)
