"""Colorization metrics: PSNR and SSIM, colourfulness, Zhang's AuC, and hue-family recall.

PSNR and SSIM between 8-bit RGB images, the way colorization papers report them.

PSNR: 10 log10(255^2 / MSE) over all pixels and channels of one image (infinite for identical
images; we cap at 100 dB so averages stay finite). SSIM: Wang et al. 2004 with an 11x11 Gaussian
window (sigma 1.5), K1 = 0.01, K2 = 0.03, L = 255, 'valid' windows only, mean over channels.

Zhang et al.'s AuC: the share of pixels whose predicted ab lies within t of the truth (L2 in ab),
swept over t = 0, 1, ..., 150, and the area under that curve normalised to [0, 1].

"Rebalanced" weighs every pixel by the inverse frequency of its true colour's bin within the
evaluated set, i.e. the curve is averaged per colour bin, so a model that paints everything brown
cannot score well on the rare saturated colours. Counts are kept as integers per (bin, ceil(error)),
so results are exact and mergeable across batches.

Hue-family recall: does the model paint green things green, skies blue, skin and brick warm?

Of the truth's pixels with Lab chroma >= 20, split by hue angle atan2(b, a) into families
warm [-30, 100), green [100, 200), blue [200, 300) and purple [300, 330) degrees, the fraction whose
prediction has chroma >= 8 in the same family. Pooled over every pixel of every image evaluated
(a big sky counts for more than a small one), one figure per family.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from preprocessing.colour.ab_gamut import quantise_ab

PSNR_CAP_DB = 100.0


def psnr_uint8(predicted: torch.Tensor, truth: torch.Tensor) -> float:
    """Two uint8 (or 0..255 valued) images of the same shape -> PSNR in dB."""
    mse = torch.mean((predicted.double() - truth.double()) ** 2).item()
    if mse == 0:
        return PSNR_CAP_DB
    return min(PSNR_CAP_DB, 10.0 * math.log10(255.0**2 / mse))


def _gaussian_kernel(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma * sigma))
    return g / g.sum()


def _blur(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    # The Gaussian window is separable: two 1-D passes instead of one 11x11 pass.
    x = F.conv2d(x, kernel[None, None, None, :])
    return F.conv2d(x, kernel[None, None, :, None])


def ssim_uint8(predicted: torch.Tensor, truth: torch.Tensor) -> float:
    """(3, H, W) 0..255 images -> mean SSIM over channels and windows."""
    x = predicted.float()[:, None]  # channels as a batch of gray images
    y = truth.float()[:, None]
    kernel = _gaussian_kernel().to(x.device, torch.float32)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_x, mu_y = _blur(x, kernel), _blur(y, kernel)
    sigma_x = _blur(x * x, kernel) - mu_x**2
    sigma_y = _blur(y * y, kernel) - mu_y**2
    sigma_xy = _blur(x * y, kernel) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * sigma_xy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (sigma_x + sigma_y + c2))
    return ssim_map.double().mean().item()


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


TRUE_CHROMA_MIN = 20.0
PREDICTED_CHROMA_MIN = 8.0
FAMILIES = {"warm": (-30.0, 100.0), "green": (100.0, 200.0), "blue": (200.0, 300.0), "purple": (300.0, 330.0)}


def hue_family(ab: torch.Tensor) -> torch.Tensor:
    """ab (2, ...) -> family index (...) in FAMILIES order, by hue angle in degrees within [-30, 330)."""
    angle = torch.rad2deg(torch.atan2(ab[1], ab[0]))  # (-180, 180]
    angle = torch.where(angle < -30.0, angle + 360.0, angle)
    family = torch.zeros(angle.shape, dtype=torch.long, device=ab.device)
    for index, (low, _) in enumerate(FAMILIES.values()):
        family = torch.where(angle >= low, torch.full_like(family, index), family)
    return family


class HueRecallAccumulator:
    def __init__(self) -> None:
        self.truth = torch.zeros(len(FAMILIES), dtype=torch.float64)
        self.hits = torch.zeros(len(FAMILIES), dtype=torch.float64)

    def update(self, predicted_ab: torch.Tensor, true_ab: torch.Tensor) -> None:
        """predicted_ab, true_ab: (2, H, W) in Lab units."""
        predicted_ab, true_ab = predicted_ab.float(), true_ab.float()
        coloured = true_ab.norm(dim=0) >= TRUE_CHROMA_MIN
        true_family = hue_family(true_ab)[coloured]
        predicted_family = hue_family(predicted_ab)[coloured]
        predicted_coloured = predicted_ab.norm(dim=0)[coloured] >= PREDICTED_CHROMA_MIN
        hit = predicted_coloured & (predicted_family == true_family)
        self.truth += torch.bincount(true_family, minlength=len(FAMILIES)).double()
        self.hits += torch.bincount(true_family[hit], minlength=len(FAMILIES)).double()

    def result(self) -> dict[str, float | None]:
        """{"recall_warm": ..., "recall_green": ..., ...}; None for a family with no true pixels."""
        return {f"recall_{name}": (float(self.hits[i] / self.truth[i]) if self.truth[i] > 0 else None)
                for i, name in enumerate(FAMILIES)}
