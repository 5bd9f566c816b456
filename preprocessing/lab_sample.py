"""One image file -> one shard sample (Lab bytes + metadata) and its ab pixels for the histogram."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from preprocessing.image_loading import DEFAULT_MAX_PIXELS, load_rgb
from preprocessing.lab_codec import DEFAULT_CODEC, encode_lab
from preprocessing.lab_numpy import srgb_to_lab
from preprocessing.resize_policy import ResizePolicy


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
    max_pixels: int = DEFAULT_MAX_PIXELS,
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
