"""How an image becomes a training sample's size: short side to S, aspect kept, optional centre crop.

Both directions are resized (small images are upscaled) so that every sample is at least S x S and
random crops of size S are always possible downstream.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image


@dataclass(frozen=True)
class ResizePolicy:
    short_side: int = 256
    centre_crop: bool = False

    def target_size(self, width: int, height: int) -> tuple[int, int]:
        scale = self.short_side / min(width, height)
        return max(self.short_side, round(width * scale)), max(self.short_side, round(height * scale))

    def apply(self, image: Image.Image) -> Image.Image:
        width, height = self.target_size(*image.size)
        if (width, height) != image.size:
            # reducing_gap: a fast box pre-reduction for big downscales, then bicubic.
            image = image.resize((width, height), Image.Resampling.BICUBIC, reducing_gap=3.0)
        if self.centre_crop:
            side = self.short_side
            left, top = (width - side) // 2, (height - side) // 2
            image = image.crop((left, top, left + side, top + side))
        return image
