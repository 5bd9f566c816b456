"""What an output keeps of its input: format, EXIF (orientation reset), ICC profile, DPI; plus a tag.

The colorized pixels are already upright (EXIF orientation was applied on decode), so the output's
orientation tag is reset to 1. The model version goes into EXIF Software (and a PNG text chunk) so
any output can be traced to the bundle that made it. A grey-only ICC profile cannot describe an RGB
image and is dropped (the pixels are treated as sRGB either way).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from PIL import Image, PngImagePlugin

EXIF_ORIENTATION = 0x0112
EXIF_SOFTWARE = 0x0131
JPEG_QUALITY = 95
WEBP_QUALITY = 95
PNG_MODEL_KEY = "tintype-model"
OUTPUT_SIDE_LIMITS = {"JPEG": 65_500, "WEBP": 16_383}  # libjpeg's JPEG_MAX_DIMENSION; WebP's 14-bit sides
# Baseline TIFF tags that describe pixel layout (sizes, strips, tiles, compression, sample format).
_PIXEL_LAYOUT_TAGS = {254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 280, 281, 282, 283, 284,
                      290, 291, 296, 317, 320, 322, 323, 324, 325, 338, 339, 340, 341, 513, 514, 530, 531, 532}

# Pillow format -> (output format, file suffix); GIF would palettise the colours away, so PNG.
_OUTPUT_FORMATS = {
    "JPEG": ("JPEG", None),
    "MPO": ("JPEG", None),
    "PNG": ("PNG", None),
    "TIFF": ("TIFF", None),
    "WEBP": ("WEBP", None),
    "BMP": ("BMP", None),
    "GIF": ("PNG", ".png"),
}


@dataclass
class SourceMetadata:
    format: str
    exif: bytes | None = None
    icc_profile: bytes | None = None
    dpi: tuple[float, float] | None = None
    lossless_webp: bool = False
    notes: list[str] = field(default_factory=list)


def capture_metadata(image: Image.Image) -> SourceMetadata:
    """Read what should survive, from an opened (not yet transposed) image."""
    meta = SourceMetadata(format=(image.format or "PNG").upper())
    exif = Image.Exif()  # a copy: the image's own EXIF must keep its orientation for the turn upright
    exif.load(image.getexif().tobytes())
    for tag in _PIXEL_LAYOUT_TAGS & set(exif):
        del exif[tag]  # a TIFF's own layout tags describe the input's pixels, not the output's
    if len(exif):
        exif[EXIF_ORIENTATION] = 1
        meta.exif = exif.tobytes()
    icc = image.info.get("icc_profile")
    if icc:
        if icc[16:20] == b"GRAY":
            meta.notes.append("grey ICC profile dropped (it cannot describe an RGB image)")
        else:
            meta.icc_profile = icc
    dpi = image.info.get("dpi")
    if dpi and min(dpi) > 1:  # TIFFs without a resolution report a meaningless 1 x 1
        meta.dpi = (float(dpi[0]), float(dpi[1]))
    meta.lossless_webp = meta.format == "WEBP" and bool(image.info.get("lossless"))
    return meta


def output_name(relative: str, source_format: str) -> str:
    """The output's relative path: the input's, with the suffix changed only when the format is."""
    _, suffix = _OUTPUT_FORMATS.get(source_format.upper(), ("PNG", ".png"))
    path = PurePosixPath(relative)
    return str(path.with_suffix(suffix)) if suffix and path.suffix.lower() != suffix else relative


def _tagged_exif(meta: SourceMetadata, model_version: str) -> bytes:
    exif = Image.Exif()
    if meta.exif:
        exif.load(meta.exif)
    exif[EXIF_ORIENTATION] = 1
    exif[EXIF_SOFTWARE] = f"tintype ({model_version})"
    return exif.tobytes()


def output_format(meta: SourceMetadata) -> str:
    """The format an output is written in: the input's, or PNG for those without colour (GIF) or unknown."""
    return _OUTPUT_FORMATS.get(meta.format, ("PNG", ".png"))[0]


class OutputTooLarge(ValueError):
    """A picture larger than its output format can hold."""


def check_output_size(out_format: str, width: int, height: int) -> None:
    """Refuse, before any work, a picture wider or taller than its output format allows (JPEG: 65,500
    pixels a side in libjpeg; WebP: 16,383). An output has its input's format, so a picture that was
    decoded from that format fits; this is the clear error should one not."""
    limit = OUTPUT_SIDE_LIMITS.get(out_format)
    if limit and max(width, height) > limit:
        raise OutputTooLarge(f"{width}x{height} is over {out_format}'s limit of {limit:,} pixels a side; "
                             f"save the input as TIFF or PNG to colorize it at full size")


def encode_image(rgb: Image.Image, meta: SourceMetadata, model_version: str) -> bytes:
    """Encode an RGB result in the input's format with its metadata and the model tag."""
    buffer = io.BytesIO()
    save_image(rgb, meta, model_version, buffer)
    return buffer.getvalue()


def save_image(rgb: Image.Image, meta: SourceMetadata, model_version: str, target: str | Path | BinaryIO) -> None:
    """`encode_image` into a file or path, so a large output never exists as bytes in memory as well."""
    out_format = output_format(meta)
    check_output_size(out_format, *rgb.size)
    if rgb.mode != "RGB" and out_format != "JPEG":  # a large picture comes as RGBX (inference/strip_output.py)
        rgb = rgb.convert("RGB")
    options: dict = {"exif": _tagged_exif(meta, model_version)}
    if meta.icc_profile:
        options["icc_profile"] = meta.icc_profile
    if meta.dpi:
        options["dpi"] = meta.dpi
    if out_format == "JPEG":
        options.update(quality=JPEG_QUALITY, optimize=False)
    elif out_format == "WEBP":
        options.update(lossless=True) if meta.lossless_webp else options.update(quality=WEBP_QUALITY, method=4)
    elif out_format == "PNG":
        text = PngImagePlugin.PngInfo()
        text.add_text(PNG_MODEL_KEY, model_version)
        options.update(pnginfo=text, compress_level=6)
    elif out_format == "TIFF":
        options.update(compression="tiff_deflate")
    elif out_format == "BMP":
        options.pop("exif")  # BMP has no metadata block
        options.pop("icc_profile", None)
    rgb.save(target, format=out_format, **options)
