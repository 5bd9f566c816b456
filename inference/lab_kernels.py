"""Fused per-pixel kernels (numba) for the full-resolution Lab work: one pass over the pixels, no
temporaries, the GIL released so the decode/encode threads of a batch run them side by side.

The tables and the upsampling indices come from inference/full_res_lab.py; this module holds only the
loops. Compiled on first call and cached on disk (numba's `cache=True`: next to this file, or in the
user's cache folder when the package folder is read-only, or in $NUMBA_CACHE_DIR when set). Where no
cache folder is writable at all the kernels still work, compiled afresh in each process.

No `parallel=True`: the batch runner already runs one image per codec thread, and numba's default
threading layer may not be entered from several threads at once.
"""

from __future__ import annotations

import numba
import numpy as np

from preprocessing.colour.colour_constants import (
    LAB_F_THRESHOLD,
    LAB_KAPPA_SLOPE,
    LAB_OFFSET,
)

# float32 constants keep the arithmetic in float32, as the NumPy path it replaced.
_F_THRESHOLD = np.float32(LAB_F_THRESHOLD)
_OFFSET = np.float32(LAB_OFFSET)
_INV_KAPPA = np.float32(1.0 / LAB_KAPPA_SLOPE)
_INV_116 = np.float32(1.0 / 116.0)
_INV_500 = np.float32(1.0 / 500.0)
_INV_200 = np.float32(1.0 / 200.0)
_SIXTEEN = np.float32(16.0)
_ZERO = np.float32(0.0)
_ONE = np.float32(1.0)
_HALF = np.float32(0.5)
_TINY = np.float32(1e-30)


def _compile(function):
    try:
        return numba.njit(cache=True, nogil=True, error_model="numpy")(function)
    except RuntimeError:  # "no locator available": nowhere writable to cache, so compile per process
        return numba.njit(cache=False, nogil=True, error_model="numpy")(function)


@_compile
def lightness_kernel(rgb, y_tables, l_of_y, out):
    """uint8 (N, 3) -> out float32 (N,): three 16-bit luminance tables summed, then a Y -> L table."""
    for index in range(rgb.shape[0]):
        y = (np.int32(y_tables[0, rgb[index, 0]]) + np.int32(y_tables[1, rgb[index, 1]])
             + np.int32(y_tables[2, rgb[index, 2]]))
        out[index] = l_of_y[y]


@_compile
def luminance_kernel(rgb, y_tables, out):
    """uint8 (N, 3) -> out uint16 (N,): the 16-bit luminance code `lightness_kernel` looks L up by, kept
    as the code so a large picture's full-resolution L costs 2 bytes a pixel until a strip needs it."""
    for index in range(rgb.shape[0]):
        out[index] = (np.int32(y_tables[0, rgb[index, 0]]) + np.int32(y_tables[1, rgb[index, 1]])
                      + np.int32(y_tables[2, rgb[index, 2]]))


@numba.njit(inline="always")
def _f_inverse(f):
    cube = f * f * f
    line = (f - _OFFSET) * _INV_KAPPA
    return cube if f > _F_THRESHOLD else line  # both computed: a select, so the loop vectorises


@numba.njit(inline="always")
def _level(linear, scale):
    """Linear value -> index into the encode table, clipped to [0, scale]; NaN (a broken ab) -> 0, so a
    bad value can never index outside the table."""
    level = linear * scale + _HALF
    level = level if level > _ZERO else _ZERO
    level = level if level < scale else scale
    return np.int32(level)


@_compile
def join_kernel(lightness, ab, row0, row1, row_weight, col0, col1, col_weight, rgb_from_xyzn, encode, levels, out):
    """L (H, W) + ab (2, h, w) -> out uint8 (H, W, 3).

    ab is upsampled bilinearly: each source row once across (h x W), then per output row the blend of
    two such rows. Per pixel: Lab -> linear RGB, an out-of-gamut colour moved towards the grey of equal
    luminance (R = G = B = Y) just far enough to fit, linear -> 8-bit sRGB through `encode` (levels + 1
    entries). The arithmetic runs branch-free over a row into integer buffers (SIMD), the table look-ups
    and interleaved stores in a second, short loop."""
    height, width = lightness.shape
    source_height = ab.shape[1]
    across = np.empty((2, source_height, width), dtype=np.float32)
    for channel in range(2):
        for y in range(source_height):
            for j in range(width):
                right = col_weight[j]
                across[channel, y, j] = (_ONE - right) * ab[channel, y, col0[j]] + right * ab[channel, y, col1[j]]
    red_levels = np.empty(width, dtype=np.int32)
    green_levels = np.empty(width, dtype=np.int32)
    blue_levels = np.empty(width, dtype=np.int32)
    m = rgb_from_xyzn
    m00, m01, m02 = m[0, 0], m[0, 1], m[0, 2]
    m10, m11, m12 = m[1, 0], m[1, 1], m[1, 2]
    m20, m21, m22 = m[2, 0], m[2, 1], m[2, 2]
    scale = np.float32(levels)
    for i in range(height):
        down = row_weight[i]
        up = _ONE - down
        a_top, a_bottom = across[0, row0[i]], across[0, row1[i]]
        b_top, b_bottom = across[1, row0[i]], across[1, row1[i]]
        lightness_row = lightness[i]
        for j in range(width):
            a = up * a_top[j] + down * a_bottom[j]
            b = up * b_top[j] + down * b_bottom[j]
            fy = (lightness_row[j] + _SIXTEEN) * _INV_116
            fx = fy + a * _INV_500
            fz = max(fy - b * _INV_200, _ZERO)  # negative Z has no physical meaning
            x_, y_, z_ = _f_inverse(fx), _f_inverse(fy), _f_inverse(fz)
            red = m00 * x_ + m01 * y_ + m02 * z_
            green = m10 * x_ + m11 * y_ + m12 * z_
            blue = m20 * x_ + m21 * y_ + m22 * z_
            low = min(red, min(green, blue))
            high = max(red, max(green, blue))
            grey = min(max(y_, _ZERO), _ONE)
            # How far towards the grey fits: 1 in gamut; the denominators are > 0 whenever used.
            fit_high = (_ONE - grey) / max(high - grey, _TINY)
            fit_low = grey / max(grey - low, _TINY)
            fit = _ONE
            fit = min(fit, fit_high) if high > _ONE else fit
            fit = min(fit, fit_low) if low < _ZERO else fit
            fit = max(fit, _ZERO)
            red = grey + (red - grey) * fit
            green = grey + (green - grey) * fit
            blue = grey + (blue - grey) * fit
            red_levels[j] = _level(red, scale)
            green_levels[j] = _level(green, scale)
            blue_levels[j] = _level(blue, scale)
        out_row = out[i]
        for j in range(width):
            out_row[j, 0] = encode[red_levels[j]]
            out_row[j, 1] = encode[green_levels[j]]
            out_row[j, 2] = encode[blue_levels[j]]
