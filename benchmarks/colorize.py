"""Colorization benchmark: end-to-end images/s and s/MP at 0.3, 1 and 12 MP against the same run's
decode+encode floor (no model), plus peak RSS over a 2,000-image zip (memory must stay flat), the
first image's time (numba compile or cache load) and the full-resolution L and join alone.

    python benchmarks/colorize.py [--model BUNDLE|default|fast | --arch cpu-small] [--size N] [--device cpu|cuda] [--out FILE]

Inputs are generated: a real archive photo (../shared/data/bw-archive, else a synthetic scene)
resized to each size and saved as sepia-toned JPEG q90, like a scanned print. Without --model a
randomly initialised bundle of the chosen architecture is exported (speed does not depend on the
weights). Prints one JSON document (and writes it to --out).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import tifffile
import torch
from PIL import Image

from inference.archive_members import list_members
from inference.batch_colorize import colorize_members
from inference.colorizer import Colorizer, ColorizeSettings
from inference.full_res_lab import join_lightness_ab, lightness_of_rgb
from inference.model_loading import resolve_bundle
from inference.output_encoding import capture_metadata, encode_image
from inference.output_target import DirectoryOutput
from inference.run_ledger import RunLedger
from inference.working_size import working_shape
from preprocessing.images.image_loading import to_rgb
from safe_files.image_decode import open_checked

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the repo root too
from benchmarks.json_report import emit  # noqa: E402

ARCHIVE = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "bw-archive"
SIZES = {"0.3MP": (640, 480), "1MP": (1155, 866), "12MP": (4000, 3000)}
COUNTS = {"0.3MP": 24, "1MP": 12, "12MP": 3}
ARCHITECTURES = {
    "cpu-small": {"width": 16, "depth": 3, "blocks_per_level": 1},  # training preset cpu-small
    "default": {},  # model_factory.DEFAULT_GENERATOR (32 wide, depth 4)
    "gpu-base": {"width": 64, "depth": 4, "blocks_per_level": 2, "attention": True, "global_context": True},
}


def base_picture() -> Image.Image:
    files = sorted(p for p in ARCHIVE.glob("*.jpg")) if ARCHIVE.is_dir() else []
    if files:
        return Image.open(max(files[:40], key=lambda p: p.stat().st_size)).convert("L")
    y, x = np.mgrid[0:900, 0:1200]
    scene = 128 + 60 * np.sin(x / 37.0) * np.cos(y / 23.0) + np.random.default_rng(0).normal(0, 12, x.shape)
    return Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8), "L")


def sepia_jpeg(grey: Image.Image, size: tuple[int, int], seed: int) -> bytes:
    rng = random.Random(seed)
    left, top = rng.randint(0, 20), rng.randint(0, 20)  # distinct content per file (distinct hashes)
    crop = grey.crop((left, top, grey.width - 20 + left, grey.height - 20 + top)).resize(size, Image.Resampling.BICUBIC)
    sepia = Image.merge("RGB", [crop.point(lambda v, k=k: min(255, int(v * k))) for k in (1.07, 0.93, 0.76)])
    buffer = io.BytesIO()
    sepia.save(buffer, format="JPEG", quality=90, dpi=(300, 300))
    return buffer.getvalue()


def make_bundle(arch: str, folder: Path) -> Path:
    from training.bundle import export_bundle
    from training.model_factory import build_model, generator_config

    config = generator_config("regression", **ARCHITECTURES[arch])
    torch.manual_seed(0)
    return export_bundle(build_model(config), config, {}, {"note": "random weights, for timing only"}, folder / f"bundle-{arch}")


def floor_run(files: list[Path], out: Path, workers: int) -> float:
    """Decode + encode (same format, metadata, atomic write) with no model: the I/O floor."""
    target = DirectoryOutput(out)

    def one(path: Path) -> None:
        image = open_checked(path.read_bytes())
        meta = capture_metadata(image)
        target.write(path.name, encode_image(to_rgb(image), meta, "floor"))

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, files))
    return time.perf_counter() - started


def measure_size(label: str, colorizer: Colorizer, grey: Image.Image, root: Path, workers: int, batch: int) -> dict:
    folder = root / f"in-{label}"
    folder.mkdir()
    files = []
    for index in range(COUNTS[label]):
        files.append(folder / f"{label}-{index:03d}.jpg")
        files[-1].write_bytes(sepia_jpeg(grey, SIZES[label], index))
    megapixels = SIZES[label][0] * SIZES[label][1] / 1e6 * len(files)
    floor_run(files[:1], root / f"warm-{label}", workers)  # warm caches and the pool
    floor = min(floor_run(files, root / f"floor-{label}-{r}", workers) for r in range(2))
    out = DirectoryOutput(root / f"out-{label}")
    started = time.perf_counter()
    report = colorize_members(list_members(folder), out, colorizer, RunLedger(out.workspace), batch_size=batch, workers=workers)
    seconds = time.perf_counter() - started
    timings = [e.timings for e in RunLedger(out.workspace).entries().values() if e.status == "done"]
    assert report.done == len(files), report
    return {
        "images": len(files),
        "width_x_height": list(SIZES[label]),
        "images_per_s": round(len(files) / seconds, 3),
        "s_per_image": round(seconds / len(files), 4),
        "s_per_mp": round(seconds / megapixels, 4),
        "floor_s_per_image": round(floor / len(files), 4),
        "floor_s_per_mp": round(floor / megapixels, 4),
        "ratio_to_floor": round(seconds / floor, 2),
        "mean_stage_s": {k: round(float(np.mean([t.get(k, 0.0) for t in timings])), 4) for k in ("read", "decode", "model", "encode")},
    }


def grey_tiff(grey: Image.Image, size: tuple[int, int], seed: int, bits: int) -> bytes:
    """A grey scan as an archive keeps it: TIFF, LZW with a predictor; 16 bits with sub-8-bit noise, or
    the same picture's top 8 bits."""
    rng = random.Random(seed)
    left, top = rng.randint(0, 20), rng.randint(0, 20)
    crop = grey.crop((left, top, grey.width - 20 + left, grey.height - 20 + top)).resize(size, Image.Resampling.BICUBIC)
    fine = np.asarray(crop).astype(np.uint32) * 257 + np.random.default_rng(seed).integers(0, 257, (size[1], size[0]))
    sixteen = np.minimum(fine, 65535).astype(np.uint16)
    pixels = sixteen if bits == 16 else (sixteen >> 8).astype(np.uint8)
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, pixels, compression="lzw", predictor=True, metadata=None)
    return buffer.getvalue()


