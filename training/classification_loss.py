"""Cross-entropy on soft-encoded ab bins, each pixel weighted by the card's rebalancing weight of its
nearest bin (Zhang et al. 2016, eq. 2), so rare saturated colours are not drowned by the gray mode."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from training.soft_encoding import soft_encode


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
