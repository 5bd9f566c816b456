"""The torch join (the GPU path) gives the numba join's picture, checked on CPU tensors; on a CUDA
machine also on the GPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inference.full_res_lab import join_lightness_ab, lightness_of_rgb
from inference.gpu_join import join_lightness_ab_torch, join_on_device
from inference.working_size import working_shape
from preprocessing.images.image_loading import load_rgb
from tests.model_inputs import archive_sample

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _close(a: np.ndarray, b: np.ndarray) -> None:
    difference = np.abs(a.astype(np.int16) - b.astype(np.int16))
    assert a.shape == b.shape and a.dtype == b.dtype == np.uint8
    assert difference.max() <= 1 and np.mean(difference > 0) < 1e-3


@pytest.mark.parametrize("device", DEVICES)
def test_torch_join_matches_numba_join_on_random_out_of_gamut_colours(device):
    generator = torch.Generator().manual_seed(2)
    lightness = (torch.rand(190, 257, generator=generator) * 100).numpy()
    for ab in (torch.rand(2, 48, 64, generator=generator) * 320 - 160, torch.randn(2, 190, 257, generator=generator) * 20):
        expected = join_lightness_ab(lightness, ab)
        on_device = join_lightness_ab_torch(torch.from_numpy(lightness).to(device), ab.to(device))
        assert on_device.device.type == device
        _close(on_device.cpu().numpy(), expected)


@pytest.mark.parametrize("device", DEVICES)
def test_torch_join_matches_numba_join_on_an_archive_photo(device):
    image = load_rgb(archive_sample()[3])
    lightness = lightness_of_rgb(np.asarray(image))
    height, width = working_shape(image.width, image.height)
    y, x = torch.meshgrid(torch.linspace(-1, 1, height), torch.linspace(-1, 1, width), indexing="ij")
    ab = torch.stack([90 * x, 90 * y * x])  # smooth, strong colour: much of it out of gamut
    _close(join_on_device(lightness, ab.to(device)), join_lightness_ab(lightness, ab))


@pytest.mark.parametrize("device", DEVICES)
def test_torch_join_survives_non_finite_ab(device):
    lightness = torch.full((16, 24), 50.0)
    ab = torch.full((2, 4, 6), float("nan"))
    ab[1, :2] = float("inf")
    rgb = join_lightness_ab_torch(lightness.to(device), ab.to(device)).cpu()
    assert rgb.shape == (16, 24, 3) and rgb.dtype == torch.uint8
