"""The bundle folder: exported atomically, loaded back into an identical model."""

from __future__ import annotations

import json

import pytest
import torch

from preprocessing.shards.dataset_card import read_card
from training.bundle import export_bundle, load_bundle
from training.model_factory import build_model, generator_config


@pytest.mark.parametrize("kind", ["regression", "classification"])
def test_round_trip(tiny_data, tmp_path, kind):
    card = read_card(tiny_data / "shards")
    config = generator_config(kind, card, width=8, depth=2, attention=True)
    model = build_model(config).eval()
    out = export_bundle(model, config, card, {"psnr": 21.5}, tmp_path / "bundle")
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "dataset.json", "metrics.json", "version.txt", "weights.pt"]
    assert torch.load(out / "weights.pt", weights_only=True)  # tensors only
    loaded = load_bundle(out)
    assert loaded.version.startswith(f"tintype-{kind}-") and len(loaded.version) == len(f"tintype-{kind}-") + 12
    assert loaded.config["kind"] == kind and loaded.card["ab_bins"]["count"] == card["ab_bins"]["count"]
    assert loaded.metrics["psnr"] == 21.5 and not loaded.model.training
    lightness = torch.rand(1, 1, 32, 48) * 100
    assert torch.equal(loaded.model.predict_ab(lightness), model.predict_ab(lightness))
    assert loaded.model.predict_ab(lightness, temperature=0.2).shape == (1, 2, 32, 48)


def test_re_export_replaces_whole_folder_and_leaves_no_temporaries(tiny_data, tmp_path):
    card = read_card(tiny_data / "shards")
    config = generator_config("regression", card, width=8, depth=2)
    first = export_bundle(build_model(config), config, card, {}, tmp_path / "bundle")
    version_one = (first / "version.txt").read_text()
    export_bundle(build_model(config), config, card, {"step": 2}, tmp_path / "bundle")
    assert (tmp_path / "bundle" / "version.txt").read_text() != version_one
    assert json.loads((tmp_path / "bundle" / "metrics.json").read_text())["step"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["bundle"]


def test_incomplete_bundle_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="weights.pt"):
        load_bundle(tmp_path)
