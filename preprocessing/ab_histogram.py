"""Empirical ab distribution over the quantised gamut, and Zhang's class-rebalancing weights."""

from __future__ import annotations

import numpy as np

from preprocessing.ab_bins import bin_centres, bin_count, quantise_ab

REBALANCE_LAMBDA = 0.5
REBALANCE_SIGMA = 5.0


class AbHistogram:
    """Counts ab pixels per bin; mergeable, so parallel writers can each keep one."""

    def __init__(self, counts: np.ndarray | None = None) -> None:
        self.counts = np.zeros(bin_count(), dtype=np.int64) if counts is None else np.asarray(counts, np.int64)

    def add_ab(self, ab_channels_last: np.ndarray) -> None:
        bins = quantise_ab(ab_channels_last).ravel()
        self.counts += np.bincount(bins, minlength=self.counts.size)

    def merge(self, other: "AbHistogram") -> None:
        self.counts += other.counts

    def probabilities(self) -> np.ndarray:
        total = self.counts.sum()
        if total == 0:
            return np.full(self.counts.size, 1.0 / self.counts.size)
        return self.counts / total


def rebalancing_weights(
    probabilities: np.ndarray, lam: float = REBALANCE_LAMBDA, sigma: float = REBALANCE_SIGMA
) -> np.ndarray:
    """Zhang et al. 2016, eq. 4: w ~ ((1 - lam) * smooth(p) + lam / Q)^-1, normalised so E_smooth(p)[w] = 1.

    The empirical distribution is smoothed with a Gaussian of `sigma` ab units over the bin centres.
    """
    centres = bin_centres().astype(np.float64)
    squared = ((centres[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    kernel = np.exp(-squared / (2.0 * sigma * sigma))
    smoothed = kernel @ np.asarray(probabilities, dtype=np.float64)
    smoothed /= smoothed.sum()
    weights = 1.0 / ((1.0 - lam) * smoothed + lam / smoothed.size)
    weights /= (smoothed * weights).sum()
    return weights
