"""A classifier's view of the whole picture (Iizuka et al. 2016), fused into the U-Net bottleneck.

Two strided convolutions and a global average pool summarise the bottleneck into one vector per
image; it is broadcast over every bottleneck position and fused with a 1x1 convolution.
"""

from __future__ import annotations

import torch
from torch import nn


class GlobalContextFusion(nn.Module):
    def __init__(self, channels: int, context_channels: int = 256) -> None:
        super().__init__()
        self.summarise = nn.Sequential(
            nn.Conv2d(channels, channels, 3, stride=2, padding=1),
            nn.SiLU(inplace=True),
            nn.Conv2d(channels, channels, 3, stride=2, padding=1),
            nn.SiLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(channels, context_channels),
            nn.SiLU(inplace=True),
        )
        self.fuse = nn.Sequential(nn.Conv2d(channels + context_channels, channels, 1), nn.SiLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        context = self.summarise(x)[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        return self.fuse(torch.cat([x, context], dim=1))
