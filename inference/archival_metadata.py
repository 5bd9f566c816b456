"""What a colorized copy says about itself: the input's EXIF, IPTC and XMP carried over, plus provenance.

Read and written with pyexiv2 (exiv2: EXIF, IPTC IIM and XMP in JPEG, PNG, TIFF and WebP). Carried:
- EXIF: every standard tag (IFD0, Exif, GPS, interoperability) except those describing the input's
  pixel layout (sizes, strips, tiles, compression, bit depth, thumbnails, embedded blocks); the
  orientation is 1 (the pixels are upright), the pixel dimensions the output's, ColorSpace sRGB and
  Software `tintype (<model version>)`;
- IPTC IIM as it was (WebP holds no IIM: its datasets go to their XMP equivalents there instead);
- XMP as the raw packet (every namespace, structure and language kept), with tiff:Orientation and
  the pixel dimensions corrected where present.
Added, never replacing the user's fields: Iptc4xmpExt:DigitalSourceType =
compositeWithTrainedAlgorithmicMedia (an input's own value, e.g. negativeFilm, moves to
tintype:SourceDigitalSourceType), and in the tintype namespace the tool, the model version and the
sha256 of the original, so a colorized copy can always be traced back to its original and never passed
off as it. The run ledger records the same provenance.

exiv2 is not thread-safe, and the batch encodes in threads: every call holds one lock.
"""

from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import asdict, dataclass, field
from importlib import metadata as package_metadata
from pathlib import Path

import pyexiv2
import tifffile

DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
TINTYPE_NAMESPACE = "https://github.com/tintype/tintype/ns/provenance/1.0/"
_LOCK = threading.Lock()
_FORMATS = {"JPEG", "PNG", "TIFF", "WEBP"}  # what exiv2 writes; BMP has no metadata block
# EXIF tags describing the input file's own pixels or holding other blocks (written separately).
_LAYOUT_TAGS = {f"Exif.Image.{name}" for name in (
    "NewSubfileType", "SubfileType", "ImageWidth", "ImageLength", "BitsPerSample", "Compression",
    "PhotometricInterpretation", "FillOrder", "StripOffsets", "SamplesPerPixel", "RowsPerStrip",
    "StripByteCounts", "PlanarConfiguration", "Predictor", "TileWidth", "TileLength", "TileOffsets",
    "TileByteCounts", "SubIFDs", "ExtraSamples", "SampleFormat", "JPEGInterchangeFormat",
    "JPEGInterchangeFormatLength", "YCbCrCoefficients", "YCbCrSubSampling", "YCbCrPositioning",
    "ExifTag", "GPSTag", "InterColorProfile", "XMLPacket", "IPTCNAA", "ImageResources",
    "JPEGTables", "Orientation", "Software")}
_KEPT_GROUPS = ("Exif.Image.", "Exif.Photo.", "Exif.GPSInfo.", "Exif.Iop.")

pyexiv2.set_log_level(4)  # exiv2's warnings about vendor quirks would drown the run's own log


@dataclass
class Provenance:
    """What the ledger and the output's XMP record about how an output was made."""

    original_sha256: str
    model_version: str
    tool: str = field(default_factory=lambda: f"tintype {_tintype_version()}")
    digital_source_type: str = DIGITAL_SOURCE_TYPE
    content_credentials: bool = False  # a C2PA manifest was signed into the output

    def as_record(self) -> dict:
        return asdict(self)


@dataclass
class ArchivalRecord:
    """The input's metadata as exiv2 read it, and its sha256."""

    sha256: str
    exif: dict = field(default_factory=dict)
    iptc: dict = field(default_factory=dict)
    xmp_packet: str = ""
    notes: list[str] = field(default_factory=list)


def _tintype_version() -> str:
    try:
        return package_metadata.version("tintype")
    except package_metadata.PackageNotFoundError:
        return "unknown"


def read_archival(data: bytes) -> ArchivalRecord:
    """EXIF, IPTC and XMP of an input (bytes), and its sha256; a block exiv2 cannot read is a note."""
    record = ArchivalRecord(hashlib.sha256(data).hexdigest())
    try:
        with _LOCK, pyexiv2.ImageData(data) as image:
            _read_into(record, image)
    except Exception as error:  # BMP, GIF, or a damaged block: the pixels still colorize
        record.notes.append(f"metadata not read ({type(error).__name__}: {error})")
    return record


