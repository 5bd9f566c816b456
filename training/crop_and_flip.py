"""Training augmentation on decoded Lab arrays: an optional random rescale (multi-scale training), a
random crop (upscaling first if the sample is smaller than the crop) and a random horizontal flip.
Picklable, seeded per loader worker.

Multi-scale: with `short_side_range` (lo, hi) every sample is first resized to a random short side in
that range, so the model meets objects at many pixel sizes and stops depending on the one scale it
was trained at (a model trained at one scale loses up to 2 dB run at another).
"""

from __future__ import annotations

import random

import numpy as np
import torch
import torch.nn.functional as F


def worker_random(seed: object) -> random.Random:
    """A random stream of its own for each loader worker (called inside the worker), reproducible from `seed`."""
    info = torch.utils.data.get_worker_info()
    return random.Random(f"{seed}-{info.id if info else 0}")


class RandomCropFlip:
    def __init__(self, crop: int, seed: int, short_side_range: tuple[int, int] | None = None) -> None:
        if short_side_range is not None and not crop <= short_side_range[0] <= short_side_range[1]:
            raise ValueError(f"short_side_range must be [lo, hi] with crop ({crop}) <= lo <= hi, got {short_side_range}")
        self.crop = crop
        self.seed = seed
        self.short_side_range = short_side_range
        self._rng: random.Random | None = None

    def _random(self) -> random.Random:
        if self._rng is None:  # created inside the worker process, so workers draw different crops
            self._rng = worker_random(self.seed)
        return self._rng

    def __call__(self, lightness: np.ndarray, ab: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """L (H, W), ab (2, H, W) -> L (1, c, c), ab (2, c, c) float32 tensors."""
        lab = torch.from_numpy(np.concatenate([lightness[None], ab], axis=0))
        height, width = lab.shape[-2:]
        rng = self._random()
        target = rng.randint(*self.short_side_range) if self.short_side_range else self.crop
        if min(height, width) < self.crop or (self.short_side_range and min(height, width) != target):
            scale = max(target, self.crop) / min(height, width)
            size = (max(self.crop, round(height * scale)), max(self.crop, round(width * scale)))
            lab = F.interpolate(lab[None], size=size, mode="bilinear", align_corners=False, antialias=scale < 1)[0]
            height, width = size
        top, left = rng.randint(0, height - self.crop), rng.randint(0, width - self.crop)
        lab = lab[:, top : top + self.crop, left : left + self.crop]
        if rng.random() < 0.5:
            lab = lab.flip(-1)
        lab = lab.contiguous()
        return lab[:1], lab[1:]
