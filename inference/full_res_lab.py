"""Full-resolution L from the original pixels, and joining a (smaller) ab back onto that L.

This is the per-pixel hot path at 12 MP, so each direction is one fused pass (inference/lab_kernels.py,
numba, no temporaries) over lookup tables instead of power functions:
- L needs only luminance Y: three 256-entry tables give Y from 8-bit RGB in 16-bit fixed point, a
  65,536-entry Y -> L table gives L (error < 0.02 L units, far below one 8-bit step).
- On the way back, ab is upsampled bilinearly inside the pass (the same sampling as torch's
  `interpolate(..., align_corners=False)`), and out-of-gamut colours are desaturated towards the grey
  of the SAME luminance in linear RGB. Y is linear in RGB, so the output's L stays the original's L
  (up to 8-bit rounding), where a per-channel clip would darken highlights and lift shadows.
  Linear -> 8-bit sRGB is a 65,536-entry table.
The same join for tensors already on a GPU is inference/gpu_join.py.
"""

from __future__ import annotations

import numpy as np
import torch

from inference.lab_kernels import join_kernel, lightness_kernel
from preprocessing.colour.colour_constants import (
    LAB_EPSILON,
    LAB_KAPPA_SLOPE,
    LAB_OFFSET,
    RGB_FROM_XYZ,
    WHITE_D65,
    XYZ_FROM_RGB,
)
from preprocessing.colour.lab_numpy import srgb_to_linear

LINEAR_LEVELS = 65535

_Y_WEIGHTS = (XYZ_FROM_RGB[1] / WHITE_D65[1]).astype(np.float32)
_LINEAR_8BIT = srgb_to_linear(np.arange(256, dtype=np.uint8))
RGB_FROM_XYZN = (RGB_FROM_XYZ * WHITE_D65[None, :]).astype(np.float32)


def _lightness_from_y(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    f = np.where(y > LAB_EPSILON, np.cbrt(y), LAB_KAPPA_SLOPE * y + LAB_OFFSET)
    return (116.0 * f - 16.0).astype(np.float32)


_Y16_SCALE = 65532.0  # leaves room for the three tables' rounding so the sum never wraps
Y16_TABLES = np.stack(
    [np.rint(_LINEAR_8BIT.astype(np.float64) * float(w) * _Y16_SCALE).astype(np.uint16) for w in _Y_WEIGHTS]
)
L_OF_Y16 = _lightness_from_y(np.minimum(np.arange(65536, dtype=np.float64) / _Y16_SCALE, 1.0))
_GREY_LIGHTNESS = _lightness_from_y(_LINEAR_8BIT.astype(np.float64) * float(_Y_WEIGHTS.astype(np.float64).sum()))


def _srgb_encode_table() -> np.ndarray:
    linear = np.linspace(0.0, 1.0, LINEAR_LEVELS + 1)
    encoded = np.where(linear > 0.0031308, 1.055 * np.power(linear, 1 / 2.4) - 0.055, linear * 12.92)
    return np.clip(np.rint(encoded * 255.0), 0, 255).astype(np.uint8)


ENCODE_8BIT = _srgb_encode_table()


def lightness_of_grey(grey: np.ndarray) -> np.ndarray:
    """uint8 (H, W) grey -> float32 CIE L (H, W), exact."""
    return _GREY_LIGHTNESS[grey]


def lightness_of_rgb(rgb: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) sRGB -> float32 CIE L (H, W), what srgb_to_lab(rgb)[..., 0] gives to < 0.02.

    Y is summed in 16-bit fixed point (three uint16 tables whose maxima add up to at most 65535), so
    the whole conversion is four table look-ups and two integer adds per pixel."""
    height, width, _ = rgb.shape
    out = np.empty(height * width, dtype=np.float32)
    lightness_kernel(np.ascontiguousarray(rgb, dtype=np.uint8).reshape(-1, 3), Y16_TABLES, L_OF_Y16, out)
    return out.reshape(height, width)


def bilinear_taps(source: int, target: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each of `target` output positions: the two source indices and the weight of the second,
    as torch's bilinear interpolate with align_corners=False samples them (half-pixel centres)."""
    scale = source / target
    position = np.maximum((np.arange(target, dtype=np.float64) + 0.5) * scale - 0.5, 0.0)
    first = position.astype(np.int64)
    second = np.minimum(first + 1, source - 1)
    return first, second, (position - first).astype(np.float32)


def join_lightness_ab(lightness: np.ndarray, ab: torch.Tensor | np.ndarray) -> np.ndarray:
    """Original L (H, W) + ab (2, h, w) at any size -> uint8 sRGB (H, W, 3), L kept."""
    height, width = lightness.shape
    if isinstance(ab, torch.Tensor):
        ab = ab.detach().to("cpu", torch.float32).numpy()
    ab = np.ascontiguousarray(ab, dtype=np.float32)
    row0, row1, row_weight = bilinear_taps(ab.shape[1], height)
    col0, col1, col_weight = bilinear_taps(ab.shape[2], width)
    out = np.empty((height, width, 3), dtype=np.uint8)
    join_kernel(np.ascontiguousarray(lightness, dtype=np.float32), ab, row0, row1, row_weight, col0, col1, col_weight,
                RGB_FROM_XYZN, ENCODE_8BIT, LINEAR_LEVELS, out)
    return out
