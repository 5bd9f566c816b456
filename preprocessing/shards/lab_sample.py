"""One image file -> one shard sample: sized by the resize policy, Lab bytes + metadata, and its ab pixels for the histogram.

How an image becomes a training sample's size: short side to S, aspect kept, optional centre crop.

Both directions are resized (small images are upscaled) so that every sample is at least S x S and
random crops of size S are always possible downstream.

One image file -> one shard sample (Lab bytes + metadata) and its ab pixels for the histogram.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from preprocessing.colour.lab_numpy import srgb_to_lab
from preprocessing.images.image_loading import load_rgb
from preprocessing.shards.lab_codec import DEFAULT_CODEC, encode_lab
from safe_files.image_decode import DATASET_MAX_PIXELS


@dataclass(frozen=True)
class ResizePolicy:
    short_side: int  # ShardSettings.short_side
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


@dataclass
class EncodedSample:
    record: dict[str, bytes | str]  # what goes into the tar
    ab: np.ndarray  # (H, W, 2) float32, for the ab histogram


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
    lab = srgb_to_lab(np.asarray(resized))
    metadata = {
        "source": source or str(path),
        "sha256": sha256,
        "width": original_size[0],
        "height": original_size[1],
        "sample_width": resized.size[0],
        "sample_height": resized.size[1],
    }
    record = {"__key__": sha256, **encode_lab(lab, codec), "json": json.dumps(metadata).encode()}
    return EncodedSample(record=record, ab=lab[..., 1:])
