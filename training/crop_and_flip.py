"""Training augmentation on decoded Lab arrays: a random crop (upscaling first if the sample is
smaller than the crop) and a random horizontal flip. Picklable, seeded per loader worker."""

from __future__ import annotations

import random

import numpy as np
import torch
import torch.nn.functional as F


class RandomCropFlip:
    def __init__(self, crop: int, seed: int) -> None:
        self.crop = crop
        self.seed = seed
        self._rng: random.Random | None = None

    def _random(self) -> random.Random:
        if self._rng is None:  # created inside the worker process, so workers draw different crops
            info = torch.utils.data.get_worker_info()
            self._rng = random.Random(f"{self.seed}-{info.id if info else 0}")
        return self._rng

    def __call__(self, lightness: np.ndarray, ab: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """L (H, W), ab (2, H, W) -> L (1, c, c), ab (2, c, c) float32 tensors."""
        lab = torch.from_numpy(np.concatenate([lightness[None], ab], axis=0))
        height, width = lab.shape[-2:]
        if min(height, width) < self.crop:
            scale = self.crop / min(height, width)
            size = (max(self.crop, round(height * scale)), max(self.crop, round(width * scale)))
            lab = F.interpolate(lab[None], size=size, mode="bilinear", align_corners=False)[0]
            height, width = size
        rng = self._random()
        top, left = rng.randint(0, height - self.crop), rng.randint(0, width - self.crop)
        lab = lab[:, top : top + self.crop, left : left + self.crop]
        if rng.random() < 0.5:
            lab = lab.flip(-1)
        lab = lab.contiguous()
        return lab[:1], lab[1:]
