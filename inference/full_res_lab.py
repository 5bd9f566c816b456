"""Full-resolution L from the original pixels, and joining a (smaller) ab back onto that L.

This is the per-pixel hot path at 12 MP, so it is NumPy on row strips (cache-sized, bounded memory)
with lookup tables instead of power functions:
- L needs only luminance Y: three 256-entry tables give Y from 8-bit RGB in 16-bit fixed point, a
  65,536-entry Y -> L table gives L (error < 0.02 L units, far below one 8-bit step).
- On the way back, out-of-gamut colours are desaturated towards the grey of the SAME luminance in
  linear RGB. Y is linear in RGB, so the output's L stays the original's L (up to 8-bit rounding),
  where a per-channel clip would darken highlights and lift shadows. Only the (few) out-of-gamut
  pixels pay for it. Linear -> 8-bit sRGB is a 65,536-entry table.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from preprocessing.colour_constants import (
    LAB_EPSILON,
    LAB_F_THRESHOLD,
    LAB_KAPPA_SLOPE,
    LAB_OFFSET,
    RGB_FROM_XYZ,
    WHITE_D65,
    XYZ_FROM_RGB,
)
from preprocessing.lab_numpy import srgb_to_linear

STRIP_PIXELS = 1 << 18
_LINEAR_LEVELS = 65535

_Y_WEIGHTS = (XYZ_FROM_RGB[1] / WHITE_D65[1]).astype(np.float32)
_LINEAR_8BIT = srgb_to_linear(np.arange(256, dtype=np.uint8))
_Y_TABLES = [(_LINEAR_8BIT * weight).astype(np.float32) for weight in _Y_WEIGHTS]
_RGB_FROM_XYZN = (RGB_FROM_XYZ * WHITE_D65[None, :]).astype(np.float32)


def _lightness_from_y(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    f = np.where(y > LAB_EPSILON, np.cbrt(y), LAB_KAPPA_SLOPE * y + LAB_OFFSET)
    return (116.0 * f - 16.0).astype(np.float32)


_Y16_SCALE = 65532.0  # leaves room for the three tables' rounding so the sum never wraps
_Y16_TABLES = [np.rint(_LINEAR_8BIT.astype(np.float64) * float(w) * _Y16_SCALE).astype(np.uint16) for w in _Y_WEIGHTS]
_L_OF_Y16 = _lightness_from_y(np.minimum(np.arange(65536, dtype=np.float64) / _Y16_SCALE, 1.0))
_GREY_LIGHTNESS = _lightness_from_y(_LINEAR_8BIT.astype(np.float64) * float(_Y_WEIGHTS.astype(np.float64).sum()))


def _srgb_encode_table() -> np.ndarray:
    linear = np.linspace(0.0, 1.0, _LINEAR_LEVELS + 1)
    encoded = np.where(linear > 0.0031308, 1.055 * np.power(linear, 1 / 2.4) - 0.055, linear * 12.92)
    return np.clip(np.rint(encoded * 255.0), 0, 255).astype(np.uint8)


_ENCODE_8BIT = _srgb_encode_table()


def lightness_of_grey(grey: np.ndarray) -> np.ndarray:
    """uint8 (H, W) grey -> float32 CIE L (H, W), exact."""
    return _GREY_LIGHTNESS[grey]


def lightness_of_rgb(rgb: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) sRGB -> float32 CIE L (H, W), what srgb_to_lab(rgb)[..., 0] gives to < 0.02.

    Y is summed in 16-bit fixed point (three uint16 tables whose maxima add up to at most 65535), so
    the whole conversion is four table look-ups and two integer adds per pixel."""
    height, width, _ = rgb.shape
    out = np.empty((height, width), dtype=np.float32)
    rows = max(1, STRIP_PIXELS // max(width, 1))
    for top in range(0, height, rows):
        strip = rgb[top : top + rows]
        y = _Y16_TABLES[0][strip[..., 0]]
        y += _Y16_TABLES[1][strip[..., 1]]
        y += _Y16_TABLES[2][strip[..., 2]]
        out[top : top + rows] = _L_OF_Y16[y]
    return out


def _f_inverse(f: np.ndarray) -> np.ndarray:
    cube = f * f
    cube *= f
    small = f <= LAB_F_THRESHOLD
    if small.any():
        cube[small] = (f[small] - LAB_OFFSET) / LAB_KAPPA_SLOPE
    return cube


def _join_strip(lightness: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    fy = (lightness + 16.0) * np.float32(1 / 116.0)
    fx = a * np.float32(1 / 500.0)
    fx += fy
    fz = b * np.float32(-1 / 200.0)
    fz += fy
    np.maximum(fz, 0.0, out=fz)  # negative Z has no physical meaning
    x, y, z = _f_inverse(fx), _f_inverse(fy), _f_inverse(fz)
    channels = []
    for row in _RGB_FROM_XYZN:
        channel = row[0] * x
        channel += row[1] * y
        channel += row[2] * z
        channels.append(channel)
    np.clip(y, 0.0, 1.0, out=y)  # the grey of equal luminance (Y normalised: R = G = B = Y)
    low = np.minimum(np.minimum(channels[0], channels[1]), channels[2])
    high = np.maximum(np.maximum(channels[0], channels[1]), channels[2])
    outside = np.flatnonzero((low < 0.0) | (high > 1.0))
    if outside.size:
        grey, lo, hi = y.ravel()[outside], low.ravel()[outside], high.ravel()[outside]
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.minimum(
                np.where(hi > 1.0, (1.0 - grey) / (hi - grey), 1.0), np.where(lo < 0.0, grey / (grey - lo), 1.0)
            )
        scale = np.nan_to_num(np.clip(scale, 0.0, 1.0), nan=0.0)
        for channel in channels:
            flat = channel.reshape(-1)
            flat[outside] = grey + (flat[outside] - grey) * scale
    for index, channel in enumerate(channels):
        np.clip(channel, 0.0, 1.0, out=channel)
        channel *= _LINEAR_LEVELS
        channel += 0.5
        out[..., index] = _ENCODE_8BIT[channel.astype(np.uint16)]


def upsample_ab(ab: torch.Tensor, height: int, width: int) -> np.ndarray:
    """(2, h, w) ab -> float32 (2, H, W) NumPy, bilinear."""
    if tuple(ab.shape[-2:]) != (height, width):
        ab = F.interpolate(ab[None].float().cpu(), size=(height, width), mode="bilinear", align_corners=False)[0]
    return ab.float().cpu().numpy()


def join_lightness_ab(lightness: np.ndarray, ab: torch.Tensor | np.ndarray) -> np.ndarray:
    """Original L (H, W) + ab (2, h, w) at any size -> uint8 sRGB (H, W, 3), L kept."""
    height, width = lightness.shape
    ab_full = upsample_ab(torch.as_tensor(ab), height, width)
    out = np.empty((height, width, 3), dtype=np.uint8)
    rows = max(1, STRIP_PIXELS // max(width, 1))
    for top in range(0, height, rows):
        rows_slice = slice(top, top + rows)
        _join_strip(lightness[rows_slice], ab_full[0, rows_slice], ab_full[1, rows_slice], out[rows_slice])
    return out
