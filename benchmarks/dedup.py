"""Dedup benchmark: (a) pHash throughput against imagededup's PHash on the same files, in the same
run; (b) all pairs within radius 8 among 1,000,000 synthetic 64-bit hashes with planted pairs,
multi-index hashing against a NumPy brute force on a subset (extrapolated).

    python benchmarks/dedup.py [--images ../shared/data/caltech101] [--limit 0] [--rounds 3] [--hashes 1000000]
                               [--planted 2000] [--radius 8] [--brute-subset 20000] [--skip-peer] [--out FILE]

The peer runs in its own virtual environment, bench-out/imagededup-venv, created on first use:
imagededup 0.3.3.post2 with --no-deps plus what its hashing module imports (numpy, scipy, pillow,
PyWavelets, tqdm, scikit-learn). Its full dependencies would add torch and torchvision (for its
CNN method), and its package __init__ files import them, so the runner imports
imagededup.methods.hashing with those two __init__ files bypassed; the hashing code is unchanged.
Prints one JSON document (and writes it to --out).
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from preprocessing.cleaning.hamming_index import HammingIndex, synthetic_codes
from preprocessing.cleaning.image_analysis import (
    analyse_image,
    pixel_sha256,
    shared_reduction,
)
from preprocessing.cleaning.multi_index_tables import brute_force_pairs
from preprocessing.cleaning.perceptual_hash import phash, phash_file
from preprocessing.images.image_inventory import iter_image_files
from preprocessing.images.image_loading import load_rgb, validate_image

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_IMAGES = ROOT.parent / "shared" / "data" / "caltech101"
PEER_VENV = ROOT / "bench-out" / "imagededup-venv"
PEER_PACKAGES = ["imagededup==0.3.3.post2"]
PEER_HASHING_DEPS = ["numpy", "scipy", "pillow", "PyWavelets", "tqdm", "scikit-learn"]

PEER_RUNNER = r"""
import json, os, sys, time, types
import imagededup
root = os.path.dirname(imagededup.__file__)
for name in ("imagededup.methods", "imagededup.utils"):  # skip __init__: it imports torch for the CNN method
    package = types.ModuleType(name)
    package.__path__ = [os.path.join(root, name.split(".")[1])]
    sys.modules[name] = package