def bit_depth_throughput(colorizer: Colorizer, grey: Image.Image, root: Path, workers: int, batch: int,
                         label: str = "1MP", count: int = 8, rounds: int = 3) -> dict:
    """The 16-bit path (L from 16 bits, 16-bit join, tifffile LZW write, metadata) against the 8-bit path
    on the same photos, 16-bit grey TIFF masters vs their top 8 bits; rounds alternate, medians."""
    folders = {}
    for bits in (8, 16):
        folders[bits] = root / f"depth-{bits}"
        folders[bits].mkdir()
        for index in range(count):
            (folders[bits] / f"scan-{index:03d}.tif").write_bytes(grey_tiff(grey, SIZES[label], index, bits))
    seconds: dict[int, list[float]] = {8: [], 16: []}
    for round_index in range(rounds):
        for bits in ((8, 16) if round_index % 2 == 0 else (16, 8)):
            out = DirectoryOutput(root / f"depth-out-{bits}-{round_index}")
            started = time.perf_counter()
            report = colorize_members(list_members(folders[bits]), out, colorizer, RunLedger(out.workspace),
                                      batch_size=batch, workers=workers)
            seconds[bits].append(time.perf_counter() - started)
            assert report.done == count, report
    megapixels = SIZES[label][0] * SIZES[label][1] / 1e6 * count
    median = {bits: float(np.median(values)) for bits, values in seconds.items()}
    return {
        "images": count, "width_x_height": list(SIZES[label]), "rounds": rounds, "input": "grey TIFF, LZW + predictor",
        "s_per_image_8bit": round(median[8] / count, 4), "s_per_image_16bit": round(median[16] / count, 4),
        "s_per_mp_8bit": round(median[8] / megapixels, 4), "s_per_mp_16bit": round(median[16] / megapixels, 4),
        "ratio_16_to_8": round(median[16] / median[8], 2),
        "output_mb_8bit": round(sum(f.stat().st_size for f in (root / "depth-out-8-0").glob("*.tif")) / 1e6, 2),
        "output_mb_16bit": round(sum(f.stat().st_size for f in (root / "depth-out-16-0").glob("*.tif")) / 1e6, 2),
    }


def full_res_stages(grey: Image.Image, size: int, repeats: int = 5) -> dict:
    """Median ms of the per-pixel stages on one thread (the codec threads run them): full-res L, and
    the join of working-size ab onto it. The pipeline figures above hide them behind the model."""
    out = {}
    for label, (width, height) in SIZES.items():
        rgb = np.asarray(to_rgb(open_checked(sepia_jpeg(grey, (width, height), 0))))
        lightness = lightness_of_rgb(rgb)
        shape = working_shape(width, height, size)
        ab = torch.randn(2, *shape, generator=torch.Generator().manual_seed(0)) * 30
        stages = {"lightness": lambda: lightness_of_rgb(rgb), "join": lambda: join_lightness_ab(lightness, ab)}
        out[label] = {name: round(_median_ms(stage, repeats), 2) for name, stage in stages.items()}
    return out


