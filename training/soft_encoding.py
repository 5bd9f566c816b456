"""Zhang et al.'s soft encoding of a ground-truth ab value over the quantised bins: its 5 nearest
bin centres, weighted by a Gaussian (sigma = 5 ab units) of the distance, normalised to sum to 1."""

from __future__ import annotations

import torch

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
