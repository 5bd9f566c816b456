"""BatchNorm folded into the convolutions gives the same ab (to 1e-3) with no BatchNorm left to run."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from torch import nn

from inference.colorizer import Colorizer
from inference.model_loading import fold_batchnorm
from training.bundle import load_bundle
from training.model_factory import build_model, generator_config

DEFAULT_BUNDLE = Path(__file__).resolve().parents[2] / "models" / "default"


def _lightness(seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    smooth = torch.nn.functional.interpolate(torch.rand(2, 1, 12, 16, generator=generator), size=(96, 128), mode="bilinear")
    return (smooth * 100).contiguous(memory_format=torch.channels_last)


def _assert_folded_matches(model: nn.Module) -> None:
    model.eval()
    reference = copy.deepcopy(model)
    batch_norms = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert fold_batchnorm(model) == batch_norms > 0
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    with torch.inference_mode():
        for seed in range(2):
            lightness = _lightness(seed)
            expected = reference.predict_ab(lightness)
            assert torch.allclose(model.predict_ab(lightness), expected, atol=1e-3, rtol=0)
            assert expected.abs().max() > 1.0  # a real colour signal, not all zeros


def test_fold_is_exact_on_a_model_with_trained_statistics():
    torch.manual_seed(0)
    model = build_model(generator_config("regression", width=16, depth=3, blocks_per_level=1))
    for module in model.modules():  # statistics and affine parameters far from the identity
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.2, 3.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.3, 0.3)
    _assert_folded_matches(model)


def test_fold_is_exact_on_the_default_model_and_the_colorizer_uses_it():
    if not (DEFAULT_BUNDLE / "weights.pt").is_file():
        pytest.skip("models/default is not in this checkout")
    _assert_folded_matches(load_bundle(DEFAULT_BUNDLE).model)
    colorizer = Colorizer.from_bundle(DEFAULT_BUNDLE)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in colorizer.model.modules())


def test_fold_refuses_a_model_in_training_mode():
    model = build_model(generator_config("regression", width=16, depth=3, blocks_per_level=1)).train()
    with pytest.raises(ValueError, match="eval mode"):
        fold_batchnorm(model)
