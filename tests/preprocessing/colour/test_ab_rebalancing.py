"""The quantised ab gamut and Zhang's rebalancing weights."""

from __future__ import annotations

import numpy as np

from preprocessing.colour.ab_gamut import (
    AbHistogram,
    bin_centres,
    bin_count,
    quantise_ab,
    rebalancing_weights,
)
from preprocessing.colour.lab_numpy import srgb_to_lab


def test_every_srgb_colour_lands_in_its_own_cell():
    rng = np.random.default_rng(0)
    lab = srgb_to_lab(rng.integers(0, 256, (50000, 3), dtype=np.uint8))
    bins = quantise_ab(lab[:, 1:])
    centres = bin_centres()
    # No 8-bit colour needs the nearest-bin fallback: its own grid cell is in the gamut.
    assert np.abs(centres[bins] - lab[:, 1:]).max() <= 5.0 + 1e-3
    assert centres.shape == (bin_count(), 2)
    assert centres[:, 0].min() == -90 and centres[:, 0].max() == 100
    assert centres[:, 1].min() == -110 and centres[:, 1].max() == 90


def test_weights_favour_rare_colours_and_have_unit_expectation():
    histogram = AbHistogram()
    gray = np.zeros((100, 100, 2), dtype=np.float32)
    red = np.tile(np.array([60.0, 50.0], dtype=np.float32), (5, 5, 1))
    histogram.add_ab(gray)
    histogram.add_ab(red)
    probabilities = histogram.probabilities()
    weights = rebalancing_weights(probabilities)
    gray_bin = quantise_ab(np.zeros((1, 2), np.float32))[0]
    red_bin = quantise_ab(np.array([[60.0, 50.0]], np.float32))[0]
    assert weights[red_bin] > weights[gray_bin]
    far_bin = quantise_ab(np.array([[-80.0, 80.0]], np.float32))[0]
    assert weights[far_bin] >= weights[red_bin]  # unseen colours get the largest weight
    # E over the smoothed distribution is 1 (Zhang eq. 4 normalisation); with lambda = 0.5 the
    # weights are bounded by 1 / (lambda / Q) over the normaliser.
    assert np.all(weights > 0)
    assert weights.max() / weights.min() <= bin_count() * 2
