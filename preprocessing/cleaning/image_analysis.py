"""One image file -> one small record: validation verdict, pixel fingerprint, colour and pHash.

The record is all that later steps need (the dedup step never opens an image again), and it is
JSON-ready so that parts of records can be written, resumed and read back by any process.

Cost per image (this is the cleaning step's hot path): one full decode (validation needs it), one
copy of the decoded pixels (`tobytes`, hashed as is), and one integer-factor box reduction
(`Image.reduce`) shared by the pHash input and the colour statistics' 64 px copy. Single-channel
files skip the Lab statistics: they are gray by construction (all chroma 0).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from preprocessing.cleaning.colour_features import measure_colour
from preprocessing.cleaning.colour_filter import (
    DEFAULT_THRESHOLDS,
    SINGLE_CHANNEL_MODES,
    ColourThresholds,
    colour_rejection,
    monochrome_threshold,
    shipped_classifier,
)
from preprocessing.cleaning.perceptual_hash import as_hex, phash
from preprocessing.colour.chroma_statistics import (
    GRAY_STATISTICS,
    STATISTICS_SIDE,
    ChromaStatistics,
    small_copy,
)
from preprocessing.images.image_loading import ValidationLimits, validate_image
from safe_files import data_root_storage as storage
from safe_files.image_decode import ImageRejected


@dataclass(frozen=True)
class CleaningSettings:
    """What the cleaning step keeps: valid photographs, in colour, one of each near-duplicate cluster."""

    limits: ValidationLimits = field(default_factory=ValidationLimits, metadata={"description": "Which decoded images are usable photographs."})
    colour: ColourThresholds = field(default_factory=lambda: DEFAULT_THRESHOLDS, metadata={"description": "When a picture counts as monochrome."})
    radius: int = field(default=8, metadata={"description": "pHash Hamming radius of a near-duplicate."})


def pixel_sha256(rgb: np.ndarray | Image.Image) -> str:
    """sha256 of the decoded RGB pixels and their shape: a re-encoded or re-tagged copy hashes alike.

    Given a Pillow image, its rows are hashed as Pillow packs them (same digest as its array)."""
    if isinstance(rgb, Image.Image):
        digest = hashlib.sha256(f"{rgb.width}x{rgb.height}:".encode())
        for chunk in packed_pixel_chunks(rgb):
            digest.update(chunk)
    else:
        digest = hashlib.sha256(f"{rgb.shape[1]}x{rgb.shape[0]}:".encode())
        digest.update(memoryview(np.ascontiguousarray(rgb)).cast("B"))
    return digest.hexdigest()


def packed_pixel_chunks(image: Image.Image) -> Iterator[bytes]:
    """The bytes `image.tobytes()` would return, in the chunks Pillow's raw packer makes, without
    joining them into one more full-size copy (the hashing path's largest avoidable cost after the
    decode). Uses Pillow's raw encoder as `tobytes` does; any other Pillow falls back to `tobytes`."""
    try:
        encoder = Image._getencoder(image.mode, "raw", image.mode)
        encoder.setimage(image.im, (0, 0, *image.size))
    except (AttributeError, TypeError):
        yield image.tobytes()
        return
    try:
        block = max(65536, image.width * 4)  # tobytes' own chunk size
        while True:
            _, status, chunk = encoder.encode(block)
            yield chunk
            if status:
                break
        if status < 0:
            raise RuntimeError(f"Pillow raw encoder error {status}")
    finally:
        encoder.cleanup()


def shared_reduction(image: Image.Image, side: int = STATISTICS_SIDE) -> Image.Image:
    """Box-average by the largest integer factor that keeps the shorter side >= `side` (>= 2x pHash's
    32 px input): one cheap reduction that both the pHash and the colour statistics start from."""
    factor = max(1, min(image.size) // side)
    return image.reduce(factor) if factor > 1 else image


def analyse_image(path: str | Path, sha256: str, settings: CleaningSettings = CleaningSettings()) -> dict:
    """Record for one file; `reason` is None for a valid colour photograph."""
    if storage.is_remote(path):  # an object in a bucket: one GET (a missing one raises StorageRefused, an OSError)
        data = storage.read_bytes(path)
        record: dict = {"path": str(path), "sha256": sha256, "bytes": len(data), "reason": None, "detail": ""}
    else:
        path = Path(path)
        record = {"path": str(path), "sha256": sha256, "bytes": path.stat().st_size, "reason": None, "detail": ""}
        try:
            # One read: decoding from memory skips the file object's many small reads (the planning step
            # has just hashed these bytes, so they come from the page cache).
            data = path.read_bytes()
        except FileNotFoundError:
            raise
        except OSError as error:  # unreadable: as open_checked reports it
            record.update(reason="corrupt", detail=f"{type(error).__name__}: {error}")
            return record
    try:
        valid = validate_image(io.BytesIO(data), settings.limits)
    except ImageRejected as error:
        record.update(reason=error.reason, detail=error.detail)
        return record
    reduced = shared_reduction(valid.image)
    single_channel = valid.source_mode in SINGLE_CHANNEL_MODES
    if single_channel:
        stats, score, monochrome = GRAY_STATISTICS, 0.0, None
    else:
        measured = measure_colour(small_copy(reduced))
        stats, score = measured.statistics, measured.colourfulness
        monochrome = float(shipped_classifier().score(measured.features))
    record.update(
        width=valid.image.width,
        height=valid.image.height,
        source_mode=valid.source_mode,
        source_format=valid.source_format,
        pixel_sha256=pixel_sha256(valid.image),
        phash=as_hex(phash(reduced)),
        colourfulness=round(score, 3),
        chroma=stats.as_dict(),
        monochrome_score=None if monochrome is None else round(monochrome, 3),
    )
    record.update(colour_verdict(record, settings.colour))
    return record


COLOUR_REASONS = frozenset({"grayscale", "near-gray", "toned-monochrome"})


def colour_verdict(record: dict, thresholds: ColourThresholds = DEFAULT_THRESHOLDS) -> dict:
    """{reason, detail} of a valid image's record from its stored measurements: the cleaning's
    decision step calls this again, so that a changed threshold applies without a second analysis."""
    stats = ChromaStatistics(**record["chroma"])
    score = record.get("monochrome_score")
    reason = colour_rejection(stats, -np.inf if score is None else score, record["source_mode"], thresholds)
    if reason is None:
        return {"reason": None, "detail": ""}
    if score is None:
        return {"reason": reason, "detail": f"stored single-channel ({record['source_mode']})"}
    return {"reason": reason, "detail": (
        f"monochrome score {score:.2f} (threshold {monochrome_threshold(thresholds):.2f}), chroma p99 "
        f"{stats.chroma_p99:.1f}, colourfulness {record['colourfulness']:.1f}, residual chroma p99 "
        f"{stats.residual_p99:.1f}, tint {stats.tint_chroma:.1f} at {stats.tint_hue:.0f} deg")}
    return record


def verdict_under(record: dict, thresholds: ColourThresholds) -> dict:
    """The record with its colour verdict re-derived under `thresholds`; a drop for another reason
    (corrupt, too small, ...) stands."""
    if record["reason"] is None or record["reason"] in COLOUR_REASONS:
        return {**record, **colour_verdict(record, thresholds)}
    return record

