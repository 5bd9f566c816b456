"""Regression head: ab directly, squashed by tanh into the ab range."""

from __future__ import annotations

import torch
from torch import nn

from preprocessing.colour_constants import AB_MAX


class RegressionHead(nn.Module):
    output_stride = 1  # full resolution

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, 2, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """-> ab (N, 2, H, W) in Lab units."""
        return torch.tanh(self.conv(features).float()) * AB_MAX

    def decode(self, output: torch.Tensor, temperature: float | None = None) -> torch.Tensor:
        return output
