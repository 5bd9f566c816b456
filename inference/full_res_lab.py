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
The same join for tensors already on a GPU is inference/gpu_join.py. A 16-bit master's result is joined
with bits=16: linear light in 2^20 levels and a 16-bit sRGB encode table, so the output's L stays the
original's to within one 16-bit step (a 16-bit RGB master's L is held as 16-bit L codes, L_OF_L_CODE).

A large picture keeps its L as 8- or 16-bit codes (a grey level, or the 16-bit luminance sum) and
looks each strip up in the tables below only when the strip is joined (inference/lightness_strips.py);
`join_rows` joins one horizontal strip with the same taps as the whole picture, so strips meet
without a seam.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from inference.lab_kernels import join_kernel, lightness_kernel, luminance_kernel
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
L_OF_GREY8 = _GREY_LIGHTNESS


def _linear_16bit() -> np.ndarray:
    encoded = np.arange(65536, dtype=np.float64) / 65535.0
    return np.where(encoded <= 0.04045, encoded / 12.92, ((encoded + 0.055) / 1.055) ** 2.4)


# 16-bit grey -> L from all 16 bits (a 16-bit scan's L is not rounded to 8 bits first).
L_OF_GREY16 = _lightness_from_y(_linear_16bit() * float(_Y_WEIGHTS.astype(np.float64).sum()))


def _srgb_encode_table() -> np.ndarray:
    linear = np.linspace(0.0, 1.0, LINEAR_LEVELS + 1)
    encoded = np.where(linear > 0.0031308, 1.055 * np.power(linear, 1 / 2.4) - 0.055, linear * 12.92)
    return np.clip(np.rint(encoded * 255.0), 0, 255).astype(np.uint8)


ENCODE_8BIT = _srgb_encode_table()

# 16-bit outputs: linear light in 2^20 levels (one 16-bit sRGB step in the shadows is 1.2e-6 of linear
# light, a level 9.5e-7), so the join's rounding stays within one 16-bit step of L.
LINEAR_LEVELS_16 = (1 << 20) - 1
# A 16-bit RGB picture's L as a code: L in [0, 100] in 65,536 steps (0.0015 L, finer than one 16-bit
# step of sRGB grey near white), so a large picture keeps it in 2 bytes a pixel like the other codes.
L_CODE_SCALE = 65535.0 / 100.0
L_OF_L_CODE = (np.arange(65536, dtype=np.float64) / L_CODE_SCALE).astype(np.float32)
_LINEAR_16BIT = _linear_16bit().astype(np.float32)


@functools.cache
def encode_16bit_table() -> np.ndarray:
    """Linear light (LINEAR_LEVELS_16 + 1 levels) -> 16-bit sRGB codes; made on first use (2 MB)."""
    linear = np.linspace(0.0, 1.0, LINEAR_LEVELS_16 + 1)
    encoded = np.where(linear > 0.0031308, 1.055 * np.power(linear, 1 / 2.4) - 0.055, linear * 12.92)
    return np.clip(np.rint(encoded * 65535.0), 0, 65535).astype(np.uint16)


def lightness_codes(lightness: np.ndarray) -> np.ndarray:
    """float L (any shape) -> uint16 L codes (L_OF_L_CODE looks them up)."""
    return np.rint(np.clip(lightness, 0.0, 100.0) * L_CODE_SCALE).astype(np.uint16)


def lightness_of_rgb16(rgb: np.ndarray) -> np.ndarray:
    """uint16 (H, W, 3) sRGB -> float32 CIE L from all 16 bits (no 8-bit step), rows at a time."""
    out = np.empty(rgb.shape[:2], dtype=np.float32)
    weights = _Y_WEIGHTS.astype(np.float32)
    for top in range(0, rgb.shape[0], 256):
        block = rgb[top:top + 256]
        y = (_LINEAR_16BIT[block[..., 0]] * weights[0] + _LINEAR_16BIT[block[..., 1]] * weights[1]
             + _LINEAR_16BIT[block[..., 2]] * weights[2])
        out[top:top + 256] = _lightness_from_y(np.clip(y, 0.0, 1.0))
    return out


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


def luminance_codes(rgb: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) sRGB, or (H, W, 4) RGBX as Pillow holds RGB (read in place, the fourth byte
    ignored) -> uint16 (H, W) luminance codes: L_OF_Y16[codes] is lightness_of_rgb(rgb)."""
    height, width, samples = rgb.shape
    out = np.empty(height * width, dtype=np.uint16)
    luminance_kernel(np.ascontiguousarray(rgb, dtype=np.uint8).reshape(-1, samples), Y16_TABLES, out)
    return out.reshape(height, width)


def bilinear_taps(source: int, target: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each of `target` output positions: the two source indices and the weight of the second,
    as torch's bilinear interpolate with align_corners=False samples them (half-pixel centres)."""
    scale = source / target
    position = np.maximum((np.arange(target, dtype=np.float64) + 0.5) * scale - 0.5, 0.0)
    first = position.astype(np.int64)
    second = np.minimum(first + 1, source - 1)
    return first, second, (position - first).astype(np.float32)


def _ab_array(ab: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(ab, torch.Tensor):
        ab = ab.detach().to("cpu", torch.float32).numpy()
    return np.ascontiguousarray(ab, dtype=np.float32)


def join_lightness_ab(lightness: np.ndarray, ab: torch.Tensor | np.ndarray, bits: int = 8) -> np.ndarray:
    """Original L (H, W) + ab (2, h, w) at any size -> uint8 sRGB (H, W, 3), or uint16 with bits=16; L kept."""
    return join_rows(lightness, ab, 0, lightness.shape[0], bits)


def join_rows(lightness: np.ndarray, ab: torch.Tensor | np.ndarray, first_row: int, height: int,
              bits: int = 8) -> np.ndarray:
    """Rows first_row .. first_row + len(lightness) of a picture `height` rows tall: their L + the whole
    picture's ab (2, h, w) -> uint8 sRGB (uint16 with bits=16). The row taps are the whole picture's,
    sliced, and only the ab rows they reach go to the kernel, so a strip costs its own rows and equals
    that slice of the whole join."""
    rows, width = lightness.shape
    ab = _ab_array(ab)
    row0, row1, row_weight = bilinear_taps(ab.shape[1], height)
    row0, row1, row_weight = row0[first_row:first_row + rows], row1[first_row:first_row + rows], row_weight[first_row:first_row + rows]
    top, bottom = int(row0.min()), int(row1.max()) + 1
    col0, col1, col_weight = bilinear_taps(ab.shape[2], width)
    sixteen = bits == 16
    out = np.empty((rows, width, 3), dtype=np.uint16 if sixteen else np.uint8)
    encode, levels = (encode_16bit_table(), LINEAR_LEVELS_16) if sixteen else (ENCODE_8BIT, LINEAR_LEVELS)
    join_kernel(np.ascontiguousarray(lightness, dtype=np.float32), np.ascontiguousarray(ab[:, top:bottom]),
                row0 - top, row1 - top, row_weight, col0, col1, col_weight, RGB_FROM_XYZN, encode, levels, out)
    return out
