"""Lab chroma statistics that tell colour photographs from grayscale, near-gray and toned prints.

A toned monochrome print (sepia, cyanotype, a faded print gone yellow) can have plenty of chroma,
but its colour is a function of lightness alone: one tint curve a(L), b(L). So besides plain chroma
percentiles we measure the *residual* chroma left after subtracting, per lightness band, the median
ab of that band, and the part of that residual perpendicular to the overall tint direction (fading
and uneven toning change a print's saturation, not its hue). A colour photograph has many colours
at one lightness (red roof, green tree), so both stay large; a toned print's collapse to noise.
Statistics are taken on a small copy (long side `STATISTICS_SIDE`): averaging removes grain and
JPEG chroma noise, and makes the cost per image constant.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image

from preprocessing.colour.lab_numpy import srgb_to_lab

STATISTICS_SIDE = 64
L_BANDS = 16  # lightness bands for the tint curve


@dataclass(frozen=True)
class ChromaStatistics:
    chroma_p95: float
    chroma_p99: float
    residual_p99: float  # chroma left after removing the per-lightness tint
    cross_tint_p99: float  # the residual's component perpendicular to the mean tint
    tint_chroma: float  # |mean ab|
    tint_hue: float  # degrees, atan2(b, a) of the mean ab: sepia ~50-90, cyanotype ~-100

    def as_dict(self) -> dict[str, float]:
        return {key: round(float(value), 3) for key, value in asdict(self).items()}


def small_copy(image: Image.Image, side: int = STATISTICS_SIDE) -> np.ndarray:
    """RGB uint8 array with long side <= `side` (box filter: a true average of the pixels)."""
    if max(image.size) > side:
        scale = side / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BOX, reducing_gap=2.0)
    return np.asarray(image.convert("RGB"))


def percentile_rows(rows: np.ndarray, quantiles: tuple[float, ...]) -> np.ndarray:
    """np.percentile(row, q) (linear method) of each row, by one partition of all rows together:
    on a few thousand values np.percentile's own overhead costs more than the work."""
    size = rows.shape[1]
    positions = np.array(quantiles) / 100.0 * (size - 1)
    below = np.floor(positions).astype(np.intp)
    above = np.minimum(below + 1, size - 1)
    part = np.partition(rows, np.unique(np.concatenate([below, above])), axis=1)
    return part[:, below] + (positions - below) * (part[:, above] - part[:, below])


def _tint_curve(values: np.ndarray, band: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Median of `values` within each lightness band (0 for empty bands), all bands from one sort:
    the key band * 512 + value orders by band first (|a|, |b| < 200), then by value."""
    present = np.flatnonzero(counts)
    starts = (np.cumsum(counts) - counts)[present]
    ordered = np.sort(band * 512.0 + values)
    middle = 0.5 * (ordered[starts + (counts[present] - 1) // 2] + ordered[starts + counts[present] // 2])
    curve = np.zeros(len(counts), dtype=np.float32)
    curve[present] = middle - present * 512.0
    return curve


@dataclass(frozen=True)
class ChromaMaps:
    """Per-pixel values (flattened) that the statistics and the classifier's features are taken from."""

    lightness: np.ndarray
    a: np.ndarray
    b: np.ndarray
    chroma: np.ndarray
    residual: np.ndarray  # chroma left after removing the per-lightness tint
    across: np.ndarray  # the residual's component perpendicular to the mean tint
    mean_a: float
    mean_b: float


def chroma_maps(rgb: np.ndarray) -> ChromaMaps:
    """`rgb`: (H, W, 3) uint8 sRGB, ideally a small copy."""
    return chroma_maps_of_lab(srgb_to_lab(rgb))


def chroma_maps_of_lab(lab: np.ndarray) -> ChromaMaps:
    """`lab`: (..., 3) CIE Lab."""
    lab = lab.reshape(-1, 3)
    a, b = np.ascontiguousarray(lab[:, 1]), np.ascontiguousarray(lab[:, 2])
    band = np.minimum((lab[:, 0] * (L_BANDS / 100.0)).astype(np.intp), L_BANDS - 1)
    counts = np.bincount(band, minlength=L_BANDS)
    residual_a = a - _tint_curve(a, band, counts)[band]
    residual_b = b - _tint_curve(b, band, counts)[band]
    mean_a, mean_b = float(a.mean()), float(b.mean())
    tint_chroma = float(np.hypot(mean_a, mean_b))
    along_a, along_b = (mean_a / tint_chroma, mean_b / tint_chroma) if tint_chroma > 1e-6 else (1.0, 0.0)
    return ChromaMaps(
        lightness=np.ascontiguousarray(lab[:, 0]), a=a, b=b, chroma=np.hypot(a, b),
        residual=np.hypot(residual_a, residual_b), across=np.abs(residual_b * along_a - residual_a * along_b),
        mean_a=mean_a, mean_b=mean_b,
    )


def statistics_of(maps: ChromaMaps, percentiles: np.ndarray | None = None) -> ChromaStatistics:
    """`percentiles`: the 95th and 99th percentiles of chroma, residual and across-tint as rows, where
    the caller has them already."""
    if percentiles is None:
        percentiles = percentile_rows(np.stack([maps.chroma, maps.residual, maps.across]), (95, 99))
    (chroma_p95, chroma_p99), (_, residual_p99), (_, cross_tint_p99) = percentiles[:3]
    return ChromaStatistics(
        chroma_p95=float(chroma_p95),
        chroma_p99=float(chroma_p99),
        residual_p99=float(residual_p99),
        cross_tint_p99=float(cross_tint_p99),
        tint_chroma=float(np.hypot(maps.mean_a, maps.mean_b)),
        tint_hue=float(np.degrees(np.arctan2(maps.mean_b, maps.mean_a))),
    )


def chroma_statistics(rgb: np.ndarray) -> ChromaStatistics:
    """`rgb`: (H, W, 3) uint8 sRGB, ideally a small copy."""
    return statistics_of(chroma_maps(rgb))


GRAY_STATISTICS = ChromaStatistics(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)  # what a single-channel image measures
