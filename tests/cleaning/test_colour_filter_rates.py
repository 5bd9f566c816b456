"""The colour filter on the real folders: measured rates asserted (figures in docs/benchmarks.md).

Runs on all of bw-archive and bsds500, on 60 of caltech101's single-channel files and on the
hand-checked sample in colour_labels.csv (557 images, each looked at by a person; 272 of them
caltech101 RGB files). The full caltech101 run is benchmarks/colour_filter_calibration.py. The
thresholds were chosen on the sample's "fit" half (md5 of the path, even); the "holdout" half is
asserted separately so that a change that only fits one half shows.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
from PIL import Image

from preprocessing.image_analysis import analyse_image
from preprocessing.image_inventory import iter_image_files

LABELS = Path(__file__).with_name("colour_labels.csv")
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def _labels() -> dict[str, str]:
    with open(LABELS, encoding="utf-8") as handle:
        return {row["path"]: row["label"] for row in csv.DictReader(l for l in handle if not l.startswith("#"))}


def _half(path: str) -> str:
    return ("fit", "holdout")[int(hashlib.md5(path.encode()).hexdigest(), 16) % 2]


@pytest.fixture(scope="module")
def verdicts() -> dict[str, str | None]:
    """relative path -> drop reason (None: kept as a colour photograph)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real photos not available: {SHARED_DATA} is absent")
    files = list(iter_image_files(SHARED_DATA / "bw-archive")) + list(iter_image_files(SHARED_DATA / "bsds500"))
    single_channel = [p for p in sorted((SHARED_DATA / "caltech101").glob("*/*.jpg"))[::9] if Image.open(p).mode == "L"]
    files += single_channel[:60] + [SHARED_DATA / p for p in _labels()]
    return {str(p.relative_to(SHARED_DATA)): analyse_image(p, "-")["reason"] for p in dict.fromkeys(files)}


def _rate(values: list[bool]) -> float:
    assert values
    return sum(values) / len(values)


def _scores(verdicts: dict[str, str | None], labels: dict[str, str]) -> tuple[float, float, float, float]:
    """(precision, recall) of rejecting monochrome, monochrome rejected, colour kept."""
    monochrome = [verdicts[p] is not None for p, label in labels.items() if label == "monochrome"]
    colour = [verdicts[p] is not None for p, label in labels.items() if label == "colour"]
    precision = sum(monochrome) / (sum(monochrome) + sum(colour))
    return precision, _rate(monochrome), _rate(monochrome), 1 - _rate(colour)


def test_bw_archive_is_rejected(verdicts):
    labels = _labels()
    archive = {p: r for p, r in verdicts.items() if p.startswith("bw-archive/")}
    assert len(archive) == 235  # 236 files, one of them not an image
    monochrome = [r is not None for p, r in archive.items() if labels[p] == "monochrome"]
    assert len(monochrome) == 231  # 4 Faded* files are colourised prints, labelled colour
    assert _rate(monochrome) >= 0.94  # measured: 94.4% (218 of 231); goal 98%, not met
    reasons = {r for r in archive.values() if r}
    assert {"grayscale", "near-gray", "toned-monochrome"} <= reasons


def test_real_colour_photos_are_kept(verdicts):
    bsds = [r is None for p, r in verdicts.items() if p.startswith("bsds500/")]
    assert len(bsds) == 500
    assert _rate(bsds) >= 0.985  # measured: 98.8% (494 of 500); goal 98%


def test_single_channel_caltech_files_are_grayscale(verdicts):
    labels = _labels()
    single = [r for p, r in verdicts.items() if p.startswith("caltech101/") and p not in labels]
    assert len(single) >= 40 and set(single) == {"grayscale"}


def test_precision_and_recall_on_the_hand_checked_sample(verdicts):
    labels = _labels()
    assert len(labels) == 557
    precision, recall, _, colour_kept = _scores(verdicts, labels)
    print(f"hand-checked sample: precision {precision:.3f}, recall {recall:.3f} (positive = monochrome)")
    assert precision >= 0.94 and recall >= 0.83 and colour_kept >= 0.90  # measured: 0.948, 0.842, 0.910
    for half, floor in (("fit", 0.84), ("holdout", 0.83)):  # measured recall: fit 0.848, holdout 0.838
        precision, recall, _, _ = _scores(verdicts, {p: l for p, l in labels.items() if _half(p) == half})
        assert precision >= 0.94 and recall >= floor, half


def test_near_gray_caltech_files_by_eye(verdicts):
    labels = {p: l for p, l in _labels().items() if p.startswith("caltech101/")}
    assert len(labels) == 272
    _, _, monochrome_rejected, colour_kept = _scores(verdicts, labels)
    # measured: 68.9% of the 132 near-gray/monochrome rejected, 90.7% of the 140 colour kept; goal
    # 98% both, not met (silver objects with small coloured parts vs muted colour scenes)
    assert monochrome_rejected >= 0.68 and colour_kept >= 0.90
    holdout = {p: l for p, l in labels.items() if _half(p) == "holdout"}
    _, _, monochrome_rejected, colour_kept = _scores(verdicts, holdout)
    assert monochrome_rejected >= 0.62 and colour_kept >= 0.89  # measured: 63.1%, 90.0%
