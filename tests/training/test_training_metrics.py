"""Metrics, losses and the schedule against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from preprocessing.colour.ab_gamut import bin_centres, quantise_ab
from preprocessing.colour.colourfulness import colourfulness
from training.heads import annealed_mean
from training.losses import rebalanced_cross_entropy, soft_encode
from training.metrics import PSNR_CAP_DB, AbAucAccumulator, psnr_uint8, ssim_uint8
from training.optimisation import warmup_cosine


def test_psnr_hand_computed():
    truth = torch.full((3, 10, 10), 100, dtype=torch.uint8)
    predicted = truth + 5  # MSE = 25
    assert psnr_uint8(predicted, truth) == pytest.approx(10 * math.log10(255**2 / 25))  # 34.1514 dB
    half = truth.clone()
    half[:, :5] += 10  # half the pixels off by 10: MSE = 50
    assert psnr_uint8(half, truth) == pytest.approx(10 * math.log10(255**2 / 50))
    assert psnr_uint8(truth, truth) == PSNR_CAP_DB


def test_colourfulness_hand_computed():
    colour = torch.tensor([200.0, 100.0, 50.0])[:, None, None].expand(3, 4, 4)
    # rg = 100, yb = 150 - 50 = 100 everywhere: no spread, C = 0.3 * sqrt(100^2 + 100^2)
    assert colourfulness(colour) == pytest.approx(0.3 * math.hypot(100, 100))
    gray = torch.full((3, 4, 4), 128.0)
    assert colourfulness(gray) == pytest.approx(0.0)
    mixed = torch.cat([gray, colour], dim=2)  # rg, yb in {0, 100} half each: mean 50, std 50
    assert colourfulness(mixed) == pytest.approx(math.hypot(50, 50) + 0.3 * math.hypot(50, 50))


def test_ssim_matches_scikit_image_and_is_one_for_identity():
    skimage_metrics = pytest.importorskip("skimage.metrics")
    generator = torch.Generator().manual_seed(0)
    truth = torch.randint(0, 256, (3, 40, 50), generator=generator, dtype=torch.uint8)
    noisy = (truth.float() + torch.randn(3, 40, 50, generator=generator) * 25).clamp(0, 255).round().to(torch.uint8)
    expected = skimage_metrics.structural_similarity(
        truth.permute(1, 2, 0).numpy(), noisy.permute(1, 2, 0).numpy(), channel_axis=2, gaussian_weights=True,
        sigma=1.5, use_sample_covariance=False, data_range=255,
    )
    assert ssim_uint8(noisy, truth) == pytest.approx(expected, abs=1e-4)
    assert ssim_uint8(truth, truth) == pytest.approx(1.0)


def test_auc_raw_and_rebalanced_hand_computed():
    # Three pixels: two of true colour (0, 0) with errors 0 and 10, one of true (50, 50) with error 200.
    truth = torch.tensor([[0.0, 0.0, 50.0], [0.0, 0.0, 50.0]])[:, None, :]  # (2, 1, 3)
    predicted = truth.clone()
    predicted[0, 0, 1] += 10.0  # error 10
    predicted[0, 0, 2] += 200.0  # error 200
    accumulator = AbAucAccumulator(len(bin_centres()))
    accumulator.update(predicted, truth)
    result = accumulator.result()
    # Thresholds t = 0..150 (151 of them): error 0 is within all 151, error 10 within 141, error 200 within none.
    assert result["auc"] == pytest.approx((151 + 141 + 0) / (3 * 151))
    # Per bin: bin of (0, 0) scores (151 + 141) / (2 * 151), bin of (50, 50) scores 0; mean of the two.
    assert result["auc_rebalanced"] == pytest.approx(((151 + 141) / (2 * 151) + 0.0) / 2)


def test_soft_encoding_and_annealed_mean():
    centres = torch.from_numpy(bin_centres())
    ab = centres[[0, 100, 200]].T[None, :, :, None]  # (1, 2, 3, 1): exactly on three centres
    targets, nearest = soft_encode(ab, centres)
    assert torch.allclose(targets.sum(dim=1), torch.ones(1, 3, 1))
    assert nearest.flatten().tolist() == [0, 100, 200]
    assert (targets > 0).sum(dim=1).flatten().tolist() == [5, 5, 5]
    assert nearest.flatten().tolist() == quantise_ab(ab[0, :, :, 0].T.numpy()).tolist()
    # A confident distribution decodes to its bin's centre; T -> small sharpens towards the mode.
    logits = torch.full((1, len(centres), 1, 1), -20.0)
    logits[0, 100] = 0.0
    assert torch.allclose(annealed_mean(logits, centres, 0.38)[0, :, 0, 0], centres[100], atol=1e-4)


def test_rebalanced_cross_entropy_weights_pixels():
    centres = torch.from_numpy(bin_centres())
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(2, len(centres), 3, 3, generator=generator)
    ab = torch.randn(2, 2, 3, 3, generator=generator) * 30
    unweighted = rebalanced_cross_entropy(logits, ab, centres, None)
    targets, nearest = soft_encode(ab, centres)
    by_hand = -(targets * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
    assert unweighted.item() == pytest.approx(by_hand.item(), rel=1e-5)
    doubled = rebalanced_cross_entropy(logits, ab, centres, torch.full((len(centres),), 2.0))
    assert doubled.item() == pytest.approx(2 * unweighted.item(), rel=1e-5)


def test_warmup_cosine_schedule():
    assert warmup_cosine(0, 100, 10) == pytest.approx(0.1)
    assert warmup_cosine(9, 100, 10) == pytest.approx(1.0)
    assert warmup_cosine(10, 100, 10) == pytest.approx(1.0)
    assert warmup_cosine(55, 100, 10) == pytest.approx(0.05 + 0.95 * 0.5)
    assert warmup_cosine(100, 100, 10) == pytest.approx(0.05)
    values = [warmup_cosine(s, 100, 10) for s in range(10, 101)]
    assert all(a >= b for a, b in zip(values, values[1:]))


def _ab(a: float, b: float, size: int = 4) -> torch.Tensor:
    return torch.tensor([a, b], dtype=torch.float32)[:, None, None].expand(2, size, size).clone()


def _polar(degrees: float, chroma: float) -> tuple[float, float]:
    return chroma * math.cos(math.radians(degrees)), chroma * math.sin(math.radians(degrees))


def test_hue_family_recall_by_hand():
    from training.metrics import HueRecallAccumulator, hue_family

    angles = torch.tensor([-29.0, -31.0, 99.0, 101.0, 199.0, 250.0, 301.0, 329.0, 331.0])
    ab = torch.stack([torch.cos(torch.deg2rad(angles)), torch.sin(torch.deg2rad(angles))]) * 30
    assert hue_family(ab).tolist() == [0, 3, 0, 1, 1, 2, 3, 3, 0]  # [-30, 330): 331 wraps to -29, warm

    recall = HueRecallAccumulator()
    recall.update(_ab(*_polar(150, 15)), _ab(*_polar(120, 40)))   # green painted green (chroma 15 >= 8): hit
    recall.update(_ab(*_polar(150, 5)), _ab(*_polar(120, 40)))    # green left nearly gray: miss
    recall.update(_ab(*_polar(40, 30)), _ab(*_polar(250, 30)))    # blue painted warm: miss
    recall.update(_ab(*_polar(250, 30)), _ab(*_polar(250, 10)))   # truth too pale (chroma < 20): not counted
    result = recall.result()
    assert result["recall_green"] == pytest.approx(0.5) and result["recall_blue"] == 0.0
    assert result["recall_warm"] is None and result["recall_purple"] is None  # no true pixels of theirs


def test_rebalance_lambda_one_is_plain_cross_entropy(tiny_data):
    from preprocessing.shards.dataset_card import read_card
    from training.losses import class_rebalancing

    card = read_card(tiny_data / "shards")
    assert class_rebalancing(card) == card["rebalancing"]["weights"]
    assert np.allclose(class_rebalancing(card, 1.0), 1.0)
    gentle, card_weights = np.array(class_rebalancing(card, 0.8)), np.array(card["rebalancing"]["weights"])
    assert gentle.max() / gentle.min() < card_weights.max() / card_weights.min()
    with pytest.raises(ValueError, match="rebalance_lambda"):
        class_rebalancing(card, 1.5)
