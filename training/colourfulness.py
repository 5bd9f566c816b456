"""Colourfulness of an RGB image (Hasler & Suesstrunk 2003):

    rg = R - G,  yb = (R + G) / 2 - B
    C = sqrt(std(rg)^2 + std(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2)

on 0..255 values (population standard deviations). A gray image scores 0; desaturated
colorizations score below the truth, so dCF = C(prediction) - C(truth) is usually negative.
"""

from __future__ import annotations

import math

import torch


def colourfulness(rgb: torch.Tensor) -> float:
    """(3, H, W) image with 0..255 values -> C."""
    r, g, b = rgb.double()
    rg = r - g
    yb = 0.5 * (r + g) - b
    spread = math.sqrt(rg.var(unbiased=False).item() + yb.var(unbiased=False).item())
    centre = math.sqrt(rg.mean().item() ** 2 + yb.mean().item() ** 2)
    return spread + 0.3 * centre
