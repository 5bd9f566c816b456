"""The U-Net's building blocks: residual blocks, down- and upsampling, low-resolution self-attention.

A classifier's view of the whole picture (Iizuka et al. 2016), fused into the U-Net bottleneck.

Two strided convolutions and a global average pool summarise the bottleneck into one vector per
image; it is broadcast over every bottleneck position and fused with a 1x1 convolution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def norm_layer(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(min(8, channels), channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; known: batch, group, none")


class ResidualBlock(nn.Module):
    """conv-norm-act-(dropout)-conv-norm + a 1x1 projection when the width changes."""

    def __init__(self, in_channels: int, out_channels: int, norm: str = "batch", dropout: float = 0.0) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=norm == "none"),
            norm_layer(norm, out_channels),
            nn.SiLU(inplace=True),
            nn.Dropout2d(dropout) if dropout > 0 else nn.Identity(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=norm == "none"),
            norm_layer(norm, out_channels),
        )
        self.skip = nn.Identity() if in_channels == out_channels else nn.Conv2d(in_channels, out_channels, 1)
        self.act = nn.SiLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.skip(x))


class Downsample(nn.Module):
    """Strided 3x3 convolution: halves H and W."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    """Doubles H and W: "interp" = bilinear interpolation then 3x3 conv (no checkerboard artefacts),
    "transposed" = 4x4 stride-2 transposed convolution (the older colorization nets' choice)."""

    def __init__(self, in_channels: int, out_channels: int, mode: str = "interp") -> None:
        super().__init__()
        if mode not in ("interp", "transposed"):
            raise ValueError(f"unknown upsampling {mode!r}; known: interp, transposed")
        self.mode = mode
        if mode == "interp":
            self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        else:
            self.conv = nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "interp":
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        return self.conv(x)


class SelfAttention(nn.Module):
    """SAGAN-style non-local attention; the residual gate starts at 0 so it fades in during training."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        inner = max(channels // 8, 1)
        self.query = nn.Conv2d(channels, inner, 1)
        self.key = nn.Conv2d(channels, inner, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        q = self.query(x).flatten(2).transpose(1, 2)  # (N, HW, C')
        k = self.key(x).flatten(2).transpose(1, 2)
        v = self.value(x).flatten(2).transpose(1, 2)  # (N, HW, C)
        attended = F.scaled_dot_product_attention(q, k, v)
        return x + self.gamma * attended.transpose(1, 2).reshape(n, c, h, w)


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
