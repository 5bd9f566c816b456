"""The Lab encoding inside a shard sample, and the decoder the dataset card names.

All codecs first quantise L, a and b to 8 bits:

    L8 = round(L * 255 / 100)      L = L8 * 100 / 255     (step 0.39)
    a8 = round(a) + 128            a = a8 - 128           (step 1, clipped to [-128, 127])
    b8 = round(b) + 128            b = b8 - 128

then store the planes (chosen by measurement, see docs/benchmarks.md "Lab encoding"):

- `l8png-ab8jpg` (default): L8 as a lossless grayscale PNG (`l.png`: luminance detail is what the
  model conditions on and what inference keeps), a8 over b8 stacked as one grayscale JPEG at quality
  98 (`ab.jpg`: chroma is smooth, so a high-quality DCT costs little error). About 2.1x the bytes of a
  JPEG q95 of the same RGB, mean CIE76 dE 0.49 against float Lab.
- `lab8-png`: all three planes losslessly in one PNG (`lab.png`): dE 0.34, about 2.7x JPEG q95.
- `lab8-webp`: the same planes as lossless WebP (`lab.webp`): dE 0.34, about 2.1x, slow to encode.

A sample also carries `json` metadata (source, sha256, size).
"""

from __future__ import annotations

import io
import zlib
from typing import Any, Literal, Mapping, get_args

import numpy as np
from PIL import Image

ENCODING_VERSION = 1
DEFAULT_CODEC = "l8png-ab8jpg"
DECODER_PATH = "preprocessing.shards.lab_codec:decode_sample"
AB_JPEG_QUALITY = 98
# zlib's run-length strategy after PNG's row filters: on 256 px photo L planes it is 3x faster than
# the default strategy at level 6 and slightly smaller (docs/benchmarks.md, "URL list to shards").
# Lossless either way: the decoded plane is the same.
L_PNG_OPTIONS: dict[str, int] = {"compress_level": 6, "compress_type": zlib.Z_RLE}

CodecName = Literal["l8png-ab8jpg", "lab8-png", "lab8-webp"]
# codec -> the sample keys it writes (besides __key__ and json)
CODEC_KEYS: dict[str, tuple[str, ...]] = dict(zip(get_args(CodecName), (("l.png", "ab.jpg"), ("lab.png",), ("lab.webp",))))


def quantise_lab(lab: np.ndarray) -> np.ndarray:
    """float Lab (H, W, 3) -> uint8 planes (H, W, 3)."""
    planes = np.empty(lab.shape, dtype=np.float32)
    planes[..., 0] = lab[..., 0] * (255.0 / 100.0)
    planes[..., 1:] = lab[..., 1:] + 128.0
    return np.clip(np.rint(planes), 0, 255).astype(np.uint8)


def dequantise_lab(planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """uint8 planes (H, W, 3) -> float32 L (H, W) and ab (2, H, W)."""
    lightness = planes[..., 0].astype(np.float32) * (100.0 / 255.0)
    ab = planes[..., 1:].astype(np.float32).transpose(2, 0, 1) - 128.0
    return lightness, np.ascontiguousarray(ab)


def _save(array: np.ndarray, pil_format: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=pil_format, **options)
    return buffer.getvalue()


def _load(data: bytes, mode: str) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image if image.mode == mode else image.convert(mode))


def encode_lab(lab: np.ndarray, codec: str = DEFAULT_CODEC) -> dict[str, bytes]:
    """float Lab (H, W, 3) -> {sample key: bytes}."""
    return encode_planes(quantise_lab(lab), codec)


def encode_planes(planes: np.ndarray, codec: str = DEFAULT_CODEC) -> dict[str, bytes]:
    """uint8 Lab planes (H, W, 3), as `quantise_lab` makes them -> {sample key: bytes}."""
    if codec == "l8png-ab8jpg":
        ab_stacked = np.concatenate([planes[..., 1], planes[..., 2]], axis=0)
        return {
            "l.png": _save(np.ascontiguousarray(planes[..., 0]), "PNG", **L_PNG_OPTIONS),
            "ab.jpg": _save(ab_stacked, "JPEG", quality=AB_JPEG_QUALITY),
        }
    if codec == "lab8-png":
        return {"lab.png": _save(planes, "PNG", compress_level=6)}
    if codec == "lab8-webp":
        return {"lab.webp": _save(planes, "WEBP", lossless=True, quality=100, method=4)}
    raise ValueError(f"unknown codec {codec!r}; known: {sorted(CODEC_KEYS)}")


def decode_planes(sample: Mapping[str, Any]) -> np.ndarray:
    """Sample dict -> uint8 planes (H, W, 3), whichever codec wrote it."""
    if "l.png" in sample:
        lightness = _load(sample["l.png"], "L")
        a_plane, b_plane = np.split(_load(sample["ab.jpg"], "L"), 2, axis=0)
        return np.stack([lightness, a_plane, b_plane], axis=-1)
    for key in ("lab.png", "lab.webp"):
        if key in sample:
            return _load(sample[key], "RGB")
    raise KeyError(f"sample {sample.get('__key__')!r} holds no Lab planes (keys: {sorted(sample)})")


def decode_sample(sample: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """One webdataset sample dict (raw bytes, as read from the tar) -> float32 L (H, W), ab (2, H, W)."""
    return dequantise_lab(decode_planes(sample))
