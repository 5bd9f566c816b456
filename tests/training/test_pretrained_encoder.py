"""The pretrained-encoder colorizer: the registry package's ImageNet weights load, match their recorded
sha256 and give the network's own numbers from one channel; a frozen encoder trains on real shards and
stays ImageNet's; unfreezing, the lower learning rate and the bundle round trip."""

from __future__ import annotations

import shutil

import pytest
import torch

from preprocessing.images.image_inventory import sha256_file
from preprocessing.shards.dataset_card import read_card
from tests.model_inputs import tiny
from training import pretrained_encoder
from training.bundle import load_bundle
from training.model_factory import build_model, generator_config
from training.pretrained_encoder import (
    PRETRAINED,
    EfficientNetLiteEncoder,
    pretrained_weights_path,
)
from training.train_loop import train


@pytest.mark.parametrize("name", sorted(PRETRAINED))
def test_imagenet_weights_are_the_released_files(name):
    path = pretrained_weights_path(name)
    assert path.is_file() and sha256_file(path) == PRETRAINED[name].sha256
    assert EfficientNetLiteEncoder(name).load_imagenet() == PRETRAINED[name].sha256


def test_a_changed_weights_file_is_refused(tmp_path, monkeypatch):
    tampered = tmp_path / "efficientnet-lite0.pth"
    shutil.copyfile(pretrained_weights_path("efficientnet-lite0"), tampered)
    with open(tampered, "r+b") as handle:
        handle.seek(-100, 2)
        byte = handle.read(1)
        handle.seek(-100, 2)
        handle.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.setattr(pretrained_encoder, "pretrained_weights_path", lambda name: tampered)
    with pytest.raises(ValueError, match="not the released"):
        EfficientNetLiteEncoder("efficientnet-lite0").load_imagenet()


def test_one_channel_stem_gives_the_imagenet_network_s_own_features_on_a_gray_picture():
    """Summing the stem over RGB and feeding L must equal the package's 3-channel network fed R = G = B,
    normalised as it was trained ((x * 255 - 127) / 128)."""
    from efficientnet_lite_pytorch import EfficientNet

    reference = EfficientNet.from_name("efficientnet-lite0", image_size=None)
    reference.load_state_dict(torch.load(pretrained_weights_path("efficientnet-lite0"), weights_only=True))
    reference.eval()
    encoder = EfficientNetLiteEncoder("efficientnet-lite0")
    encoder.load_imagenet()
    encoder.eval()
    lightness = torch.rand(2, 1, 96, 128) * 100
    rgb = ((lightness / 100 * 255 - 127) / 128).expand(-1, 3, -1, -1)
    with torch.no_grad():
        expected = reference.extract_features(rgb)
        features = encoder(lightness)
    assert [f.shape[-1] for f in features] == [64, 32, 16, 8, 4]  # strides 2, 4, 8, 16, 32
    assert [f.shape[1] for f in features] == encoder.channels == [16, 24, 40, 112, 1280]
    assert torch.allclose(features[-1], expected, atol=1e-4)


def test_encoder_model_predicts_any_size_and_records_its_start(tiny_data):
    card = read_card(tiny_data / "shards")
    config = generator_config("classification", card, encoder="efficientnet-lite2", width=8)
    assert "depth" not in config and config["width"] == 8  # the scratch U-Net's knobs are not the decoder's
    model = build_model(config).eval()
    assert model.predict_ab(torch.rand(1, 1, 45, 70) * 100).shape == (1, 2, 45, 70)
    regression = build_model(generator_config("regression", card, encoder="efficientnet-lite0", width=8)).eval()
    assert regression(torch.rand(1, 1, 64, 64) * 100).shape == (1, 2, 64, 64)  # full resolution
    with pytest.raises(ValueError, match="unknown encoder"):
        generator_config("classification", card, encoder="resnet50")


def _encoder_settings(**extra) -> dict:
    settings = tiny(crop=64, short_side_range=[64, 80], **extra)
    settings["model"] = {"encoder": "efficientnet-lite0", "width": 8}
    return settings


