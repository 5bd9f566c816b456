"""sRGB <-> CIE Lab in NumPy and torch against scikit-image, and the out-of-gamut rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.color import lab2rgb, rgb2lab

from preprocessing.colour import lab_numpy, lab_torch

SPECIAL = np.array(
    [[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1], [0.5, 0.5, 0.5]],
    dtype=np.float64,
)


@pytest.fixture(scope="module")
def colours() -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.concatenate([SPECIAL, rng.random((20000, 3))])


def test_numpy_rgb_to_lab_matches_skimage(colours):
    expected = rgb2lab(colours[None])[0]
    ours = lab_numpy.srgb_to_lab(colours.astype(np.float32))
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-4)


def test_numpy_uint8_table_path_matches_float_path():
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (1000, 3), dtype=np.uint8)
    np.testing.assert_allclose(
        lab_numpy.srgb_to_lab(pixels), rgb2lab(pixels[None].astype(np.float64) / 255.0)[0], atol=1e-3
    )


def test_numpy_lab_to_rgb_matches_skimage(colours):
    lab = rgb2lab(colours[None])[0]
    expected = lab2rgb(lab[None])[0]
    ours = lab_numpy.lab_to_srgb(lab.astype(np.float32))
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-4)
    np.testing.assert_allclose(ours, colours, rtol=0, atol=1e-4)


def test_known_values():
    lab = lab_numpy.srgb_to_lab(SPECIAL.astype(np.float32))
    np.testing.assert_allclose(lab[0], [0, 0, 0], atol=1e-4)
    np.testing.assert_allclose(lab[1], [100, 0, 0], atol=1e-2)  # the sRGB matrix's white is D65 to 5 digits
    np.testing.assert_allclose(lab[2], [53.2408, 80.0925, 67.2032], atol=1e-2)  # sRGB red


def test_torch_matches_numpy_and_skimage(colours):
    image = torch.tensor(colours.T.reshape(1, 3, -1, 1), dtype=torch.float64)
    lab = lab_torch.srgb_to_lab(image)[0, :, :, 0].T.numpy()
    np.testing.assert_allclose(lab, rgb2lab(colours[None])[0], rtol=0, atol=1e-4)
    back = lab_torch.lab_to_srgb(lab_torch.srgb_to_lab(image))
    np.testing.assert_allclose(back.numpy(), image.numpy(), atol=1e-4)


def test_torch_batched_float32_and_differentiable():
    rgb = torch.rand(4, 3, 8, 8, dtype=torch.float32, requires_grad=True)
    rgb.data[0, :, 0, 0] = 0.0  # black: the linear branch of both piecewise functions
    lab = lab_torch.srgb_to_lab(rgb)
    assert lab.shape == (4, 3, 8, 8) and lab.dtype == torch.float32
    lab.sum().backward()
    assert torch.isfinite(rgb.grad).all()
    ab = torch.zeros(2, 2, 8, 8, requires_grad=True)
    out = lab_torch.l_ab_to_srgb(torch.full((2, 1, 8, 8), 50.0), ab)
    out.sum().backward()
    assert torch.isfinite(ab.grad).all()


def test_out_of_gamut_is_clipped_in_linear_rgb_and_flagged():
    impossible = np.array([[50.0, 127.0, -127.0], [90.0, -120.0, 120.0]], dtype=np.float32)
    assert lab_numpy.out_of_gamut_mask(impossible).all()
    clipped = lab_numpy.lab_to_srgb(impossible)
    assert clipped.min() >= 0.0 and clipped.max() <= 1.0
    unclipped = lab_numpy.lab_to_srgb(impossible, clip=False)
    assert np.nanmin(unclipped) < 0.0 or np.nanmax(unclipped) > 1.0
    in_gamut = lab_numpy.srgb_to_lab(np.array([[0.2, 0.5, 0.7]], dtype=np.float32))
    assert not lab_numpy.out_of_gamut_mask(in_gamut).any()
    torch_clipped = lab_torch.lab_to_srgb(torch.tensor(impossible.T.reshape(1, 3, 2, 1)))
    np.testing.assert_allclose(torch_clipped[0, :, :, 0].T.numpy(), clipped, atol=1e-4)
