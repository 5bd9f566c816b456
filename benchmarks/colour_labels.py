"""The hand-checked colour labels (tests/cleaning/colour_labels*.csv) and the fixed splits of them."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOUNDARY_LABELS = ROOT / "tests" / "cleaning" / "colour_labels.csv"  # low-chroma bands oversampled
UNIFORM_LABELS = ROOT / "tests" / "cleaning" / "colour_labels_uniform.csv"  # caltech101 RGB, uniform
SECOND_UNIFORM_LABELS = ROOT / "tests" / "cleaning" / "colour_labels_uniform_second.csv"  # same files, second rater


def read_labels(path: Path = BOUNDARY_LABELS) -> dict[str, tuple[str, str]]:
    """relative path -> (label, note)."""
    with open(path, encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {row["path"]: (row["label"], row["note"]) for row in rows}


def all_labels() -> dict[str, tuple[str, str]]:
    """Both files; where a path is in both, the boundary file's label (the uniform file copies it)."""
    return {**read_labels(UNIFORM_LABELS), **read_labels(BOUNDARY_LABELS)}


def fold_of(relative_path: str, folds: int) -> int:
    """A fixed split of any sample, independent of its order."""
    return int(hashlib.md5(relative_path.encode()).hexdigest(), 16) % folds


def half_of(relative_path: str) -> str:
    return ("fit", "holdout")[fold_of(relative_path, 2)]


def is_ambiguous(note: str) -> bool:
    return "ambiguous" in note