from imagededup.methods.hashing import PHash
files = [line.rstrip("\n") for line in open(sys.argv[1])]
hasher = PHash(verbose=False)
started, cpu_started = time.perf_counter(), time.process_time()
hashes = [hasher.encode_image(image_file=f) for f in files]
seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "hashes": hashes}))
"""


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def ensure_peer_venv(venv: Path = PEER_VENV) -> Path:
    python = venv / "bin" / "python"
    if python.exists():
        return python
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run(pip + ["--no-deps", *PEER_PACKAGES], check=True)
    subprocess.run(pip + PEER_HASHING_DEPS, check=True)
    return python


def _time(function, files: list[str]) -> tuple[float, float, list]:
    started, cpu_started = time.perf_counter(), time.process_time()
    hashes = [function(path) for path in files]
    return time.perf_counter() - started, time.process_time() - cpu_started, hashes


def _rates(count: int, seconds: float, cpu_seconds: float) -> dict:
    return {"seconds": round(seconds, 2), "images_per_s": round(count / seconds, 1),
            "cpu_seconds": round(cpu_seconds, 2), "images_per_cpu_s": round(count / cpu_seconds, 1)}


def _hashing_part_of_cleaning(path: str) -> int:
    """What the dedup step needs from the cleaning path: validation's full decode (ICC, EXIF, RGB),
    the pixel sha256 and the pHash of the shared reduction; no colour statistics."""
    with open(path, "rb") as handle:  # as analyse_image reads: once, then decodes from memory
        image = validate_image(io.BytesIO(handle.read())).image
    pixel_sha256(image)
    return phash(shared_reduction(image))


OURS = {
    "tintype_phash_file": (phash_file, "pHash from file, JPEG draft decode (hashing only)"),
    "tintype_hashing_of_cleaning": (_hashing_part_of_cleaning,
                                    "full decode + ICC + EXIF + RGB, pixel sha256, pHash of the shared reduction"),
    "tintype_analyse_image": (lambda path: int(analyse_image(path, "-").get("phash", "0"), 16),
                              "the whole cleaning path: the above + colour statistics + colourfulness + colour verdict"),
}


def _run_peer(python: Path, files: list[str]) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(files) + "\n")
    try:
        run = subprocess.run([str(python), "-c", PEER_RUNNER, listing.name], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        os.unlink(listing.name)
    return json.loads(run.stdout.strip().splitlines()[-1])


def _median_rates(count: int, rounds: list[tuple[float, float]]) -> dict:
    seconds = float(np.median([r[0] for r in rounds]))
    cpu_seconds = float(np.median([r[1] for r in rounds]))
    return {**_rates(count, seconds, cpu_seconds), "rounds_images_per_cpu_s": [round(count / r[1], 1) for r in rounds]}


def hashing_throughput(files: list[str], rounds: int, skip_peer: bool) -> dict:
    """Each round times every hasher of ours, then imagededup, on the same files (interleaved, so
    that changing machine load hits both sides alike); rates are medians over the rounds."""
    result: dict = {"images": len(files), "rounds": rounds, "load_average_before": list(os.getloadavg())}
    python = None
    if not skip_peer:
        try:
            python = ensure_peer_venv()
        except (subprocess.CalledProcessError, OSError) as error:
            result["imagededup_phash"] = {"error": f"could not install imagededup: {error}"}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in OURS}
    peer_times: list[tuple[float, float]] = []
    hashes: dict[str, list[int]] = {}
    peer_hashes: list[str] = []
    for _ in range(rounds):
        for name, (function, _what) in OURS.items():
            seconds, cpu, hashes[name] = _time(function, files)
            times[name].append((seconds, cpu))
        if python is not None:
            peer = _run_peer(python, files)
            peer_times.append((peer["seconds"], peer["cpu_seconds"]))
            peer_hashes = peer["hashes"]
    result["load_average_after"] = list(os.getloadavg())
    for name, (_function, what) in OURS.items():
        result[name] = {**_median_rates(len(files), times[name]), "what": what}
    full = [phash(load_rgb(path)) for path in files[:500]]
    result["phash_file_vs_full_decode_mean_bits"] = round(
        float(np.mean([(a ^ b).bit_count() for a, b in zip(hashes["tintype_phash_file"], full)])), 3)
    result["cleaning_phash_vs_full_decode_mean_bits"] = round(
        float(np.mean([(a ^ b).bit_count() for a, b in zip(hashes["tintype_hashing_of_cleaning"], full)])), 3)
    if not peer_times:
        return result
    result["imagededup_phash"] = {**_median_rates(len(files), peer_times),
                                  "what": "imagededup 0.3.3.post2 PHash.encode_image per file"}
    decoded = [int(h, 16) if h else None for h in peer_hashes]
    pairs = [(a, b) for a, b in zip(full, decoded) if b is not None]
    result["agreement_with_imagededup"] = {
        "identical": round(sum(a == b for a, b in pairs) / max(len(pairs), 1), 4),
        "mean_bits": round(float(np.mean([(a ^ b).bit_count() for a, b in pairs])), 3),
    }
    peer_rate = result["imagededup_phash"]["images_per_s"]
    peer_cpu_rate = result["imagededup_phash"]["images_per_cpu_s"]
    for name in OURS:
        ours = result[name]
        result[f"speedup_{name.removeprefix('tintype_')}"] = {"wall": round(ours["images_per_s"] / peer_rate, 2),
                                                                 "cpu": round(ours["images_per_cpu_s"] / peer_cpu_rate, 2)}
    return result


def _index_child(count: int, planted: int, radius: int, batches: int) -> dict:
    codes, rows = synthetic_codes(count, planted, radius)
    base_rss = _peak_rss_mib()
    with tempfile.TemporaryDirectory() as folder:
        index = HammingIndex(Path(folder) / "index", radius=radius)
        started, cpu_started = time.perf_counter(), time.process_time()
        batch_seconds = []
        for batch in np.array_split(np.arange(count), batches):
            batch_started = time.perf_counter()
            index.add(codes[batch])
            batch_seconds.append(round(time.perf_counter() - batch_started, 2))
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        found = index.pairs()
        reopen_started = time.perf_counter()
        reopened = HammingIndex(Path(folder) / "index", radius=radius)
        reopen_seconds = time.perf_counter() - reopen_started
        assert len(reopened.pairs()) == len(found)
    found_keys = set((found[:, 0] * count + found[:, 1]).tolist())
    planted_found = sum((a * count + b) in found_keys for a, b in rows.tolist())
    return {
        "hashes": count, "batches": batches, "seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2),
        "batch_seconds": batch_seconds,
        "pairs_found": int(len(found)), "planted": planted, "planted_found": planted_found,
        "recall": planted_found / planted, "max_distance": int(found[:, 2].max()) if len(found) else None,
        "peak_rss_mib": round(_peak_rss_mib(), 1), "rss_before_index_mib": round(base_rss, 1),
        "reopen_seconds": round(reopen_seconds, 2), "segments_after": len(reopened.segments),
    }


def _brute_child(count: int, planted: int, radius: int, subset: int) -> dict:
    codes, _ = synthetic_codes(count, planted, radius)
    sample = codes[:subset]
    started, cpu_started = time.perf_counter(), time.process_time()
    brute = brute_force_pairs(sample, radius)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    index_started = time.perf_counter()
    mih = HammingIndex(radius=radius)
    mih.add(sample)
    index_seconds = time.perf_counter() - index_started
    same = set(map(tuple, brute.tolist())) == set(map(tuple, mih.pairs().tolist()))
    return {
        "subset": subset, "seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2), "pairs": int(len(brute)),
        "extrapolated_seconds_for_full": round(seconds * (count / subset) ** 2, 1),
        "extrapolated_cpu_seconds_for_full": round(cpu_seconds * (count / subset) ** 2, 1),
        "index_seconds_same_subset": round(index_seconds, 3), "index_equals_brute_force": same,
        "peak_rss_mib": round(_peak_rss_mib(), 1),
    }


def _in_child(function, *args):
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES)
    parser.add_argument("--limit", type=int, default=0, help="hash only the first N files (0: all)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (ours, then imagededup); medians reported")
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--planted", type=int, default=2000)
    parser.add_argument("--radius", type=int, default=8)
    parser.add_argument("--brute-subset", type=int, default=20_000)
    parser.add_argument("--incremental-batches", type=int, default=10)
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--skip-hashing", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    result: dict = {"cpu_count": os.cpu_count()}
    if not args.skip_hashing and args.images.is_dir():
        files = [str(p) for p in iter_image_files(args.images)]
        files = files[: args.limit] if args.limit else files
        result["hashing"] = hashing_throughput(files, args.rounds, args.skip_peer)
    if not args.skip_search:
        result["search_one_batch"] = _in_child(_index_child, args.hashes, args.planted, args.radius, 1)
        if args.incremental_batches > 1:
            result["search_incremental"] = _in_child(_index_child, args.hashes, args.planted, args.radius, args.incremental_batches)
        result["brute_force"] = _in_child(_brute_child, args.hashes, args.planted, args.radius, args.brute_subset)
        result["search_speedup_vs_brute_force_extrapolated"] = round(
            result["brute_force"]["extrapolated_seconds_for_full"] / result["search_one_batch"]["seconds"], 1
        )
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
