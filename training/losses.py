"""The training losses: soft-encoded rebalanced cross-entropy (Zhang et al.), L1/Huber regression, and the GAN's.

Zhang et al.'s soft encoding of a ground-truth ab value over the quantised bins: its 5 nearest
bin centres, weighted by a Gaussian (sigma = 5 ab units) of the distance, normalised to sum to 1.

Cross-entropy on soft-encoded ab bins, each pixel weighted by the card's rebalancing weight of its
nearest bin (Zhang et al. 2016, eq. 2), so rare saturated colours are not drowned by the gray mode.

L1 or Huber loss on ab, measured in ab / AB_MAX units so the GAN's lambda = 100 means what it
means in pix2pix (images in [-1, 1]).

Non-saturating GAN losses (binary cross-entropy on logits), averaged over the discriminator's scales.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from preprocessing.colour.ab_gamut import AbHistogram, rebalancing_weights
from preprocessing.colour.colour_constants import AB_MAX

NEIGHBOURS = 5
SIGMA = 5.0


def soft_encode(ab: torch.Tensor, centres: torch.Tensor, neighbours: int = NEIGHBOURS, sigma: float = SIGMA) -> tuple[torch.Tensor, torch.Tensor]:
    """ab (N, 2, h, w), centres (Q, 2) -> soft targets (N, Q, h, w) and the nearest bin (N, h, w)."""
    n, _, h, w = ab.shape
    points = ab.float().permute(0, 2, 3, 1).reshape(-1, 2)
    distances = torch.cdist(points, centres.float())  # (P, Q)
    nearest_distances, nearest = distances.topk(neighbours, dim=1, largest=False)
    weights = torch.exp(-(nearest_distances**2) / (2 * sigma * sigma))
    weights = weights / weights.sum(dim=1, keepdim=True)
    targets = torch.zeros_like(distances).scatter_(1, nearest, weights)
    targets = targets.reshape(n, h, w, -1).permute(0, 3, 1, 2)
    return targets, nearest[:, 0].reshape(n, h, w)


def class_rebalancing(card: dict, rebalance_lambda: float | None = None) -> list[float]:
    """The card's rebalancing weights, or weights recomputed from its ab histogram with another lambda
    (larger: gentler; 1.0: plain cross-entropy)."""
    if rebalance_lambda is None:
        return list(card["rebalancing"]["weights"])
    if not 0.0 <= rebalance_lambda <= 1.0:
        raise ValueError(f"rebalance_lambda must be within [0, 1], got {rebalance_lambda}")
    histogram = AbHistogram(np.asarray(card["ab_histogram"]["counts"], dtype=np.float64))
    return rebalancing_weights(histogram.probabilities(), lam=rebalance_lambda).tolist()


def rebalanced_cross_entropy(
    logits: torch.Tensor, true_ab: torch.Tensor, centres: torch.Tensor, weights: torch.Tensor | None
) -> torch.Tensor:
    """logits (N, Q, h, w) at 1/4 resolution; true_ab (N, 2, H, W) full resolution, averaged down."""
    if true_ab.shape[-2:] != logits.shape[-2:]:
        true_ab = F.adaptive_avg_pool2d(true_ab.float(), logits.shape[-2:])
    targets, nearest = soft_encode(true_ab, centres)
    per_pixel = -(targets * F.log_softmax(logits.float(), dim=1)).sum(dim=1)  # (N, h, w)
    if weights is not None:
        per_pixel = per_pixel * weights.to(per_pixel.dtype)[nearest]
    return per_pixel.mean()


def ab_regression_loss(predicted_ab: torch.Tensor, true_ab: torch.Tensor, kind: str = "l1", huber_delta: float = 0.05) -> torch.Tensor:
    predicted, target = predicted_ab.float() / AB_MAX, true_ab.float() / AB_MAX
    if kind == "l1":
        return F.l1_loss(predicted, target)
    if kind == "huber":
        return F.huber_loss(predicted, target, delta=huber_delta)
    raise ValueError(f"unknown regression loss {kind!r}; known: l1, huber")


def discriminator_loss(real_logits: list[torch.Tensor], fake_logits: list[torch.Tensor]) -> torch.Tensor:
    losses = [
        F.binary_cross_entropy_with_logits(real.float(), torch.ones_like(real, dtype=torch.float32))
        + F.binary_cross_entropy_with_logits(fake.float(), torch.zeros_like(fake, dtype=torch.float32))
        for real, fake in zip(real_logits, fake_logits)
    ]
    return 0.5 * torch.stack(losses).mean()


def generator_adversarial_loss(fake_logits: list[torch.Tensor]) -> torch.Tensor:
    losses = [F.binary_cross_entropy_with_logits(fake.float(), torch.ones_like(fake, dtype=torch.float32)) for fake in fake_logits]
    return torch.stack(losses).mean()
