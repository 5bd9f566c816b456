"""What every generator shares: decoding the head's output and predicting ab for a picture of any size.

A generator sets `head` (regression or classification), `chroma_gain` and `size_multiple` (the
factor its input sides must divide by) and implements `forward` (L -> the head's raw output).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ColorizerNet(nn.Module):
    head: nn.Module

    def __init__(self, chroma_gain: float = 1.0) -> None:
        super().__init__()
        # predict_ab scales its ab by this: a calibration chosen after training (on held-out data),
        # so every consumer gets the model's intended saturation and user knobs stay relative to it.
        self.chroma_gain = chroma_gain

    @property
    def size_multiple(self) -> int:
        raise NotImplementedError

    def decode(self, output: torch.Tensor, temperature: float | None = None) -> torch.Tensor:
        """The head's raw output -> ab in Lab units at the head's resolution."""
        return self.head.decode(output, temperature)

    @torch.no_grad()
    def padded_forward(self, lightness: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
        """The head's raw output for L padded (reflect) up to a multiple of `size_multiple`, and the
        padded (height, width)."""
        height, width = lightness.shape[-2:]
        multiple = self.size_multiple
        pad_h, pad_w = (-height) % multiple, (-width) % multiple
        padded = lightness
        if pad_h or pad_w:
            mode = "reflect" if pad_h < height and pad_w < width else "replicate"
            padded = F.pad(lightness, (0, pad_w, 0, pad_h), mode=mode)
        return self.forward(padded), (height + pad_h, width + pad_w)

    def ab_at_size(self, ab: torch.Tensor, padded: tuple[int, int], size: tuple[int, int]) -> torch.Tensor:
        """Decoded ab of a `padded_forward` output -> ab at `size` (H, W): a low-resolution head's ab
        upsampled bilinearly to the padded size, cropped, times the calibrated chroma gain."""
        ab = ab.float()
        if ab.shape[-2:] != padded:
            ab = F.interpolate(ab, size=padded, mode="bilinear", align_corners=False)
        return ab[..., : size[0], : size[1]] * self.chroma_gain

    @torch.no_grad()
    def predict_ab(self, lightness: torch.Tensor, temperature: float | None = None) -> torch.Tensor:
        """L (N, 1, H, W) in [0, 100] -> ab (N, 2, H, W) in Lab units, any H and W."""
        output, padded = self.padded_forward(lightness)
        return self.ab_at_size(self.decode(output, temperature), padded, tuple(lightness.shape[-2:]))
