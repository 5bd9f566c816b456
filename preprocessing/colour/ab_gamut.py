"""The quantised ab gamut, the empirical ab histogram over it and Zhang's class-rebalancing weights.

The quantised ab gamut: 10-unit grid cells of the ab plane that sRGB colours reach.

Zhang et al. (2016) quantise ab on a 10-unit grid (centres -110..110) and keep the cells that are
"in gamut". We derive that set exactly: every 8-bit sRGB colour on the surface of the RGB cube
(whose ab projection bounds the whole gamut's) is converted to Lab with our constants and rounded
to its nearest grid centre. With sRGB/D65 this gives 261 cells spanning a in [-90, 100] and b in
[-110, 90], the same bounding box as Zhang's published 313-point table; that table keeps 52 more
border cells that no sRGB colour rounds into (its exact rule is unpublished), which would only be
classes with zero mass. Code everywhere uses `bin_count()` rather than a literal.

Empirical ab distribution over the quantised gamut, and Zhang's class-rebalancing weights.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from preprocessing.colour.lab_numpy import srgb_to_lab

GRID_STEP = 10.0
GRID_HALF_EXTENT = 11  # centres at -110 .. 110
GRID_SIDE = 2 * GRID_HALF_EXTENT + 1


def _rgb_cube_surface() -> np.ndarray:
    ramp = np.arange(256, dtype=np.uint8)
    u, v = np.meshgrid(ramp, ramp, indexing="ij")
    faces = []
    for channel in range(3):
        others = [c for c in range(3) if c != channel]
        for value in (0, 255):
            face = np.empty(u.shape + (3,), dtype=np.uint8)
            face[..., channel] = value
            face[..., others[0]] = u
            face[..., others[1]] = v
            faces.append(face.reshape(-1, 3))
    return np.concatenate(faces)


@cache
def bin_centres() -> np.ndarray:
    """(Q, 2) float32 ab centres of the in-gamut cells, sorted by (a, b)."""
    ab = srgb_to_lab(_rgb_cube_surface())[:, 1:]
    cells = np.unique(np.rint(ab / GRID_STEP).astype(np.int64), axis=0)
    return (cells * GRID_STEP).astype(np.float32)


def bin_count() -> int:
    return int(bin_centres().shape[0])


@cache
def _grid_to_bin() -> np.ndarray:
    """(GRID_SIDE, GRID_SIDE) table: every grid cell -> index of the nearest in-gamut bin."""
    centres = bin_centres()
    axis = (np.arange(GRID_SIDE) - GRID_HALF_EXTENT) * GRID_STEP
    ga, gb = np.meshgrid(axis, axis, indexing="ij")
    grid = np.stack([ga.ravel(), gb.ravel()], axis=1)
    distances = ((grid[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    return distances.argmin(1).reshape(GRID_SIDE, GRID_SIDE).astype(np.int16)


def quantise_ab(ab: np.ndarray) -> np.ndarray:
    """ab (..., 2) or channels-first (2, ...) is NOT accepted: pass channels-last. -> bin indices (...)."""
    cells = np.rint(np.asarray(ab, dtype=np.float32) / GRID_STEP).astype(np.int64) + GRID_HALF_EXTENT
    np.clip(cells, 0, GRID_SIDE - 1, out=cells)
    return _grid_to_bin()[cells[..., 0], cells[..., 1]]


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
