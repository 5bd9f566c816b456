"""Zhang et al.'s AuC: the share of pixels whose predicted ab lies within t of the truth (L2 in ab),
swept over t = 0, 1, ..., 150, and the area under that curve normalised to [0, 1].

"Rebalanced" weighs every pixel by the inverse frequency of its true colour's bin within the
evaluated set, i.e. the curve is averaged per colour bin, so a model that paints everything brown
cannot score well on the rare saturated colours. Counts are kept as integers per (bin, ceil(error)),
so results are exact and mergeable across batches.
"""

from __future__ import annotations

import numpy as np
import torch

from preprocessing.ab_bins import quantise_ab

MAX_THRESHOLD = 150


class AbAucAccumulator:
    def __init__(self, bin_count: int, max_threshold: int = MAX_THRESHOLD) -> None:
        self.max_threshold = max_threshold
        # column t counts pixels with ceil(error) == t; the last column holds everything beyond max.
        self.counts = np.zeros((bin_count, max_threshold + 2), dtype=np.int64)

    def update(self, predicted_ab: torch.Tensor, true_ab: torch.Tensor) -> None:
        """(2, H, W) or (N, 2, H, W) ab in Lab units."""
        error = torch.linalg.vector_norm(predicted_ab.double() - true_ab.double(), dim=-3)
        columns = torch.ceil(error - 1e-9).clamp(0, self.max_threshold + 1).long().cpu().numpy().ravel()
        channels_last = torch.movedim(true_ab, -3, -1).cpu().numpy()
        bins = quantise_ab(channels_last).astype(np.int64).ravel()
        flat = bins * self.counts.shape[1] + columns
        self.counts += np.bincount(flat, minlength=self.counts.size).reshape(self.counts.shape)

    def curves(self) -> tuple[np.ndarray, np.ndarray]:
        """-> (raw curve, rebalanced curve), each of length max_threshold + 1."""
        within = np.cumsum(self.counts, axis=1)[:, : self.max_threshold + 1]  # (Q, T): count with error <= t
        per_bin_total = self.counts.sum(axis=1)
        raw = within.sum(axis=0) / max(per_bin_total.sum(), 1)
        present = per_bin_total > 0
        if not present.any():
            return raw, raw
        rebalanced = (within[present] / per_bin_total[present, None]).mean(axis=0)
        return raw, rebalanced

    def result(self) -> dict[str, float]:
        raw, rebalanced = self.curves()
        return {"auc": float(raw.mean()), "auc_rebalanced": float(rebalanced.mean())}
