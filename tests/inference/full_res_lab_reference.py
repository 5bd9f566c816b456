"""The strip-wise NumPy implementation the numba kernels replaced (inference/full_res_lab.py before
commit "fused Lab kernels"), kept as the reference the kernels are tested against. Not used at run time."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from inference.full_res_lab import (
    ENCODE_8BIT,
    L_OF_Y16,
    LINEAR_LEVELS,
    RGB_FROM_XYZN,
    Y16_TABLES,
)
from preprocessing.colour.colour_constants import (
    LAB_F_THRESHOLD,
    LAB_KAPPA_SLOPE,
    LAB_OFFSET,
)

STRIP_PIXELS = 1 << 18


def lightness_of_rgb(rgb: np.ndarray) -> np.ndarray:
    height, width, _ = rgb.shape
    out = np.empty((height, width), dtype=np.float32)
    rows = max(1, STRIP_PIXELS // max(width, 1))
    for top in range(0, height, rows):
        strip = rgb[top : top + rows]
        y = Y16_TABLES[0][strip[..., 0]]
        y += Y16_TABLES[1][strip[..., 1]]
        y += Y16_TABLES[2][strip[..., 2]]
        out[top : top + rows] = L_OF_Y16[y]
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
    np.maximum(fz, 0.0, out=fz)
    x, y, z = _f_inverse(fx), _f_inverse(fy), _f_inverse(fz)
    channels = []
    for row in RGB_FROM_XYZN:
        channel = row[0] * x
        channel += row[1] * y
        channel += row[2] * z
        channels.append(channel)
    np.clip(y, 0.0, 1.0, out=y)
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
        channel *= LINEAR_LEVELS
        channel += 0.5
        out[..., index] = ENCODE_8BIT[channel.astype(np.uint16)]


def join_lightness_ab(lightness: np.ndarray, ab: torch.Tensor | np.ndarray) -> np.ndarray:
    height, width = lightness.shape
    ab = torch.as_tensor(ab).float()
    if tuple(ab.shape[-2:]) != (height, width):
        ab = F.interpolate(ab[None], size=(height, width), mode="bilinear", align_corners=False)[0]
    ab_full = ab.numpy()
    out = np.empty((height, width, 3), dtype=np.uint8)
    rows = max(1, STRIP_PIXELS // max(width, 1))
    for top in range(0, height, rows):
        rows_slice = slice(top, top + rows)
        _join_strip(lightness[rows_slice], ab_full[0, rows_slice], ab_full[1, rows_slice], out[rows_slice])
    return out
