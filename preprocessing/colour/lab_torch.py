"""sRGB (D65) <-> CIE Lab in torch: batched NCHW, differentiable, on any device and dtype.

Same constants as `lab_numpy` (from `colour_constants`); same out-of-gamut rule (clip linear RGB
to [0, 1] on the way back, unless clip=False). Gradients stay finite everywhere: the power and cube
root branches are fed clamped inputs so the unused side of each `where` never produces NaN.
"""

from __future__ import annotations

import torch

from preprocessing.colour.colour_constants import (
    LAB_EPSILON,
    LAB_F_THRESHOLD,
    LAB_KAPPA_SLOPE,
    LAB_OFFSET,
    RGB_FROM_XYZ,
    SRGB_ENCODED_THRESHOLD,
    SRGB_GAMMA,
    SRGB_LINEAR_THRESHOLD,
    WHITE_D65,
    XYZ_FROM_RGB,
)

_XYZN_FROM_RGB = (XYZ_FROM_RGB / WHITE_D65[:, None]).tolist()
_RGB_FROM_XYZN = (RGB_FROM_XYZ * WHITE_D65[None, :]).tolist()


def _matrix(values: list[list[float]], like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(values, dtype=like.dtype, device=like.device)


def _apply_matrix(matrix: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    # (3, 3) x (N, 3, H, W) over the channel axis.
    return torch.einsum("ij,njhw->nihw", matrix, image)


def srgb_to_linear(rgb: torch.Tensor) -> torch.Tensor:
    high = torch.pow((rgb.clamp(min=SRGB_LINEAR_THRESHOLD) + 0.055) / 1.055, SRGB_GAMMA)
    return torch.where(rgb > SRGB_LINEAR_THRESHOLD, high, rgb / 12.92)


def linear_to_srgb(linear: torch.Tensor) -> torch.Tensor:
    high = 1.055 * torch.pow(linear.clamp(min=SRGB_ENCODED_THRESHOLD), 1.0 / SRGB_GAMMA) - 0.055
    return torch.where(linear > SRGB_ENCODED_THRESHOLD, high, linear * 12.92)


def srgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) sRGB in [0, 1] -> (N, 3, H, W) Lab."""
    xyz = _apply_matrix(_matrix(_XYZN_FROM_RGB, rgb), srgb_to_linear(rgb))
    f = torch.where(
        xyz > LAB_EPSILON,
        torch.pow(xyz.clamp(min=LAB_EPSILON), 1.0 / 3.0),
        LAB_KAPPA_SLOPE * xyz + LAB_OFFSET,
    )
    fx, fy, fz = f[:, 0:1], f[:, 1:2], f[:, 2:3]
    return torch.cat([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], dim=1)


def lab_to_linear(lab: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) Lab -> unclipped linear RGB."""
    fy = (lab[:, 0:1] + 16.0) / 116.0
    fx = fy + lab[:, 1:2] / 500.0
    fz = (fy - lab[:, 2:3] / 200.0).clamp(min=0.0)
    f = torch.cat([fx, fy, fz], dim=1)
    xyz = torch.where(f > LAB_F_THRESHOLD, f * f * f, (f - LAB_OFFSET) / LAB_KAPPA_SLOPE)
    return _apply_matrix(_matrix(_RGB_FROM_XYZN, lab), xyz)


def lab_to_srgb(lab: torch.Tensor, clip: bool = True) -> torch.Tensor:
    """(N, 3, H, W) Lab -> sRGB in [0, 1] (clipped in linear RGB unless clip=False)."""
    linear = lab_to_linear(lab)
    if clip:
        linear = linear.clamp(0.0, 1.0)
    return linear_to_srgb(linear)


def l_ab_to_srgb(lightness: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """L (N, 1, H, W) and ab (N, 2, H, W) -> sRGB (N, 3, H, W): the model's output path."""
    return lab_to_srgb(torch.cat([lightness, ab], dim=1))
