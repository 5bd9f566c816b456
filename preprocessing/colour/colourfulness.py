"""Colourfulness of an image: the Hasler & Suesstrunk (2003) metric M.

M = sqrt(std(rg)^2 + std(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2), with rg = R - G and
yb = (R + G) / 2 - B on 0..255 sRGB values (population standard deviations). Their perceptual scale:
0 not colourful, ~15 slightly, ~33 moderately, ~45 averagely, ~59 quite, ~82 highly, ~109 extremely
colourful. Cleaning scores photographs with it; evaluation compares a colorization's with the truth's
(dCF = M(prediction) - M(truth), usually negative for desaturated colorizations).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def colourfulness(rgb: Any) -> float:
    """`rgb`: a NumPy array (..., 3), as PIL lays pixels out, or a torch tensor (3, H, W), as torch
    does; uint8 or float in 0..255."""
    if not isinstance(rgb, np.ndarray):  # a torch tensor: channels first
        rgb = np.moveaxis(rgb.detach().cpu().numpy(), 0, -1)
    pixels = np.asarray(rgb, dtype=np.float64).reshape(-1, 3)
    red, green, blue = pixels[:, 0], pixels[:, 1], pixels[:, 2]
    rg = red - green
    yb = 0.5 * (red + green) - blue
    spread = np.sqrt(rg.var() + yb.var())
    centre = np.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    return float(spread + 0.3 * centre)
