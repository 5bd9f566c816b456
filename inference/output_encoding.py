"""What an output keeps of its input: format, bit depth, TIFF compression, metadata, DPI; plus a tag.

The colorized pixels are already upright (EXIF orientation was applied on decode), so the output's
orientation tag is reset to 1. The model version goes into EXIF Software (and a PNG text chunk) so
any output can be traced to the bundle that made it.
Bit depth: a 16-bit input (grey or RGB, TIFF or PNG) gives a 16-bit RGB output (TIFF through tifffile,
PNG through imagecodecs: Pillow holds no 16-bit RGB); the others 8 bits. A TIFF keeps its input's
compression (none, LZW, Deflate; others become Deflate) and predictor. Only the first page of a
multi-page TIFF is colorized, and the SourceMetadata says so in its notes (the ledger records them).
Metadata: where the Colorizer read the input's (`archival`, inference/archival_metadata.py), EXIF,
IPTC, XMP and the provenance are written by exiv2 after the pixels; without a record (a bare encode)
EXIF goes through Pillow as before. Every output but a BMP carries an ICC profile, written with the
pixels: sRGB's, or the input's own where that is sRGB (inference/colour_profiles.py), since the joined
pixels are sRGB whatever the input's profile was.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import imagecodecs
import numpy as np
import tifffile
from PIL import Image, PngImagePlugin

from inference.archival_metadata import (
    ArchivalRecord,
    Provenance,
    embed_archival,
    embed_archival_file,
)
from inference.colour_profiles import output_profile
from inference.content_credentials import SigningCredentials, sign_bytes, sign_file

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
    bits: int = 8  # 16: a 16-bit input, written as 16-bit RGB
    compression: str | None = None  # a TIFF's, as Pillow names it (raw, tiff_lzw, tiff_adobe_deflate, ...)
    predictor: int = 1  # a TIFF's (2: horizontal differencing)
    archival: ArchivalRecord | None = None  # the input's EXIF/IPTC/XMP and sha256 (set by the Colorizer)
    provenance: Provenance | None = None  # what was added to the last output written from this input
    signing: SigningCredentials | None = None  # C2PA content credentials to sign outputs with (off: None)


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
    meta.bits = 16 if _sixteen_bit(image) else 8
    if meta.format == "TIFF":
        meta.compression = image.info.get("compression")
        meta.predictor = int(getattr(image, "tag_v2", {}).get(317, 1) or 1)
        pages = getattr(image, "n_frames", 1)
        if pages > 1:
            meta.notes.append(f"multi-page TIFF: page 1 of {pages} colorized, the other {pages - 1} not in the output")
    return meta


def _sixteen_bit(image: Image.Image) -> bool:
    """16 bits a sample: Pillow's 16-bit grey modes, or a TIFF declaring 16 (Pillow reads 16-bit RGB as
    8-bit RGB; a PNG's depth the Colorizer reads from its header)."""
    if image.mode.startswith("I;16"):
        return True
    depth = getattr(image, "tag_v2", {}).get(258) if image.format == "TIFF" else None
    depth = depth if isinstance(depth, tuple) else (depth,) if depth else ()
    return bool(depth) and max(depth) == 16


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


# Pillow's TIFF compression names -> what an output of that input is written with (Pillow, tifffile).
_TIFF_COMPRESSION = {"raw": (None, None), "tiff_lzw": ("tiff_lzw", "lzw"),
                     "tiff_adobe_deflate": ("tiff_adobe_deflate", "zlib"), "tiff_deflate": ("tiff_deflate", "deflate")}
_DEFAULT_TIFF_COMPRESSION = ("tiff_deflate", "deflate")  # JPEG-, PackBits-, fax-compressed inputs


def tiff_compression(meta: SourceMetadata) -> tuple[str | None, str | None]:
    """(Pillow's name, tifffile's name) of the compression a TIFF output is written with: the input's."""
    return _TIFF_COMPRESSION.get(meta.compression or "", _DEFAULT_TIFF_COMPRESSION)


Pixels = Image.Image | np.ndarray  # an 8-bit result as a Pillow image, a 16-bit one as uint16 (H, W, 3)


