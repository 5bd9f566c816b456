"""Shard benchmark: Lab codecs against JPEG q95, end-to-end shard build, rgb->Lab against scikit-image.

    python benchmarks/shards.py [--images ../shared/data/caltech101] [--workers 2] [--out result.json]

Prints one JSON document (and writes it to --out).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from preprocessing.colour.lab_numpy import delta_e76, srgb_to_lab
from preprocessing.images.image_inventory import iter_image_files
from preprocessing.images.image_loading import load_rgb
from preprocessing.shards.lab_codec import CODEC_KEYS, decode_sample, encode_lab
from preprocessing.shards.lab_sample import ResizePolicy
from preprocessing.shards.shard_build import build_shards
from preprocessing.shards.shard_plan import ShardSettings

DEFAULT_IMAGES = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "caltech101"


def _resized_samples(files: list[Path], size: int) -> list[np.ndarray]:
    policy = ResizePolicy(size)
    return [np.asarray(policy.apply(load_rgb(path))) for path in files]


def compare_codecs(rgbs: list[np.ndarray]) -> dict:
    jpeg_bytes = 0
    for rgb in rgbs:
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, format="JPEG", quality=95)
        jpeg_bytes += buffer.tell()
    labs = [srgb_to_lab(rgb) for rgb in rgbs]
    results = {"jpeg_q95_bytes_per_sample": jpeg_bytes / len(rgbs)}
    for codec in CODEC_KEYS:
        encoded = []
        started = time.perf_counter()
        for lab in labs:
            encoded.append(encode_lab(lab, codec))
        encode_seconds = time.perf_counter() - started
        started = time.perf_counter()
        decoded = [decode_sample(sample) for sample in encoded]
        decode_seconds = time.perf_counter() - started
        errors = []
        for lab, (lightness, ab) in zip(labs, decoded):
            restored = np.concatenate([lightness[..., None], ab.transpose(1, 2, 0)], axis=-1)
            errors.append(float(delta_e76(lab, restored).mean()))
        per_sample = sum(len(blob) for sample in encoded for blob in sample.values()) / len(encoded)
        results[codec] = {
            "bytes_per_sample": per_sample,
            "ratio_to_jpeg_q95": per_sample / results["jpeg_q95_bytes_per_sample"],
            "mean_delta_e76": float(np.mean(errors)),
            "encode_samples_per_s": len(labs) / encode_seconds,
            "decode_samples_per_s": len(labs) / decode_seconds,
        }
    return results


def compare_rgb_to_lab(rgbs: list[np.ndarray], repeats: int = 3) -> dict:
    from skimage.color import rgb2lab

    batch = np.concatenate([rgb.reshape(-1, 3) for rgb in rgbs])[None]
    megapixels = batch.shape[1] / 1e6

    def best(function) -> float:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            function(batch)
            times.append(time.perf_counter() - started)
        return min(times)

    ours = best(srgb_to_lab)
    theirs = best(rgb2lab)
    return {
        "megapixels": megapixels,
        "tintype_mpix_per_s": megapixels / ours,
        "skimage_mpix_per_s": megapixels / theirs,
        "speedup": theirs / ours,
    }


def end_to_end(images: Path, workers: int, limit: int | None) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(images)
        if limit:
            source = Path(scratch) / "subset"
            source.mkdir()
            for index, path in enumerate(sorted(iter_image_files(images))[:limit]):
                (source / f"{index:06d}{path.suffix}").symlink_to(path.resolve())
        started = time.perf_counter()
        card_path = build_shards(source, Path(scratch) / "shards", ShardSettings(), workers=workers)
        seconds = time.perf_counter() - started
        card = json.loads(card_path.read_text())
    samples = card["totals"]["train"]["samples"] + card["totals"]["val"]["samples"]
    written = card["totals"]["train"]["bytes"] + card["totals"]["val"]["bytes"]
    return {
        "workers": workers,
        "images_in": card["inputs"],
        "samples": samples,
        "skipped": card["skipped_counts"],
        "seconds": seconds,
        "images_per_s": card["inputs"] / seconds,
        "tar_bytes_per_sample": written / max(samples, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--codec-sample", type=int, default=300, help="images for the codec comparison")
    parser.add_argument("--limit", type=int, default=None, help="only the first N images end to end")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not args.images.is_dir():
        sys.exit(f"no images at {args.images} (the benchmark reads ../shared/data/caltech101)")

    files = sorted(iter_image_files(args.images))
    random.Random(0).shuffle(files)
    rgbs = _resized_samples(files[: args.codec_sample], 256)
    report = {
        "benchmark": "shards",
        "images": str(args.images),
        "codecs": compare_codecs(rgbs),
        "rgb_to_lab": compare_rgb_to_lab(rgbs[:100]),
        "end_to_end": end_to_end(args.images, args.workers, args.limit),
        "peak_rss_mib_parent": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
