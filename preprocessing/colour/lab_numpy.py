"""sRGB (D65) <-> CIE Lab in NumPy, vectorised and float32.

Input and output arrays are channels-last (..., 3). Lab comes back as L in [0, 100] and a, b roughly
in [-128, 128]. Out-of-gamut Lab (a colour no sRGB display can show, e.g. a model's over-saturated
prediction) is handled on the way back by clipping each channel of *linear* RGB to [0, 1]: hue can
shift slightly for such colours but the result is always a valid image. `lab_to_srgb(..., clip=False)`
returns the unclipped values so a caller can measure or handle the excursion itself.
"""

from __future__ import annotations

import numpy as np

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

# Fold the white point into the matrices so that one matmul gives normalised XYZ.
_XYZN_FROM_RGB = (XYZ_FROM_RGB / WHITE_D65[:, None]).astype(np.float32)
_RGB_FROM_XYZN = (RGB_FROM_XYZ * WHITE_D65[None, :]).astype(np.float32)


def _srgb_decode(encoded: np.ndarray) -> np.ndarray:
    return np.where(
        encoded > SRGB_LINEAR_THRESHOLD,
        np.power((encoded + 0.055) / 1.055, SRGB_GAMMA, dtype=np.float32),
        encoded / 12.92,
    ).astype(np.float32, copy=False)


def _srgb_encode(linear: np.ndarray) -> np.ndarray:
    positive = np.maximum(linear, SRGB_ENCODED_THRESHOLD)
    return np.where(
        linear > SRGB_ENCODED_THRESHOLD,
        1.055 * np.power(positive, 1.0 / SRGB_GAMMA, dtype=np.float32) - 0.055,
        linear * 12.92,
    ).astype(np.float32, copy=False)


# 8-bit input is the common case: a 256-entry table replaces the power function entirely.
_UINT8_TO_LINEAR = _srgb_decode(np.arange(256, dtype=np.float32) / 255.0)


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """uint8 (0..255) or float (0..1) sRGB -> float32 linear RGB."""
    if rgb.dtype == np.uint8:
        return _UINT8_TO_LINEAR[rgb]
    return _srgb_decode(np.asarray(rgb, dtype=np.float32))


def _lab_f(t: np.ndarray) -> np.ndarray:
    return np.where(t > LAB_EPSILON, np.cbrt(t), LAB_KAPPA_SLOPE * t + LAB_OFFSET).astype(np.float32, copy=False)


def _lab_f_inverse(f: np.ndarray) -> np.ndarray:
    return np.where(f > LAB_F_THRESHOLD, f * f * f, (f - LAB_OFFSET) / LAB_KAPPA_SLOPE).astype(np.float32, copy=False)


# Pixels per block: the temporaries of one block stay in the CPU cache, which is ~1.5x faster
# than running each step over a whole photo.
_BLOCK = 32768


def _blockwise(function, pixels: np.ndarray) -> np.ndarray:
    """Apply an (N, 3) -> (N, 3) float32 function to (..., 3) input in cache-sized blocks."""
    flat = pixels.reshape(-1, 3)
    out = np.empty(flat.shape, dtype=np.float32)
    for start in range(0, flat.shape[0], _BLOCK):
        out[start : start + _BLOCK] = function(flat[start : start + _BLOCK])
    return out.reshape(pixels.shape)


def _srgb_block_to_lab(rgb: np.ndarray) -> np.ndarray:
    xyz = srgb_to_linear(rgb) @ _XYZN_FROM_RGB.T
    f = _lab_f(xyz)
    lab = np.empty_like(f)
    lab[:, 0] = 116.0 * f[:, 1] - 16.0
    lab[:, 1] = 500.0 * (f[:, 0] - f[:, 1])
    lab[:, 2] = 200.0 * (f[:, 1] - f[:, 2])
    return lab


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (..., 3), uint8 or float in [0, 1] -> float32 CIE Lab (..., 3)."""
    rgb = np.asarray(rgb)
    return _blockwise(_srgb_block_to_lab, rgb if rgb.dtype == np.uint8 else rgb.astype(np.float32, copy=False))


def _lab_block_to_linear(lab: np.ndarray) -> np.ndarray:
    fy = (lab[:, 0] + 16.0) / 116.0
    fx = fy + lab[:, 1] / 500.0
    fz = np.maximum(fy - lab[:, 2] / 200.0, 0.0)  # negative Z has no physical meaning
    xyz = _lab_f_inverse(np.stack([fx, fy, fz], axis=1))
    return xyz @ _RGB_FROM_XYZN.T


def lab_to_linear(lab: np.ndarray) -> np.ndarray:
    """CIE Lab (..., 3) -> float32 linear RGB, unclipped (may leave [0, 1] when out of gamut)."""
    return _blockwise(_lab_block_to_linear, np.asarray(lab, dtype=np.float32))


def lab_to_srgb(lab: np.ndarray, clip: bool = True) -> np.ndarray:
    """CIE Lab (..., 3) -> float32 sRGB in [0, 1] (clipped in linear RGB unless clip=False)."""
    linear = lab_to_linear(lab)
    if clip:
        np.clip(linear, 0.0, 1.0, out=linear)
    return _srgb_encode(linear)


def lab_to_srgb_uint8(lab: np.ndarray) -> np.ndarray:
    """CIE Lab (..., 3) -> uint8 sRGB, rounded to nearest."""
    return np.clip(np.rint(lab_to_srgb(lab) * 255.0), 0, 255).astype(np.uint8)


def out_of_gamut_mask(lab: np.ndarray, tolerance: float = 1e-4) -> np.ndarray:
    """True where a Lab colour has no sRGB equivalent (some linear channel outside [0, 1])."""
    linear = lab_to_linear(lab)
    return np.any((linear < -tolerance) | (linear > 1.0 + tolerance), axis=-1)


def delta_e76(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIE76 colour difference: Euclidean distance in Lab."""
    diff = np.asarray(lab1, dtype=np.float32) - np.asarray(lab2, dtype=np.float32)
    return np.sqrt(np.sum(diff * diff, axis=-1))
