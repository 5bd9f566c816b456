"""What the training stream draws: sources weighted by how often they are repeated, random rescale, crop and flip.

Weigh the training sources: samples whose source matches a pattern are drawn more or less often.

A scraped dataset mixes sources of very different sizes and content (thousands of face crops, a few
hundred street scenes). `source_weights` maps a substring of a sample's source (its URL from the raw
store's manifest when the data root has one, else the path the shard sample records) to a weight:
a sample is repeated floor(w) times plus once more with probability frac(w), so 3.0 triples a
source and 0.4 keeps about two in five of its samples per pass. The first matching pattern wins;
unmatched samples keep weight 1. Repeats are spread by the shuffle buffer and cropped differently.

Training augmentation on decoded Lab arrays: an optional random rescale (multi-scale training), a
random crop (upscaling first if the sample is smaller than the crop) and a random horizontal flip.
Picklable, seeded per loader worker.

Multi-scale: with `short_side_range` (lo, hi) every sample is first resized to a random short side in
that range, so the model meets objects at many pixel sizes and stops depending on the one scale it
was trained at (a model trained at one scale loses up to 2 dB run at another).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from safe_files import data_root_storage as storage

MANIFEST_FOLDER = ("raw", "manifest")  # the scrape stage's on-disk contract: url and sha256 per line
MANIFEST_PATTERN = "*.jsonl"


def _manifest_urls(shard_dir: str | Path) -> dict[str, str]:
    """sha256 -> source URL from the raw store beside the shards (DATA/raw), if there is one (a local
    folder or an object-store URL)."""
    urls: dict[str, str] = {}
    root = storage.parent_of(shard_dir) if storage.name_of(shard_dir) == "shards" else shard_dir
    for part in storage.glob(storage.join(root, *MANIFEST_FOLDER), MANIFEST_PATTERN):
        for line in storage.read_lines(part):
            row = json.loads(line)
            if row.get("sha256") and row.get("url"):
                urls.setdefault(row["sha256"], row["url"])
    return urls


def _weight_for(source: str, source_weights: dict[str, float]) -> float:
    for pattern, weight in source_weights.items():
        if pattern in source:
            return float(weight)
    return 1.0


class RepeatBySource:
    """A webdataset stage: each sample repeated by its source's weight. Picklable for loader workers."""

    def __init__(self, shard_dir: str | Path, source_weights: dict[str, float], seed: int) -> None:
        bad = {pattern: weight for pattern, weight in source_weights.items() if not float(weight) >= 0}
        if bad:
            raise ValueError(f"source weights must be >= 0, got {bad}")
        self.source_weights = dict(source_weights)
        self.urls = _manifest_urls(shard_dir)
        self.seed = seed

    def weight(self, sample: dict[str, Any]) -> float:
        meta = json.loads(sample["json"])
        source = self.urls.get(meta.get("sha256", ""), meta.get("source", ""))
        return _weight_for(source, self.source_weights)

    def __call__(self, samples: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        rng = worker_random(f"repeat-{self.seed}")  # reproducible, and its own stream in each loader worker
        for sample in samples:
            weight = self.weight(sample)
            copies = int(weight) + (1 if rng.random() < weight - int(weight) else 0)
            for _ in range(copies):
                yield sample


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
