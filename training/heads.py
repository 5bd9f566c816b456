"""The generators' output heads: classification over the quantised ab bins, or ab regressed directly.

Classification head (Zhang et al. 2016): logits over the card's quantised ab bins at 1/4
resolution, decoded by the annealed mean.

The annealed mean re-sharpens the predicted distribution, softmax(logits / T), and takes its
expectation over the bin centres: T = 1 is the plain mean (desaturated), T -> 0 the mode (vivid but
patchy); Zhang's T = 0.38 sits between them.

Regression head: ab directly, squashed by tanh into the ab range.
"""

from __future__ import annotations

import torch
from torch import nn

from preprocessing.colour.colour_constants import AB_MAX

DEFAULT_TEMPERATURE = 0.38


def annealed_mean(logits: torch.Tensor, centres: torch.Tensor, temperature: float = DEFAULT_TEMPERATURE) -> torch.Tensor:
    """logits (N, Q, h, w), centres (Q, 2) -> ab (N, 2, h, w)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if logits.dim() == 4 and logits.is_contiguous(memory_format=torch.channels_last) and not logits.is_contiguous():
        # channels_last logits (the Colorizer's layout): softmax over the innermost axis and one matrix
        # product, 2x faster on CPU than the NCHW einsum on the same memory; same numbers.
        probabilities = torch.softmax(logits.permute(0, 2, 3, 1).float() / temperature, dim=-1)
        return (probabilities @ centres.to(probabilities.dtype)).permute(0, 3, 1, 2)
    probabilities = torch.softmax(logits.float() / temperature, dim=1)
    return torch.einsum("nqhw,qc->nchw", probabilities, centres.to(probabilities.dtype))


class ClassificationHead(nn.Module):
    output_stride = 4

    def __init__(self, channels: int, centres: list[list[float]], temperature: float = DEFAULT_TEMPERATURE) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, len(centres), 1)
        self.register_buffer("centres", torch.tensor(centres, dtype=torch.float32))
        self.temperature = temperature

    @property
    def bin_count(self) -> int:
        return int(self.centres.shape[0])

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """-> logits (N, Q, H/4, W/4)."""
        return self.conv(features)

    def decode(self, logits: torch.Tensor, temperature: float | None = None) -> torch.Tensor:
        return annealed_mean(logits, self.centres, self.temperature if temperature is None else temperature)


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
