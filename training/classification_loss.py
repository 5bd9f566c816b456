"""Cross-entropy on soft-encoded ab bins, each pixel weighted by the card's rebalancing weight of its
nearest bin (Zhang et al. 2016, eq. 2), so rare saturated colours are not drowned by the gray mode."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from preprocessing.ab_histogram import AbHistogram, rebalancing_weights
from training.soft_encoding import soft_encode


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
