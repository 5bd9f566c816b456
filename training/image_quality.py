"""PSNR and SSIM between 8-bit RGB images, the way colorization papers report them.

PSNR: 10 log10(255^2 / MSE) over all pixels and channels of one image (infinite for identical
images; we cap at 100 dB so averages stay finite). SSIM: Wang et al. 2004 with an 11x11 Gaussian
window (sigma 1.5), K1 = 0.01, K2 = 0.03, L = 255, 'valid' windows only, mean over channels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

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