def eight_bit_view(rgb: Pixels) -> Image.Image:
    """An 8-bit image of a result, for previews (a 16-bit result rounded to 8 bits)."""
    if isinstance(rgb, Image.Image):
        return rgb
    return Image.fromarray(((rgb.astype(np.uint32) + 128) // 257).astype(np.uint8))


def pixels_size(rgb: Pixels) -> tuple[int, int]:
    return rgb.size if isinstance(rgb, Image.Image) else (rgb.shape[1], rgb.shape[0])


def encode_image(rgb: Pixels, meta: SourceMetadata, model_version: str) -> bytes:
    """Encode an RGB result in the input's format with its metadata and the model tag."""
    buffer = io.BytesIO()
    save_image(rgb, meta, model_version, buffer)
    return buffer.getvalue()


def save_image(rgb: Pixels, meta: SourceMetadata, model_version: str, target: str | Path | BinaryIO) -> None:
    """`encode_image` into a file or path, so a large output never exists as bytes in memory as well."""
    out_format = output_format(meta)
    size = pixels_size(rgb)
    check_output_size(out_format, *size)
    if meta.archival is None:
        _save_pixels(rgb, meta, model_version, target, out_format)
        return
    provenance = output_provenance(meta, model_version)
    if isinstance(target, (str, Path)):
        _save_pixels(rgb, meta, model_version, target, out_format)
        notes = embed_archival_file(Path(target), meta.archival, provenance, out_format, size)
        if meta.signing:  # last: the signature covers the final bytes
            sign_file(Path(target), out_format, meta.format, provenance, meta.signing)
    else:
        buffer = io.BytesIO()
        _save_pixels(rgb, meta, model_version, buffer, out_format)
        data, notes = embed_archival(buffer.getvalue(), meta.archival, provenance, out_format, size)
        if meta.signing:
            data = sign_bytes(data, out_format, meta.format, provenance, meta.signing)
        target.write(data)
    meta.provenance = provenance
    meta.notes.extend(note for note in notes if note not in meta.notes)


def output_provenance(meta: SourceMetadata, model_version: str) -> Provenance:
    """What an output of this input says of itself (meta.archival must be read)."""
    return Provenance(meta.archival.sha256, model_version, content_credentials=meta.signing is not None)


def _save_pixels(rgb: Pixels, meta: SourceMetadata, model_version: str, target: str | Path | BinaryIO,
                 out_format: str) -> None:
    if isinstance(rgb, np.ndarray):
        _save_sixteen_bit(rgb, meta, model_version, target, out_format)
        return
    if rgb.mode != "RGB" and out_format != "JPEG":  # a large picture comes as RGBX (inference/strip_output.py)
        rgb = rgb.convert("RGB")
    options: dict = {"icc_profile": output_profile(meta.icc_profile)}
    if meta.archival is None:  # a bare encode: Pillow writes the EXIF, as before
        options["exif"] = _tagged_exif(meta, model_version)
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
        options.update(compression=tiff_compression(meta)[0])
    elif out_format == "BMP":
        options.pop("exif", None)  # BMP has no metadata block
        options.pop("icc_profile", None)
    rgb.save(target, format=out_format, **options)


def with_png_profile(png: bytes, icc: bytes) -> bytes:
    """`png` with an iCCP chunk after its IHDR. imagecodecs writes no profile, and exiv2 writes iCCP
    with an empty keyword, which libpng rejects; the chunk is the PNG specification's own layout."""
    body = b"iCCP" + b"ICC profile\0\0" + zlib.compress(icc)
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
    header_end = 8 + 4 + 4 + 13 + 4  # signature, IHDR length, type, 13 data bytes, CRC
    return png[:header_end] + chunk + png[header_end:]


def _save_sixteen_bit(rgb: np.ndarray, meta: SourceMetadata, model_version: str, target: str | Path | BinaryIO,
                      out_format: str) -> None:
    """uint16 RGB: TIFF with tifffile (the input's compression and predictor), PNG with imagecodecs."""
    if out_format == "TIFF":
        compression = tiff_compression(meta)[1]
        options: dict = {"photometric": "rgb", "metadata": None, "software": f"tintype ({model_version})",
                         "compression": compression, "predictor": bool(compression) and meta.predictor == 2}
        if meta.dpi:
            options.update(resolution=meta.dpi, resolutionunit="INCH")
        tifffile.imwrite(target, rgb, iccprofile=output_profile(meta.icc_profile), **options)
        return
    if out_format != "PNG":
        raise ValueError(f"a 16-bit result is written as TIFF or PNG, not {out_format}")
    data = with_png_profile(imagecodecs.png_encode(np.ascontiguousarray(rgb), level=6), output_profile(meta.icc_profile))
    if isinstance(target, (str, Path)):
        Path(target).write_bytes(data)
    else:
        target.write(data)
