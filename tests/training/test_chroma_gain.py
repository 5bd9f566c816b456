"""The calibrated chroma gain in a generator's config scales predict_ab and survives a bundle round trip."""

from __future__ import annotations

import torch

from training.bundle import export_bundle, load_bundle
from training.model_factory import build_model, generator_config


def test_chroma_gain_scales_predictions_and_round_trips(tmp_path):
    torch.manual_seed(0)
    plain = build_model(generator_config("regression", width=8, depth=2)).eval()
    config = generator_config("regression", width=8, depth=2, chroma_gain=0.5)
    halved = build_model(config).eval()
    halved.load_state_dict(plain.state_dict())
    lightness = torch.rand(1, 1, 32, 32) * 100
    full = plain.predict_ab(lightness)
    assert full.abs().max() > 0
    torch.testing.assert_close(halved.predict_ab(lightness), full * 0.5)
    bundle = load_bundle(export_bundle(halved, config, {}, {}, tmp_path / "bundle"))
    torch.testing.assert_close(bundle.model.predict_ab(lightness), full * 0.5)
