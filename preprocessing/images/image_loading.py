"""Read any Pillow-readable image as upright 8-bit sRGB, and judge whether it is a usable photograph.

Safety: every read goes through safe_files.image_decode.open_checked (pixel cap from the header,
then a full decode). Normalisation: EXIF orientation applied; CMYK, palette (with transparency), LA/RGBA, 16-bit and
float modes all become RGB. Transparent areas are composited on white, the usual paper colour.
Colour management: an embedded ICC profile (Adobe RGB, ProPhoto, a CMYK press profile ...) is
converted to sRGB with Pillow's ImageCms before anything else, so every stage sees sRGB numbers; a
profile LittleCMS cannot parse is ignored (the pixels are then taken as sRGB, as browsers do).
Animated images: `load_rgb` takes the first frame.

Validation (`validate_image`): everything `load_rgb` does plus size, shape and animation rules. Animated images (GIF, APNG, WebP)
are rejected: their frames are palette-dithered or video stills, and picking one frame would
silently train on a thumbnail of something else; a single-frame GIF is validated like any image.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps

from safe_files import data_root_storage as storage
from safe_files.image_decode import (
    DATASET_MAX_PIXELS,
    ImageRejected,
    ImageSource,
    open_checked,
)


def _high_bit_depth_to_8bit(image: Image.Image) -> Image.Image:
    array = np.asarray(image)
    if image.mode == "F":
        scaled = np.clip(array, 0.0, 1.0) * 255.0 if array.max(initial=0.0) <= 1.0 else np.clip(array, 0, 255)
    else:
        # I;16* and I hold 16-bit scans (PNG/TIFF); wider ranges are rare, so scale by the real peak.
        peak = 65535.0 if array.max(initial=0) <= 65535 else float(array.max())
        scaled = array.astype(np.float64) * (255.0 / peak)
    return Image.fromarray(np.rint(scaled).astype(np.uint8))


def _flatten_alpha(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


_SRGB_PROFILE = ImageCms.createProfile("sRGB")
_ICC_MODES = ("RGB", "CMYK", "L")  # modes converted here; others keep their numbers


def icc_to_srgb(image: Image.Image) -> Image.Image:
    """Convert pixels from the embedded ICC profile to sRGB; images without one are returned as is."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in _ICC_MODES:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = source.profile.xcolor_space.strip()
        if {"L": "GRAY", "RGB": "RGB", "CMYK": "CMYK"}[image.mode] != space:
            return image  # a profile that does not describe these pixels: ignore it
        converted = ImageCms.profileToProfile(image, source, _SRGB_PROFILE, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image
    if image.mode == "L":  # a gray profile only changes the tone curve: gray in, gray out
        converted = converted.convert("L")
    converted.info = {key: value for key, value in image.info.items() if key != "icc_profile"}
    return converted


def to_rgb(image: Image.Image, in_place: bool = False) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB, with the ICC profile converted to sRGB and EXIF orientation applied.

    `in_place`: the caller owns `image` and does not use it afterwards, so the orientation is applied
    to it directly (no full-size copy of every image that needs no rotation)."""
    image = icc_to_srgb(image)
    if in_place:
        ImageOps.exif_transpose(image, in_place=True)
    else:
        image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode.startswith("I") or mode == "F":
        return _high_bit_depth_to_8bit(image).convert("RGB")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info):
        return _flatten_alpha(image)
    if mode != "RGB":
        return image.convert("RGB")
    return image


def load_rgb(source: ImageSource, max_pixels: int = DATASET_MAX_PIXELS) -> Image.Image:
    """Open, check and normalise: the one entry point the stages use to read an image. An object-store
    URL (a photo in a bucket) is read in one GET and decoded from memory."""
    if isinstance(source, str) and storage.is_remote(source):
        source = io.BytesIO(storage.read_bytes(source))
    return to_rgb(open_checked(source, max_pixels=max_pixels), in_place=True)


def read_bytes(path: str | Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


@dataclass(frozen=True)
class ValidationLimits:
    """Which decoded images are usable photographs: size, shape and animation rules."""

    min_side: int = field(default=64, metadata={"description": "A shorter side below this many pixels (after EXIF rotation) is dropped."})
    max_pixels: int = field(default=DATASET_MAX_PIXELS, metadata={"description": "Larger images are refused (too-large): photographs for training, not masters."})
    max_aspect: float = field(default=4.0, metadata={"description": "Long side / short side above this is dropped: panoramas and banners are not training crops."})
    allow_animated: bool = field(default=False, metadata={"description": "Keep animated images (their first frame)."})


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
