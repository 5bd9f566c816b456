"""PatchGAN discriminator (pix2pix) with spectral norm, optionally multi-scale.

It sees the whole Lab image (L and ab, normalised) and scores overlapping patches as real or fake.
Spectral norm keeps it 1-Lipschitz-ish, which stabilises the adversarial game without tuning. The
multi-scale variant (pix2pixHD) runs copies on 2x, 4x ... average-pooled inputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from preprocessing.colour.colour_constants import AB_MAX, L_MAX


def _patch_discriminator(width: int, layers: int) -> nn.Sequential:
    modules: list[nn.Module] = [spectral_norm(nn.Conv2d(3, width, 4, stride=2, padding=1)), nn.LeakyReLU(0.2, True)]
    channels = width
    for index in range(1, layers):
        out_channels = width * min(2**index, 8)
        stride = 2 if index < layers - 1 else 1
        modules += [spectral_norm(nn.Conv2d(channels, out_channels, 4, stride=stride, padding=1)), nn.LeakyReLU(0.2, True)]
        channels = out_channels
    modules.append(spectral_norm(nn.Conv2d(channels, 1, 4, stride=1, padding=1)))
    return nn.Sequential(*modules)


class PatchDiscriminator(nn.Module):
    def __init__(self, width: int = 64, layers: int = 3, scales: int = 1) -> None:
        super().__init__()
        self.scales = nn.ModuleList(_patch_discriminator(width, layers) for _ in range(scales))

    def forward(self, lightness: torch.Tensor, ab: torch.Tensor) -> list[torch.Tensor]:
        """L (N, 1, H, W) in [0, 100] and ab (N, 2, H, W) in Lab units -> one logit map per scale."""
        x = torch.cat([lightness / (L_MAX / 2) - 1.0, ab / AB_MAX], dim=1)
        outputs = []
        for index, discriminator in enumerate(self.scales):
            if index:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            outputs.append(discriminator(x))
        return outputs
