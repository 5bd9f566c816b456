"""8-bit sRGB -> the shard codec's 8-bit Lab planes and the sample's ab-bin counts, in one pass.

The reference path (`lab_numpy.srgb_to_lab`, then `lab_codec.quantise_lab`, then
`ab_gamut.AbHistogram.add_ab`) makes five float32 temporaries of the picture and reads it four times;
at a 256 px sample that was two thirds of the shard writer's time (docs/benchmarks.md, "URL list to
shards"). This kernel does the same arithmetic per pixel, in float32 and in the same order
(table linearisation, the white-normalised matrix, the CIE cube root with its linear toe, the codec's
rounding, the 10-unit grid cell and its bin), so its planes equal the reference's except where
float32 rounding lands a value on the other side of a .5 (BLAS may sum the matrix product in
another order): a rare difference of one 8-bit level, well inside the codec's own error.

Compiled on first use and cached on disk (numba's `cache=True`), as inference/lab_kernels.py.
"""

from __future__ import annotations

import numba
import numpy as np

from preprocessing.colour.ab_gamut import (
    GRID_HALF_EXTENT,
    GRID_SIDE,
    GRID_STEP,
    _grid_to_bin,
    bin_count,
)
from preprocessing.colour.colour_constants import (
    L_MAX,
    LAB_EPSILON,
    LAB_KAPPA_SLOPE,
    LAB_OFFSET,
    WHITE_D65,
    XYZ_FROM_RGB,
)
from preprocessing.colour.lab_numpy import _UINT8_TO_LINEAR

_XYZN_FROM_RGB = (XYZ_FROM_RGB / WHITE_D65[:, None]).astype(np.float32)  # as lab_numpy's


def _compile(function):
    try:
        return numba.njit(cache=True, nogil=True, error_model="numpy")(function)
    except RuntimeError:  # nowhere writable to cache: compile in each process
        return numba.njit(cache=False, nogil=True, error_model="numpy")(function)


# The cube root, the kernel's one costly step (glibc's cbrtf: ~18 ns): a 4096-step table over
# [0, 1.25] (normalised XYZ of sRGB stays below 1.09), interpolated, then one Newton step in float64:
# ~3.5 ns, correctly rounded to float32 (cbrtf itself is 1 ulp off for about 1 value in 9).
_CBRT_STEPS = 4096
_CBRT_TOP = 1.25
_CBRT_SCALE = _CBRT_STEPS / _CBRT_TOP  # table entries per unit of t
_CBRT_TABLE = np.cbrt(np.arange(_CBRT_STEPS + 2) / _CBRT_SCALE)  # one spare entry past the top


@_compile
def _companded(t, epsilon, slope, offset, table, scale):
    if t <= epsilon:
        return slope * t + offset
    wide = np.float64(t)
    position = wide * scale
    k = int(position)
    y = table[k] + (position - k) * (table[k + 1] - table[k])
    return np.float32(y - (y * y * y - wide) / (3.0 * y * y))


@_compile
def _planes_kernel(rgb, linear, m, grid_to_bin, table, scale, planes, counts):
    epsilon, slope, offset = np.float32(LAB_EPSILON), np.float32(LAB_KAPPA_SLOPE), np.float32(LAB_OFFSET)
    l_scale = np.float32(255.0 / L_MAX)
    step, half_extent, last_cell = np.float32(GRID_STEP), GRID_HALF_EXTENT, GRID_SIDE - 1
    for y in range(rgb.shape[0]):
        for x in range(rgb.shape[1]):
            r, g, b = linear[rgb[y, x, 0]], linear[rgb[y, x, 1]], linear[rgb[y, x, 2]]
            fx = _companded(r * m[0, 0] + g * m[0, 1] + b * m[0, 2], epsilon, slope, offset, table, scale)
            fy = _companded(r * m[1, 0] + g * m[1, 1] + b * m[1, 2], epsilon, slope, offset, table, scale)
            fz = _companded(r * m[2, 0] + g * m[2, 1] + b * m[2, 2], epsilon, slope, offset, table, scale)
            lightness = np.float32(116.0) * fy - np.float32(16.0)
            a = np.float32(500.0) * (fx - fy)
            bb = np.float32(200.0) * (fy - fz)
            planes[y, x, 0] = min(max(np.rint(lightness * l_scale), 0.0), 255.0)
            planes[y, x, 1] = min(max(np.rint(a + np.float32(128.0)), 0.0), 255.0)
            planes[y, x, 2] = min(max(np.rint(bb + np.float32(128.0)), 0.0), 255.0)
            cell_a = min(max(int(np.rint(a / step)) + half_extent, 0), last_cell)
            cell_b = min(max(int(np.rint(bb / step)) + half_extent, 0), last_cell)
            counts[grid_to_bin[cell_a, cell_b]] += 1


def lab_planes(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """uint8 sRGB (H, W, 3) -> uint8 Lab planes (H, W, 3) as `lab_codec.quantise_lab(srgb_to_lab(rgb))`,
    and int64 counts per ab bin as `AbHistogram.add_ab(srgb_to_lab(rgb)[..., 1:])` adds them."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected uint8 (H, W, 3) sRGB, got shape {rgb.shape}")
    planes = np.empty(rgb.shape, np.uint8)
    counts = np.zeros(bin_count(), np.int64)
    _planes_kernel(rgb, _UINT8_TO_LINEAR, _XYZN_FROM_RGB, _grid_to_bin(), _CBRT_TABLE, _CBRT_SCALE, planes, counts)
    return planes, counts


def warm_up() -> None:
    """Load the compiled kernel (numba's cache) now, so the first sample does not wait for it."""
    lab_planes(np.zeros((1, 1, 3), np.uint8))