def _imagenet_state() -> dict[str, torch.Tensor]:
    encoder = EfficientNetLiteEncoder("efficientnet-lite0")
    encoder.load_imagenet()
    return encoder.state_dict()


def test_a_few_steps_with_the_frozen_encoder_on_real_shards(tiny_data, tmp_path):
    run = tmp_path / "run"
    result = train(tiny_data, run, kind="classification", steps=3, overrides=_encoder_settings(eval_every=3))
    bundle = load_bundle(result.bundle_dir)
    assert bundle.config["encoder"] == "efficientnet-lite0"
    assert bundle.config["encoder_weights"]["sha256"] == PRETRAINED["efficientnet-lite0"].sha256
    imagenet = _imagenet_state()
    trained = bundle.model.encoder.state_dict()
    assert all(torch.equal(trained[key], imagenet[key]) for key in imagenet)  # weights and BN statistics
    assert "recall_green" in result.metrics and "recall_warm" in result.metrics
    # The bundle rebuilds the trained model exactly (config.json + weights.pt, no registry weights needed).
    lightness = torch.rand(1, 1, 50, 70) * 100
    assert torch.equal(bundle.model.predict_ab(lightness), result.model.predict_ab(lightness))


def test_unfrozen_encoder_learns_slower_and_keeps_its_first_blocks_and_statistics(tiny_data, tmp_path):
    settings = _encoder_settings(encoder_frozen_steps=1, encoder_frozen_blocks=2, encoder_lr_scale=0.5)
    result = train(tiny_data, tmp_path / "run", kind="classification", steps=3, overrides=settings)
    imagenet = _imagenet_state()
    trained = result.model.encoder.state_dict()
    unchanged = {key for key in imagenet if torch.equal(trained[key], imagenet[key])}
    assert {k for k in imagenet if k.startswith(("stem.", "blocks.0.", "blocks.1."))} <= unchanged
    assert "blocks.15._project_conv.weight" not in unchanged and "head_conv.weight" not in unchanged
    assert {k for k in imagenet if "running_" in k} <= unchanged  # BatchNorm keeps ImageNet's statistics


def test_resume_refuses_another_encoder(tiny_data, tmp_path):
    run = tmp_path / "run"
    train(tiny_data, run, kind="classification", steps=1, overrides=_encoder_settings(checkpoint_every=1))
    with pytest.raises(ValueError, match="encoder"):
        train(tiny_data, run, kind="classification", steps=1, resume=True,
              overrides={"model": {"encoder": "scratch"}})


def test_a_fine_tune_starts_from_a_bundle_and_records_it(tiny_data, tmp_path):
    first = train(tiny_data, tmp_path / "first", kind="classification", steps=2, overrides=_encoder_settings())
    # lr 0: the fine-tune's parameters are exactly the bundle's, not ImageNet's plus a fresh decoder.
    settings = _encoder_settings(init_from=str(first.bundle_dir), lr=0.0)
    second = train(tiny_data, tmp_path / "second", kind="classification", steps=1, overrides=settings)
    started = dict(first.model.named_parameters())
    assert all(torch.equal(tensor, started[name]) for name, tensor in second.model.named_parameters())
    assert load_bundle(second.bundle_dir).config["started_from"] == (first.bundle_dir / "version.txt").read_text().strip()
    # Another architecture is refused by name before any step.
    wider = _encoder_settings(init_from=str(first.bundle_dir))
    wider["model"]["width"] = 16
    with pytest.raises(ValueError, match="width: bundle 8 vs run 16"):
        train(tiny_data, tmp_path / "third", kind="classification", steps=1, overrides=wider)
    with pytest.raises(FileNotFoundError, match="not a tintype model bundle"):
        train(tiny_data, tmp_path / "fourth", kind="classification", steps=1,
              overrides=_encoder_settings(init_from=str(tmp_path)))
