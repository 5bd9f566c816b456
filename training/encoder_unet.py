"""The pretrained-encoder colorizer: an ImageNet EfficientNet-Lite over L, a U-Net decoder on its
stride 2 ... 32 features, and the same heads as the scratch U-Net.

The decoder starts from the encoder's 1280-wide stride-32 features (reduced by a 1x1 convolution),
adds the picture's pooled summary (what the ImageNet classifier itself looks at: grass, sky, faces)
to every position, and climbs one stride at a time, concatenating the encoder's skip at each level
before a residual block. The classification head reads stride 4; the regression head continues to
full resolution through the stride-2 skip and the input L.

Decoder widths scale with `width`: 4w at stride 32, 3w, 2w, 1.5w at stride 4, w at stride 2, w/2 at 1.
"""

from __future__ import annotations

import torch
from torch import nn

from training.colorizer_net import ColorizerNet
from training.heads import ClassificationHead, RegressionHead
from training.pretrained_encoder import EfficientNetLiteEncoder
from training.unet_blocks import ResidualBlock, Upsample

WIDTH_FACTORS = {32: 4.0, 16: 3.0, 8: 2.0, 4: 1.5, 2: 1.0, 1: 0.5}


class PooledContext(nn.Module):
    """The whole picture's mean feature, projected and fused into every position (Iizuka et al.)."""

    def __init__(self, channels: int, summary_channels: int, context_channels: int = 128) -> None:
        super().__init__()
        self.project = nn.Sequential(nn.Linear(summary_channels, context_channels), nn.SiLU(inplace=True))
        self.fuse = nn.Sequential(nn.Conv2d(channels + context_channels, channels, 1), nn.SiLU(inplace=True))

    def forward(self, x: torch.Tensor, summary: torch.Tensor) -> torch.Tensor:
        context = self.project(summary.mean(dim=(2, 3)))[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        return self.fuse(torch.cat([x, context], dim=1))


class EncoderUNet(ColorizerNet):
    def __init__(
        self,
        encoder: str = "efficientnet-lite0",
        head: str = "classification",
        width: int = 48,
        norm: str = "batch",
        dropout: float = 0.0,
        upsample: str = "interp",
        bin_centres: list[list[float]] | None = None,
        temperature: float = 0.38,
        chroma_gain: float = 1.0,
    ) -> None:
        super().__init__(chroma_gain)
        self.encoder = EfficientNetLiteEncoder(encoder)
        skip_channels = self.encoder.channels  # strides 2, 4, 8, 16, then the stride-32 head conv
        widths = {stride: max(8, int(round(width * factor))) for stride, factor in WIDTH_FACTORS.items()}
        self.reduce = nn.Sequential(nn.Conv2d(skip_channels[-1], widths[32], 1), nn.SiLU(inplace=True),
                                    ResidualBlock(widths[32], widths[32], norm))
        self.context = PooledContext(widths[32], skip_channels[-1])
        if head == "classification":
            if not bin_centres:
                raise ValueError("the classification head needs the card's ab bin centres")
            stop = 4
            self.head: nn.Module = ClassificationHead(widths[4], bin_centres, temperature)
        elif head == "regression":
            stop = 1
            self.head = RegressionHead(widths[1])
        else:
            raise ValueError(f"unknown head {head!r}; known: regression, classification")
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        stride = 32
        skip_by_stride = dict(zip((2, 4, 8, 16), skip_channels[:-1]))
        while stride > stop:
            stride //= 2
            self.up.append(Upsample(widths[stride * 2], widths[stride], upsample))
            extra = skip_by_stride.get(stride, 1)  # stride 1 takes the input L itself
            self.merge.append(ResidualBlock(widths[stride] + extra, widths[stride], norm, dropout))

    @property
    def size_multiple(self) -> int:
        return 32

    def forward(self, lightness: torch.Tensor) -> torch.Tensor:
        """L (N, 1, H, W) in [0, 100], H and W multiples of 32 -> the head's raw output."""
        features = self.encoder(lightness)
        skips = [*features[:-1][::-1], lightness / 50.0 - 1.0]  # strides 16, 8, 4, 2, then 1
        x = self.context(self.reduce(features[-1]), features[-1])
        for up, merge, skip in zip(self.up, self.merge, skips):
            x = merge(torch.cat([up(x), skip], dim=1))
        return self.head(x)