def read_archival_file(path: Path) -> ArchivalRecord:
    """`read_archival` of a file on disk, hashed and read in place (a large scan is not loaded as bytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    record = ArchivalRecord(digest.hexdigest())
    try:
        with _LOCK, pyexiv2.Image(str(path)) as image:
            _read_into(record, image)
    except Exception as error:
        record.notes.append(f"metadata not read ({type(error).__name__}: {error})")
    return record


def _read_into(record: ArchivalRecord, image) -> None:
    record.exif = {k: v for k, v in image.read_exif().items()
                   if k.startswith(_KEPT_GROUPS) and k not in _LAYOUT_TAGS and not _layout_description(k, v)}
    record.iptc = image.read_iptc()
    record.xmp_packet = image.read_raw_xmp() or ""


def _layout_description(key: str, value) -> bool:
    """tifffile's shape record in ImageDescription ('{"shape": [...]}') describes the input's array only."""
    return key == "Exif.Image.ImageDescription" and isinstance(value, str) and value.startswith('{"shape":')


def _exif_for(record: ArchivalRecord, model_version: str, size: tuple[int, int]) -> dict:
    exif = dict(record.exif)
    exif.update({"Exif.Image.Orientation": "1", "Exif.Image.Software": f"tintype ({model_version})",
                 "Exif.Photo.ColorSpace": "1"})
    if "Exif.Photo.PixelXDimension" in exif or "Exif.Photo.PixelYDimension" in exif:
        exif.update({"Exif.Photo.PixelXDimension": str(size[0]), "Exif.Photo.PixelYDimension": str(size[1])})
    return exif


def _xmp_changes(existing: dict, provenance: Provenance, size: tuple[int, int]) -> dict:
    changes: dict = {}
    if "Xmp.tiff.Orientation" in existing:
        changes["Xmp.tiff.Orientation"] = "1"
    for key, value in (("Xmp.exif.PixelXDimension", size[0]), ("Xmp.exif.PixelYDimension", size[1]),
                       ("Xmp.tiff.ImageWidth", size[0]), ("Xmp.tiff.ImageLength", size[1])):
        if key in existing:
            changes[key] = str(value)
    own = existing.get("Xmp.iptcExt.DigitalSourceType")
    if own and own != provenance.digital_source_type:
        changes["Xmp.tintype.SourceDigitalSourceType"] = own
    changes.update({
        "Xmp.iptcExt.DigitalSourceType": provenance.digital_source_type,
        "Xmp.tintype.Tool": provenance.tool,
        "Xmp.tintype.ModelVersion": provenance.model_version,
        "Xmp.tintype.OriginalSHA256": provenance.original_sha256,
    })
    return changes


def _write(image, record: ArchivalRecord, provenance: Provenance, out_format: str, size: tuple[int, int]) -> list[str]:
    """Everything into an opened pyexiv2 image; returns notes on what could not be carried."""
    notes: list[str] = []
    pyexiv2.registerNs(TINTYPE_NAMESPACE, "tintype")
    exif = _exif_for(record, provenance.model_version, size)
    try:
        image.modify_exif(exif)
    except Exception:  # one odd value must not lose the rest: tag by tag, noting the ones refused
        for key, value in exif.items():
            try:
                image.modify_exif({key: value})
            except Exception:
                notes.append(f"EXIF {key} not carried")
    if record.iptc and out_format != "WEBP":
        image.modify_iptc(record.iptc)
    if record.xmp_packet:
        image.modify_raw_xmp(record.xmp_packet)
    existing = image.read_xmp()
    if record.iptc and out_format == "WEBP":
        mirrored = {k: v for k, v in pyexiv2.convert_iptc_to_xmp(record.iptc).items() if k not in existing}
        image.modify_xmp(mirrored)
    image.modify_xmp(_xmp_changes(existing, provenance, size))
    return notes


def embed_archival(data: bytes, record: ArchivalRecord, provenance: Provenance, out_format: str,
                   size: tuple[int, int]) -> tuple[bytes, list[str]]:
    """An encoded output with the input's metadata and the provenance; (bytes, notes). The ICC profile
    is the pixel writer's (exiv2 keeps it)."""
    if out_format not in _FORMATS:
        return data, [f"{out_format} holds no metadata: EXIF, IPTC, XMP and provenance are in the ledger only"]
    with _LOCK, pyexiv2.ImageData(data) as image:
        notes = _write(image, record, provenance, out_format, size)
        return image.get_bytes(), notes


def embed_archival_file(path: Path, record: ArchivalRecord, provenance: Provenance, out_format: str,
                        size: tuple[int, int]) -> list[str]:
    """`embed_archival` on a file, rewritten in place (exiv2 writes a temporary and renames)."""
    if out_format not in _FORMATS:
        return [f"{out_format} holds no metadata: EXIF, IPTC, XMP and provenance are in the ledger only"]
    with _LOCK, pyexiv2.Image(str(path)) as image:
        return _write(image, record, provenance, out_format, size)


def tiff_archival_tags(record: ArchivalRecord, provenance: Provenance, size: tuple[int, int]) -> list[tuple]:
    """tifffile extratags carrying the XMP packet (700) and IPTC (33723) that `embed_archival` would write,
    for a TIFF written strip by strip (exiv2 would rewrite a multi-gigabyte file in memory, and cannot
    write BigTIFF). exiv2 serialises them into a 1-pixel carrier TIFF, whose two tags are copied."""
    carrier = io.BytesIO()
    tifffile.imwrite(carrier, [[0]], dtype="uint8", metadata=None)
    data, _ = embed_archival(carrier.getvalue(), ArchivalRecord(record.sha256, {}, record.iptc, record.xmp_packet),
                             provenance, "TIFF", size)
    tags = []
    with tifffile.TiffFile(io.BytesIO(data)) as tiff:
        for code in (700, 33723):
            tag = tiff.pages.first.tags.get(code)
            if tag is not None:  # its bytes as stored (IPTC is often typed LONG: copied as bytes, read the same)
                raw = data[tag.valueoffset:tag.valueoffset + tag.valuebytecount]
                tags.append((code, "B", len(raw), raw, True))
    return tags
