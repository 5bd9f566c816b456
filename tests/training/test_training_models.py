"""Every generator variant and the discriminator run forward and backward on real Lab batches."""

from __future__ import annotations

import pytest
import torch

from preprocessing.colour.colour_constants import AB_MAX
from preprocessing.shards.dataset_card import read_card
from training.model_factory import build_discriminator, build_model, generator_config
from training.shard_loader import train_loader

VARIANTS = [
    ("regression", {}),
    ("regression", {"upsample": "transposed", "norm": "none", "dropout": 0.2}),
    ("regression", {"attention": True, "global_context": True, "norm": "group"}),
    ("classification", {}),
    ("classification", {"attention": True, "global_context": True, "upsample": "transposed"}),
    ("gan", {"blocks_per_level": 2}),
]


@pytest.fixture(scope="module")
def real_batch(tiny_data):
    card = read_card(tiny_data / "shards")
    lightness, ab = next(iter(train_loader(tiny_data / "shards", card, crop=32, batch_size=4, seed=3, shuffle_buffer=8)))
    return card, lightness, ab


@pytest.mark.parametrize(("kind", "options"), VARIANTS)
def test_generator_forward_backward_and_predict_ab(real_batch, kind, options):
    card, lightness, ab = real_batch
    model = build_model(generator_config(kind, card, width=8, depth=3, **options))
    output = model(lightness)
    if kind == "classification":
        # The card's own bin count (261 with our gamut), at 1/4 resolution.
        assert output.shape == (4, card["ab_bins"]["count"], 8, 8)
    else:
        assert output.shape == (4, 2, 32, 32)
        assert output.abs().max() <= AB_MAX
    output.float().square().mean().backward()
    gradients = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in gradients)
    assert sum(g.abs().sum().item() for g in gradients) > 0

    model.eval()
    for height, width in ((48, 64), (37, 50)):  # multiples of 16, and any other size (padded inside)
        predicted = model.predict_ab(torch.rand(2, 1, height, width) * 100)
        assert predicted.shape == (2, 2, height, width)
        assert torch.isfinite(predicted).all()


def test_classification_temperature_changes_saturation(real_batch):
    card, lightness, _ = real_batch
    torch.manual_seed(0)  # the random head below, the same whatever ran before (it failed when run alone)
    model = build_model(generator_config("classification", card, width=8, depth=2)).eval()
    torch.nn.init.normal_(model.head.conv.weight, std=1.0)  # a non-trivial distribution per pixel
    sharp = model.predict_ab(lightness, temperature=0.1)
    soft = model.predict_ab(lightness, temperature=1.0)
    # The annealed mean moves from the (desaturated) mean towards the mode as T falls.
    assert sharp.norm(dim=1).mean() > soft.norm(dim=1).mean()


def test_multiscale_patch_discriminator(real_batch):
    _, lightness, ab = real_batch
    discriminator = build_discriminator({"width": 8, "layers": 3, "scales": 2})
    scores = discriminator(lightness, ab)
    assert len(scores) == 2 and scores[0].shape[-1] > scores[1].shape[-1]
    torch.stack([s.mean() for s in scores]).sum().backward()
    assert all(p.grad is not None for p in discriminator.parameters())


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match="unknown model kind"):
        build_model({"kind": "diffusion"})
    with pytest.raises(ValueError, match="needs the dataset card"):
        generator_config("classification", None)
    with pytest.raises(TypeError):
        build_model({"kind": "regression", "widht": 8})
