"""One image file -> one shard sample: sized by the resize policy, Lab bytes + metadata, and its ab pixels for the histogram.

How an image becomes a training sample's size: short side to S, aspect kept, optional centre crop.

Both directions are resized by default (small images are upscaled) so that every sample is at least
S x S and random crops of size S are always possible downstream. With `keep_small` a photo whose
short side is below S keeps its own pixels (the training crop enlarges it when it must): fewer bytes
and no interpolated detail stored as if it were the photo's.

One image file -> one shard sample (Lab bytes + metadata) and its ab pixels for the histogram.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from preprocessing.images.image_loading import load_rgb
from preprocessing.shards.lab_codec import DEFAULT_CODEC, encode_planes
from preprocessing.shards.lab_planes import lab_planes
from safe_files.image_decode import DATASET_MAX_PIXELS


@dataclass(frozen=True)
class ResizePolicy:
    short_side: int  # ShardSettings.short_side
    centre_crop: bool = False
    keep_small: bool = False  # ShardSettings.keep_small: a photo smaller than short_side keeps its size

    def target_size(self, width: int, height: int) -> tuple[int, int]:
        if self.keep_small and min(width, height) <= self.short_side:
            return width, height
        scale = self.short_side / min(width, height)
        return max(self.short_side, round(width * scale)), max(self.short_side, round(height * scale))

    def apply(self, image: Image.Image) -> Image.Image:
        width, height = self.target_size(*image.size)
        if (width, height) != image.size:
            # reducing_gap: a fast box pre-reduction for big downscales, then bicubic.
            image = image.resize((width, height), Image.Resampling.BICUBIC, reducing_gap=3.0)
        if self.centre_crop:
            side = min(self.short_side, width, height)
            left, top = (width - side) // 2, (height - side) // 2
            image = image.crop((left, top, left + side, top + side))
        return image


@dataclass
class EncodedSample:
    record: dict[str, bytes | str]  # what goes into the tar
    ab_counts: np.ndarray  # int64 pixels per ab bin (preprocessing.colour.ab_gamut), for the card's histogram


def encode_image_file(
    path: str | Path,
    sha256: str,
    policy: ResizePolicy,
    codec: str = DEFAULT_CODEC,
    source: str | None = None,
    max_pixels: int = DATASET_MAX_PIXELS,
) -> EncodedSample:
    image = load_rgb(path, max_pixels=max_pixels)
    original_size = image.size
    resized = policy.apply(image)
    planes, ab_counts = lab_planes(np.asarray(resized))
    metadata = {
        "source": source or str(path),
        "sha256": sha256,
        "width": original_size[0],
        "height": original_size[1],
        "sample_width": resized.size[0],
        "sample_height": resized.size[1],
    }
    record = {"__key__": sha256, **encode_planes(planes, codec), "json": json.dumps(metadata).encode()}
    return EncodedSample(record=record, ab_counts=ab_counts)
