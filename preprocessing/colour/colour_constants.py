"""The one set of colour constants every sRGB <-> CIE Lab conversion in tintype uses.

sRGB primaries with the D65 white point (2 degree observer), exactly the values scikit-image uses so
that our conversions agree with it to float precision.
"""

from __future__ import annotations

import numpy as np

# Linear sRGB -> XYZ (rows: X, Y, Z).
XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ],
    dtype=np.float64,
)
RGB_FROM_XYZ = np.linalg.inv(XYZ_FROM_RGB)

# Reference white (D65, 2 degree observer).
WHITE_D65 = np.array([0.95047, 1.0, 1.08883], dtype=np.float64)

# sRGB transfer function.
SRGB_LINEAR_THRESHOLD = 0.04045  # on the encoded side
SRGB_ENCODED_THRESHOLD = 0.0031308  # on the linear side
SRGB_GAMMA = 2.4

# CIE Lab companding (the CIE's rounded constants, as scikit-image uses them).
LAB_EPSILON = 0.008856
LAB_KAPPA_SLOPE = 7.787
LAB_OFFSET = 16.0 / 116.0
LAB_F_THRESHOLD = 0.2068966  # f(LAB_EPSILON): where the cube switches to the linear segment

# Ranges the model and the codecs work in.
L_MAX = 100.0
AB_MAX = 128.0  # |a|, |b| of every in-gamut sRGB colour is below this
