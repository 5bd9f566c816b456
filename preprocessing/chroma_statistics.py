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

from preprocessing.lab_numpy import srgb_to_lab

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


def chroma_statistics(rgb: np.ndarray) -> ChromaStatistics:
    """`rgb`: (H, W, 3) uint8 sRGB, ideally a small copy."""
    lab = srgb_to_lab(rgb).reshape(-1, 3)
    lightness, ab = lab[:, 0], lab[:, 1:]
    chroma = np.hypot(ab[:, 0], ab[:, 1])
    band = np.minimum((lightness * (L_BANDS / 100.0)).astype(np.intp), L_BANDS - 1)
    tint_curve = np.zeros((L_BANDS, 2), dtype=np.float32)
    for index in np.unique(band):
        tint_curve[index] = np.median(ab[band == index], axis=0)
    residual = ab - tint_curve[band]
    mean_ab = ab.mean(axis=0)
    tint_chroma = float(np.hypot(*mean_ab))
    direction = mean_ab / tint_chroma if tint_chroma > 1e-6 else np.array([1.0, 0.0], dtype=np.float32)
    across = np.abs(residual @ np.array([-direction[1], direction[0]], dtype=np.float32))
    p95, p99 = np.percentile(chroma, [95, 99])
    return ChromaStatistics(
        chroma_p95=float(p95),
        chroma_p99=float(p99),
        residual_p99=float(np.percentile(np.hypot(residual[:, 0], residual[:, 1]), 99)),
        cross_tint_p99=float(np.percentile(across, 99)),
        tint_chroma=tint_chroma,
        tint_hue=float(np.degrees(np.arctan2(mean_ab[1], mean_ab[0]))),
    )
