"""ICC profiles at full precision: L of a profiled picture, and the profile an output carries.

Pillow's ImageCms converts 8-bit pictures only, so a 16-bit master's profile (gray gamma 2.2, Dot Gain
20%, Adobe RGB, a camera's) goes through Little CMS as imagecodecs binds it, in float:
- grey: one look-up table per picture, code -> L, from the profile's tone curve (all 256 or 65,536
  codes transformed to Lab at once), so a large picture keeps its grey codes and this table;
- RGB: the pixels to Lab, a block of rows at a time (12 bytes a pixel per block, not per picture).
The output's pixels are sRGB (the join writes sRGB), so an output carries the input's own profile only
when that profile is sRGB (it then describes the pixels exactly), otherwise an sRGB profile.
A profile Little CMS cannot parse, or one for another colour space than the pixels', is ignored, as
preprocessing/images/image_loading.py does for 8-bit pictures (the pixels are then taken as sRGB).
"""

from __future__ import annotations

import functools

import imagecodecs
import numpy as np

from inference.full_res_lab import lightness_codes, lightness_of_rgb16

_ROWS_PER_BLOCK = 256


@functools.cache
def srgb_profile() -> bytes:
    """The sRGB profile outputs carry when the input's profile was not sRGB (Little CMS's built-in)."""
    return imagecodecs.cms_profile("srgb")


@functools.cache
def _lab_profile() -> bytes:
    return imagecodecs.cms_profile("lab4")


def profile_space(icc: bytes | None) -> str | None:
    """'GRAY', 'RGB', 'CMYK' ... as the header declares, or None for no or a malformed profile."""
    if not icc or len(icc) < 132 or icc[36:40] != b"acsp":
        return None
    return icc[16:20].decode("ascii", "replace").strip()


@functools.lru_cache(maxsize=32)
def usable_profile(icc: bytes | None, space: str) -> bool:
    """Whether Little CMS can convert pixels of `space` ('GRAY' or 'RGB') with this profile."""
    if profile_space(icc) != space:
        return False
    try:
        imagecodecs.cms_profile_validate(icc)
        sample = np.zeros((1, 1) if space == "GRAY" else (1, 1, 3), np.uint16)
        imagecodecs.cms_transform(sample, icc, _lab_profile(), colorspace=space.lower(), outcolorspace="lab",
                                  outdtype=np.float32)
    except Exception:
        return False
    return True


@functools.lru_cache(maxsize=32)
def is_srgb(icc: bytes | None) -> bool:
    """True when the profile maps a ramp and the primaries as sRGB does, to within half a 16-bit step."""
    if not usable_profile(icc, "RGB"):
        return False
    levels = np.linspace(0, 65535, 18).astype(np.uint16)
    ramp = np.stack(np.meshgrid(levels, levels[::3], levels[::5], indexing="ij"), -1).reshape(1, -1, 3)
    try:
        through = imagecodecs.cms_transform(ramp, icc, srgb_profile(), colorspace="rgb", outcolorspace="rgb",
                                            outdtype=np.uint16)
    except Exception:
        return False
    return int(np.abs(through.astype(np.int32) - ramp).max()) <= 2


def output_profile(icc: bytes | None) -> bytes:
    """The profile an output carries: its pixels are sRGB, so the input's own profile only if it is sRGB."""
    return icc if icc and is_srgb(icc) else srgb_profile()


@functools.lru_cache(maxsize=32)
def grey_lightness_table(icc: bytes, bits: int) -> np.ndarray | None:
    """float32 L of each grey code (2**bits entries) through a gray profile's tone curve, or None where
    the profile cannot be used (then the grey is read as sRGB grey, as before)."""
    if not usable_profile(icc, "GRAY"):
        return None
    codes = np.arange(1 << bits, dtype=np.uint16 if bits == 16 else np.uint8).reshape(1, -1)
    lab = imagecodecs.cms_transform(codes, icc, _lab_profile(), colorspace="gray", outcolorspace="lab",
                                    outdtype=np.float32)
    return np.clip(lab.reshape(-1, 3)[:, 0], 0.0, 100.0).astype(np.float32)


def lightness_of_profiled_rgb(rgb: np.ndarray, icc: bytes | None) -> np.ndarray:
    """uint16 or uint8 (H, W, 3) in the profile's space -> float32 L; sRGB (no profile) from 16 bits directly."""
    if not usable_profile(icc, "RGB") or is_srgb(icc):
        return lightness_of_rgb16(rgb if rgb.dtype == np.uint16 else rgb.astype(np.uint16) * 257)
    out = np.empty(rgb.shape[:2], dtype=np.float32)
    for top in range(0, rgb.shape[0], _ROWS_PER_BLOCK):
        block = np.ascontiguousarray(rgb[top:top + _ROWS_PER_BLOCK])
        lab = imagecodecs.cms_transform(block, icc, _lab_profile(), colorspace="rgb", outcolorspace="lab",
                                        outdtype=np.float32)
        out[top:top + _ROWS_PER_BLOCK] = np.clip(lab[..., 0], 0.0, 100.0)
    return out


def lightness_codes_of_rgb16(rgb: np.ndarray, icc: bytes | None) -> np.ndarray:
    """uint16 (rows, W, 3) -> uint16 L codes (full_res_lab.L_OF_L_CODE): what a strip of a 16-bit RGB
    picture keeps, equal to the whole-picture path's L once looked up."""
    return lightness_codes(lightness_of_profiled_rgb(rgb, icc))
