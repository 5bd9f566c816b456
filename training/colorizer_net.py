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
    def predict_ab(self, lightness: torch.Tensor, temperature: float | None = None) -> torch.Tensor:
        """L (N, 1, H, W) in [0, 100] -> ab (N, 2, H, W) in Lab units, any H and W.

        Pads (reflect) up to a multiple of `size_multiple`, upsamples a low-resolution head's ab
        bilinearly, then crops back to H x W.
        """
        height, width = lightness.shape[-2:]
        multiple = self.size_multiple
        pad_h, pad_w = (-height) % multiple, (-width) % multiple
        padded = lightness
        if pad_h or pad_w:
            mode = "reflect" if pad_h < height and pad_w < width else "replicate"
            padded = F.pad(lightness, (0, pad_w, 0, pad_h), mode=mode)
        ab = self.decode(self.forward(padded), temperature).float()
        if ab.shape[-2:] != padded.shape[-2:]:
            ab = F.interpolate(ab, size=padded.shape[-2:], mode="bilinear", align_corners=False)
        return ab[..., :height, :width] * self.chroma_gain
