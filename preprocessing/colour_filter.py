"""Decide whether an image is a colour photograph, from its chroma statistics.

Thresholds were calibrated on ../shared/data (bsds500 colour photographs, bw-archive monochrome and
toned prints, caltech101 near-gray files); the measured rates are in docs/benchmarks.md and
asserted by tests/cleaning/test_colour_filter_rates.py. Reasons, in the order they are tested:

- grayscale: stored single-channel, or no pixel with visible chroma (p99 < 2 Lab units);
- near-gray: almost no pixel has visible chroma (p99 < 8, or p95 < 4: a gray object, a JPEG's noise),
  or colour varies with lightness only and the tint is weak;
- toned-monochrome: colour varies with lightness only, around a strong tint (sepia, cyanotype),
  or a warm (sepia-hued) tint whose residual lies along the tint (a faded print).
"""

from __future__ import annotations

from dataclasses import dataclass

from preprocessing.chroma_statistics import ChromaStatistics

SINGLE_CHANNEL_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})


@dataclass(frozen=True)
class ColourThresholds:
    gray_chroma_p99: float = 2.0
    near_gray_chroma_p99: float = 8.0
    near_gray_chroma_p95: float = 4.0
    residual_p99: float = 6.0  # below: colour is a function of lightness
    weak_tint_chroma: float = 4.0  # below: near-gray, above: toned
    warm_hue_range: tuple[float, float] = (0.0, 100.0)  # sepia, brown, yellowed paper
    warm_cross_tint_p99: float = 4.0


DEFAULT_THRESHOLDS = ColourThresholds()


def colour_rejection(
    stats: ChromaStatistics, source_mode: str = "RGB", thresholds: ColourThresholds = DEFAULT_THRESHOLDS
) -> str | None:
    """The reason this is not a colour photograph, or None when it is one."""
    if source_mode in SINGLE_CHANNEL_MODES or stats.chroma_p99 < thresholds.gray_chroma_p99:
        return "grayscale"
    if stats.chroma_p99 < thresholds.near_gray_chroma_p99 or stats.chroma_p95 < thresholds.near_gray_chroma_p95:
        return "near-gray"
    if stats.residual_p99 < thresholds.residual_p99:
        return "near-gray" if stats.tint_chroma < thresholds.weak_tint_chroma else "toned-monochrome"
    low, high = thresholds.warm_hue_range
    if (
        low <= stats.tint_hue <= high
        and stats.tint_chroma >= thresholds.weak_tint_chroma
        and stats.cross_tint_p99 < thresholds.warm_cross_tint_p99
    ):
        return "toned-monochrome"
    return None