def _median_ms(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return float(np.median(times))


def rss_child(bundle: str, size: int, count: int, device: str, workers: int, batch: int) -> dict:
    """Run in a fresh process: colorize a `count`-image zip, sampling RSS as it goes."""
    root = Path(tempfile.mkdtemp(prefix="tintype-bench-rss-"))
    grey = base_picture()
    archive = root / "archive.zip"
    with zipfile.ZipFile(archive, "w") as bundle_zip:
        for index in range(count):
            bundle_zip.writestr(f"box-{index // 100:02d}/scan-{index:05d}.jpg", sepia_jpeg(grey, (512, 384), index))
    colorizer = Colorizer.from_bundle(bundle, ColorizeSettings(working_size=size), device)
    samples: list[tuple[int, float]] = []
    seen = [0]

    def on_image(entry) -> None:
        seen[0] += 1
        if seen[0] in (1, 50, 100, 250, 500, 1000, 1500, count) or seen[0] % 250 == 0:
            samples.append((seen[0], _status_mb("VmRSS")))

    out = DirectoryOutput(root / "out")
    started = time.perf_counter()
    report = colorize_members(list_members(archive), out, colorizer, RunLedger(out.workspace), batch_size=batch,
                              workers=workers, on_image=on_image)
    seconds = time.perf_counter() - started
    return {
        "images": count, "done": report.done, "failed": report.failed, "seconds": round(seconds, 1),
        "images_per_s": round(report.done / seconds, 2),
        "rss_mb_after_n_images": samples,
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so it would report the parent's peak.
        "peak_rss_mb": _status_mb("VmHWM"),
    }


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        return round(next(int(line.split()[1]) for line in status if line.startswith(field)) / 1024, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="bundle folder or shipped name (default, fast); default: random weights of --arch")
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="cpu-small")
    parser.add_argument("--size", type=int, default=None, help="working size (default: the bundle's own, else 256)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=2, help="decode/encode threads")
    parser.add_argument("--batch", type=int, default=4, help="model batch")
    parser.add_argument("--rss-images", type=int, default=2000)
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--only-bit-depth", action="store_true", help="only the 16-bit vs 8-bit master comparison")
    parser.add_argument("--rss-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.rss_child:
        print(json.dumps(rss_child(args.model, args.size or None, args.rss_images, args.device, args.workers, args.batch)))
        return 0

    root = Path(tempfile.mkdtemp(prefix="tintype-bench-colorize-"))
    bundle = resolve_bundle(args.model) if args.model else make_bundle(args.arch, root)
    colorizer = Colorizer.from_bundle(bundle, ColorizeSettings(working_size=args.size), args.device)
    size = colorizer.settings.working_size
    grey = base_picture()
    results: dict = {
        "machine": {"cpus": len(os.sched_getaffinity(0)), "torch_threads": torch.get_num_threads(), "device": args.device,
                    "python": platform.python_version(), "torch": torch.__version__,
                    "load_average_at_start": [round(v, 2) for v in os.getloadavg()]},
        "model": {"bundle": str(bundle), "version": colorizer.version, "arch": None if args.model else args.arch,
                  "parameters": sum(p.numel() for p in colorizer.model.parameters())},
        "working_size": size,
        "sizes": {},
    }
    warm = root / "warm"
    warm.mkdir()
    (warm / "w.jpg").write_bytes(sepia_jpeg(grey, SIZES["1MP"], 999))
    out = DirectoryOutput(root / "warm-out")
    started = time.perf_counter()
    colorize_members(list_members(warm), out, colorizer, RunLedger(out.workspace))  # first-call costs out of the figures
    results["first_image_s"] = round(time.perf_counter() - started, 2)  # numba kernels compiled or loaded from cache
    results["bit_depth_1mp"] = bit_depth_throughput(colorizer, grey, root, args.workers, args.batch)
    print("bit depth", json.dumps(results["bit_depth_1mp"]), file=sys.stderr)
    if args.only_bit_depth:
        emit(results, args.out)
        return 0
    for label in SIZES:
        results["sizes"][label] = measure_size(label, colorizer, grey, root, args.workers, args.batch)
        print(label, json.dumps(results["sizes"][label]), file=sys.stderr)
    results["full_res_stages_ms_one_thread"] = full_res_stages(grey, size)
    if not args.skip_rss:
        child = subprocess.run(
            [sys.executable, __file__, "--rss-child", "--model", str(bundle), "--size", str(size), "--device", args.device,
             "--rss-images", str(args.rss_images), "--workers", str(args.workers), "--batch", str(args.batch)],
            capture_output=True, text=True, check=True,
        )
        results["rss"] = json.loads(child.stdout.strip().splitlines()[-1])
    results["machine"]["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    emit(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
