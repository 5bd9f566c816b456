"""The measurements the monochrome classifier looks at, from an image's small copy.

Beyond ChromaStatistics' percentiles: how much of the picture carries visible chroma (shares above
4..30 Lab units), whether its chroma lies along one line through neutral (a toned print's ab sit on
one tint axis even where a neutral mount or border breaks the per-lightness tint curve), how
concentrated its hues are, its lightness spread, and the same statistics again on the central 70%
of the frame, where a print's mount, paper edge or a scanner's border does not reach.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from preprocessing.colour.chroma_statistics import (
    ChromaMaps,
    ChromaStatistics,
    chroma_maps_of_lab,
    percentile_rows,
    statistics_of,
)
from preprocessing.colour.colourfulness import colourfulness
from preprocessing.colour.lab_numpy import srgb_to_lab

CHROMA_SHARES = (4, 8, 12, 20, 30)
CENTRE_MARGIN = 0.15  # of each side, cut off for the centre statistics
TINT_CAP = 10.0  # the tint's hue is a feature in proportion to its chroma, up to this

FEATURE_NAMES = (
    "chroma_p90", "chroma_p95", "chroma_p99", "residual_p90", "residual_p95", "residual_p99",
    "off_axis_p90", "off_axis_p95", "off_axis_p99", "cross_tint_p99", "tint_chroma", "colourfulness",
    *(f"share_above_{level}" for level in CHROMA_SHARES),
    "hue_concentration", "hue_axis_concentration", "axis_ratio", "lightness_std", "lightness_mean",
    "tint_cos", "tint_sin",
    "centre_chroma_p95", "centre_chroma_p99", "centre_residual_p99", "centre_cross_tint_p99",
    "centre_tint_chroma", "centre_colourfulness", "centre_tint_cos", "centre_tint_sin",
)
# Heavy-tailed magnitudes enter the classifier as log(1 + x); shares, concentrations, lightness and
# the capped tint vectors are bounded already.
UNLOGGED = frozenset({"hue_concentration", "hue_axis_concentration", "axis_ratio", "lightness_std", "lightness_mean",
                      "tint_cos", "tint_sin", "centre_tint_cos", "centre_tint_sin",
                      *(f"share_above_{level}" for level in CHROMA_SHARES)})
LOGGED = frozenset(FEATURE_NAMES) - UNLOGGED


def _tint_direction(maps: ChromaMaps) -> tuple[float, float]:
    """The mean tint's hue as a vector whose length grows with its chroma (capped): a faint tint's
    hue is noise."""
    chroma = float(np.hypot(maps.mean_a, maps.mean_b))
    if chroma < 1e-6:
        return 0.0, 0.0
    scale = min(chroma, TINT_CAP) / chroma
    return maps.mean_a * scale, maps.mean_b * scale


def _hue_concentration(maps: ChromaMaps) -> tuple[float, float]:
    """Chroma-weighted mean resultant length of the hues (1: one hue) and of the doubled hues (1: hues
    on one axis, e.g. a split-toned print), over pixels with visible chroma."""
    visible = maps.chroma > CHROMA_SHARES[0]
    if np.count_nonzero(visible) < 4:
        return 1.0, 1.0
    weight = maps.chroma[visible]
    cos, sin = maps.a[visible] / weight, maps.b[visible] / weight
    total = float(weight.sum())
    single = float(np.hypot((weight * cos).sum(), (weight * sin).sum())) / total
    cos2, sin2 = cos * cos - sin * sin, 2 * cos * sin
    double = float(np.hypot((weight * cos2).sum(), (weight * sin2).sum())) / total
    return single, double


def _off_axis(maps: ChromaMaps) -> tuple[np.ndarray, float]:
    """Each pixel's distance from the principal ab axis through neutral, and the axes' length ratio."""
    a, b = maps.a, maps.b
    ab, aa, bb = float(np.mean(a * b)), float(np.mean(a * a)), float(np.mean(b * b))
    values, vectors = np.linalg.eigh(np.array([[aa, ab], [ab, bb]]))
    axis = vectors[:, 1]
    ratio = float(np.sqrt(max(values[0], 0.0) / max(values[1], 1e-6)))
    return np.abs(a * axis[1] - b * axis[0]), ratio


@dataclass(frozen=True)
class ColourMeasurements:
    statistics: ChromaStatistics  # stored in the cleaning record
    colourfulness: float  # Hasler-Suesstrunk M, stored in the cleaning record
    features: np.ndarray  # FEATURE_NAMES order, for the classifier


def colour_features(rgb: np.ndarray) -> np.ndarray:
    """`rgb`: (H, W, 3) uint8 small copy (chroma_statistics.small_copy). Values in FEATURE_NAMES order."""
    return measure_colour(rgb).features


def measure_colour(rgb: np.ndarray) -> ColourMeasurements:
    """Everything the cleaning path measures of a small copy's colour, each map computed once."""
    lab = srgb_to_lab(rgb)
    maps = chroma_maps_of_lab(lab)
    off_axis, axis_ratio = _off_axis(maps)
    # one partition for every percentile: rows chroma, residual, across-tint, off-axis at 90/95/99
    quantiles = percentile_rows(np.stack([maps.chroma, maps.residual, maps.across, off_axis]), (90, 95, 99))
    stats = statistics_of(maps, quantiles[:, 1:])
    chroma_q, residual_q, off_axis_q = quantiles[0], quantiles[1], quantiles[3]
    height, width = rgb.shape[:2]
    # at least one pixel of margin, and at least one pixel left however small the picture
    dy = min(max(1, round(height * CENTRE_MARGIN)), (height - 1) // 2)
    dx = min(max(1, round(width * CENTRE_MARGIN)), (width - 1) // 2)
    rows, columns = slice(dy, height - dy), slice(dx, width - dx)
    centre_rgb = rgb[rows, columns]
    centre_maps = chroma_maps_of_lab(np.ascontiguousarray(lab[rows, columns]))
    centre = statistics_of(centre_maps)
    score = colourfulness(rgb)
    values = [
        *chroma_q, *residual_q, *off_axis_q, stats.cross_tint_p99, stats.tint_chroma, score,
        *(float(np.mean(maps.chroma > level)) for level in CHROMA_SHARES),
        *_hue_concentration(maps), axis_ratio, float(maps.lightness.std()), float(maps.lightness.mean()),
        *_tint_direction(maps),
        centre.chroma_p95, centre.chroma_p99, centre.residual_p99, centre.cross_tint_p99, centre.tint_chroma,
        colourfulness(centre_rgb), *_tint_direction(centre_maps),
    ]
    return ColourMeasurements(stats, score, np.array(values, dtype=np.float64))
