"""One image file -> one small record: validation verdict, pixel fingerprint, colour and pHash.

The record is all that later steps need (the dedup step never opens an image again), and it is
JSON-ready so that parts of records can be written, resumed and read back by any process.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from preprocessing.chroma_statistics import chroma_statistics, small_copy
from preprocessing.colour_filter import DEFAULT_THRESHOLDS, ColourThresholds, colour_rejection
from preprocessing.colourfulness import colourfulness
from preprocessing.image_errors import ImageRejected
from preprocessing.image_validation import ValidationLimits, validate_image
from preprocessing.perceptual_hash import as_hex, phash


@dataclass(frozen=True)
class CleaningSettings:
    limits: ValidationLimits = field(default_factory=ValidationLimits)
    colour: ColourThresholds = field(default_factory=lambda: DEFAULT_THRESHOLDS)
    radius: int = 8  # pHash Hamming radius for near-duplicates


def pixel_sha256(rgb: np.ndarray) -> str:
    """sha256 of the decoded pixels and their shape: a re-encoded or re-tagged copy hashes alike."""
    digest = hashlib.sha256(f"{rgb.shape[1]}x{rgb.shape[0]}:".encode())
    digest.update(np.ascontiguousarray(rgb).tobytes())
    return digest.hexdigest()


def analyse_image(path: str | Path, sha256: str, settings: CleaningSettings = CleaningSettings()) -> dict:
    """Record for one file; `reason` is None for a valid colour photograph."""
    path = Path(path)
    record: dict = {"path": str(path), "sha256": sha256, "bytes": path.stat().st_size, "reason": None, "detail": ""}
    try:
        valid = validate_image(path, settings.limits)
    except ImageRejected as error:
        record.update(reason=error.reason, detail=error.detail)
        return record
    rgb = np.asarray(valid.image)
    small = small_copy(valid.image)
    stats = chroma_statistics(small)
    record.update(
        width=valid.image.width,
        height=valid.image.height,
        source_mode=valid.source_mode,
        source_format=valid.source_format,
        pixel_sha256=pixel_sha256(rgb),
        phash=as_hex(phash(valid.image)),
        colourfulness=round(colourfulness(small), 3),
        chroma=stats.as_dict(),
    )
    reason = colour_rejection(stats, valid.source_mode, settings.colour)
    if reason:
        record.update(reason=reason, detail=f"residual chroma p99 {stats.residual_p99:.1f}, tint {stats.tint_chroma:.1f} at {stats.tint_hue:.0f} deg")
    return record


def settings_from_dict(values: dict) -> CleaningSettings:
    """Inverse of dataclasses.asdict(CleaningSettings): tasks pass settings as plain JSON."""
    colour = dict(values.get("colour", {}))
    if "warm_hue_range" in colour:
        colour["warm_hue_range"] = tuple(colour["warm_hue_range"])
    return CleaningSettings(
        limits=ValidationLimits(**values.get("limits", {})),
        colour=ColourThresholds(**colour),
        radius=values.get("radius", 8),
    )
