"""L1 or Huber loss on ab, measured in ab / AB_MAX units so the GAN's lambda = 100 means what it
means in pix2pix (images in [-1, 1])."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from preprocessing.colour_constants import AB_MAX


def ab_regression_loss(predicted_ab: torch.Tensor, true_ab: torch.Tensor, kind: str = "l1", huber_delta: float = 0.05) -> torch.Tensor:
    predicted, target = predicted_ab.float() / AB_MAX, true_ab.float() / AB_MAX
    if kind == "l1":
        return F.l1_loss(predicted, target)
    if kind == "huber":
        return F.huber_loss(predicted, target, delta=huber_delta)
    raise ValueError(f"unknown regression loss {kind!r}; known: l1, huber")
