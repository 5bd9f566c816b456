"""The generator: a U-Net over L with residual blocks and a regression or classification head.

Config (plain data, see `model_factory.DEFAULT_GENERATOR`): width, depth (number of 2x downsamplings),
blocks per level, width cap, upsampling ("interp" | "transposed"), norm ("batch" | "group" | "none"),
dropout in the decoder, self-attention at the bottleneck, a global-context branch fused at the
bottleneck. The classification head reads the decoder at 1/4 resolution, so the decoder stops there.
"""

from __future__ import annotations

import torch
from torch import nn

from preprocessing.colour.colour_constants import L_MAX
from training.colorizer_net import ColorizerNet
from training.heads import ClassificationHead, RegressionHead
from training.unet_blocks import (
    Downsample,
    GlobalContextFusion,
    ResidualBlock,
    SelfAttention,
    Upsample,
)


class UNetGenerator(ColorizerNet):
    def __init__(
        self,
        head: str = "regression",
        width: int = 32,
        depth: int = 4,
        blocks_per_level: int = 1,
        max_width_multiplier: int = 8,
        upsample: str = "interp",
        norm: str = "batch",
        dropout: float = 0.0,
        attention: bool = False,
        global_context: bool = False,
        bin_centres: list[list[float]] | None = None,
        temperature: float = 0.38,
        chroma_gain: float = 1.0,
    ) -> None:
        super().__init__(chroma_gain)
        widths = [width * min(2**level, max_width_multiplier) for level in range(depth + 1)]
        self.depth = depth
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, padding=1), ResidualBlock(widths[0], widths[0], norm))
        self.down = nn.ModuleList()
        for level in range(1, depth + 1):
            blocks = [Downsample(widths[level - 1], widths[level])]
            blocks += [ResidualBlock(widths[level], widths[level], norm) for _ in range(blocks_per_level)]
            self.down.append(nn.Sequential(*blocks))
        bottleneck: list[nn.Module] = [ResidualBlock(widths[depth], widths[depth], norm)]
        if attention:
            bottleneck.append(SelfAttention(widths[depth]))
        if global_context:
            bottleneck.append(GlobalContextFusion(widths[depth]))
        self.bottleneck = nn.Sequential(*bottleneck)

        if head == "regression":
            self.head: nn.Module = RegressionHead(widths[0])
            stop_level = 0
        elif head == "classification":
            if depth < 2 or not bin_centres:
                raise ValueError("the classification head needs depth >= 2 and the card's ab bin centres")
            stop_level = 2
            self.head = ClassificationHead(widths[stop_level], bin_centres, temperature)
        else:
            raise ValueError(f"unknown head {head!r}; known: regression, classification")
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for level in range(depth, stop_level, -1):
            self.up.append(Upsample(widths[level], widths[level - 1], upsample))
            self.merge.append(ResidualBlock(2 * widths[level - 1], widths[level - 1], norm, dropout))

    @property
    def size_multiple(self) -> int:
        return 2**self.depth

    def forward(self, lightness: torch.Tensor) -> torch.Tensor:
        """L (N, 1, H, W) in [0, 100], H and W multiples of 2**depth -> the head's raw output."""
        x = self.stem(lightness / (L_MAX / 2) - 1.0)
        skips = [x]
        for block in self.down:
            x = block(x)
            skips.append(x)
        x = self.bottleneck(x)
        for index, (up, merge) in enumerate(zip(self.up, self.merge)):
            x = merge(torch.cat([up(x), skips[self.depth - 1 - index]], dim=1))
        return self.head(x)
