"""URL list -> WebDataset shards: `tintype build-dataset --url-list` against img2dataset, side by side.

    python benchmarks/build_dataset.py [--images ../shared/data/caltech101] [--count 2000] [--repeats 3]
                                       [--workers 2] [--threads 16] [--size 256] [--served]
                                       [--baseline-code DIR] [--ours-options=--keep-small]
                                       [--peer-venv bench-out/img2dataset-venv] [--out result.json]

`count` real photos are served on 127.0.0.1 by a separate server process (benchmarks/scrape.py's).
Each round runs, in its own child process and in alternating order:
- ours: `tintype build-dataset --url-list ... --short-side SIZE --min-host-delay-s 0 --max-per-host
  THREADS --threads THREADS --workers WORKERS --allow-private` (every check on: robots.txt, address
  guard, X-Robots-Tag, type and magic bytes, full decode, validation, colour filter, pHash dedup, Lab
  encoding, atomic writes), with the temporary Prefect server a plain run starts, or with `--served`
  against a Prefect server started once here (PREFECT_API_URL set, as under `tintype serve`);
- img2dataset 1.47.0 in its own venv (benchmarks/scrape.py's ensure_peer): resize_mode=keep_ratio,
  image_size=SIZE, output_format=webdataset, processes_count=WORKERS, thread_count=THREADS.
Both are timed as whole processes (start-up, imports and the temporary server included): images/s
is URLs taken in per process second (ours writes fewer samples: the cleaning drops grayscale,
near-gray and duplicate photos, which img2dataset keeps). Ours also gets a breakdown from its files'
modification times (scrape, clean, shards, card) and, after each round, the decode+resize+encode
floor of its shard stage: the same kept images decoded, resized and Lab-encoded by WORKERS processes
already started, with no tar, index or hashing. Medians over the rounds; the machine may be shared,
which is why the rounds alternate. Prints one JSON document (and writes it to --out).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.json_report import emit  # noqa: E402
from benchmarks.scrape import (  # noqa: E402
    DEFAULT_IMAGES,
    DEFAULT_PEER_VENV,
    PEER_PACKAGE,
    ensure_peer,
)

PEER_SCRIPT = r"""
import glob, json, sys, time
from img2dataset import download
url_list, out, threads, processes, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
started = time.perf_counter()
download(url_list=url_list, output_folder=out, processes_count=processes, thread_count=threads,
         resize_mode="keep_ratio", image_size=size, output_format="webdataset", input_format="txt",
         retries=0, timeout=10, enable_wandb=False, distributor="multiprocessing")
ok = sum(json.load(open(p)).get("successes", 0) for p in glob.glob(out + "/*_stats.json"))
print("RESULT " + json.dumps({"seconds": time.perf_counter() - started, "ok": ok}))
"""


def _wait_for(path: Path, seconds: float = 60.0) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.05)
    raise RuntimeError(f"{path} never appeared")


def _mtime_after(started: float, paths: list[Path]) -> float | None:
    """Seconds from `started` (wall clock) to the newest of `paths`."""
    times = [p.stat().st_mtime for p in paths if p.exists()]
    return round(max(times) - started, 2) if times else None


def run_ours(url_list: Path, out: Path, args: argparse.Namespace, env: dict, code: Path = ROOT) -> dict:
    command = [
        sys.executable, "-m", "cli", "build-dataset", "--url-list", str(url_list), "--out", str(out),
        "--short-side", str(args.size), "--min-host-delay-s", "0", "--max-per-host", str(args.threads),
        "--threads", str(args.threads), "--workers", str(args.workers), "--allow-private", "--quiet",
        *(args.ours_options.split() if code == ROOT else []),
    ]
    wall_started = time.time()
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=dict(env, PYTHONPATH=str(code)), cwd=code)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"ours failed ({completed.returncode}): {completed.stderr.strip()[-2000:]}")
    card = json.loads((out / "shards" / "dataset.json").read_text())
    samples = sum(card["totals"][split]["samples"] for split in ("train", "val"))
    shards = out / "shards"
    index = shards / "_index"
    marks = {
        "scraped": _mtime_after(wall_started, list((out / "raw" / "manifest").glob("*.jsonl"))),
        "cleaned": _mtime_after(wall_started, [out / "clean" / "report.json"]),
        "shards_planned": _mtime_after(wall_started, [index / "plan.json"]),
        "shards_written": _mtime_after(wall_started, list(index.glob("*.done.json"))),
        "card": _mtime_after(wall_started, [shards / "dataset.json"]),
    }
    kept = [json.loads(line)["path"] for line in (out / "clean" / "kept.jsonl").read_text().splitlines()]
    return {
        "samples": samples,
        "seconds": round(seconds, 2),
        "images_per_s": round(args.count / seconds, 1),
        "marks_s": marks,
        "shard_stage_s": round(marks["shards_written"] - marks["shards_planned"], 2),
        "bytes_per_sample": round(sum(card["totals"][s]["bytes"] for s in ("train", "val")) / max(samples, 1)),
        "_kept": kept,
    }


def _floor_chunk(paths: list[str], size: int, codec: str, keep_small: bool = False) -> int:
    """decode + resize + Lab encode, nothing else (what a shard stage cannot avoid)."""
    from preprocessing.shards.lab_sample import ResizePolicy, encode_image_file

    policy = ResizePolicy(size, keep_small=keep_small)
    for path in paths:
        encode_image_file(path, "0" * 64, policy, codec)
    return len(paths)


def shard_floor(kept: list[str], size: int, workers: int, keep_small: bool = False) -> float:
    """Seconds for `workers` started processes to decode, resize and Lab-encode every kept image."""
    from preprocessing.shards.lab_codec import DEFAULT_CODEC

    chunks = [kept[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_floor_chunk, [kept[:4]] * workers, [size] * workers, [DEFAULT_CODEC] * workers))  # warm
        started = time.perf_counter()
        list(pool.map(_floor_chunk, chunks, [size] * workers, [DEFAULT_CODEC] * workers, [keep_small] * workers))
        return time.perf_counter() - started


def run_peer(python: Path, url_list: Path, out: Path, args: argparse.Namespace) -> dict:
    env = dict(os.environ, NO_ALBUMENTATIONS_UPDATE="1", WANDB_MODE="disabled")
    started = time.perf_counter()
    completed = subprocess.run(
        [str(python), "-c", PEER_SCRIPT, str(url_list), str(out), str(args.threads), str(args.workers), str(args.size)],
        capture_output=True, text=True, env=env,
    )
    seconds = time.perf_counter() - started
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"img2dataset failed ({completed.returncode}): {completed.stderr.strip()[-2000:]}")
    inner = json.loads(lines[-1][len("RESULT "):])
    return {"samples": inner["ok"], "seconds": round(seconds, 2), "inner_seconds": round(inner["seconds"], 2),
            "images_per_s": round(args.count / seconds, 1)}


def _medians(rows: list[dict]) -> dict:
    keys = [k for k, v in rows[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return {**{k: round(statistics.median(r[k] for r in rows), 2) for k in keys}, "runs": rows}


def start_prefect_server(work: Path, env: dict) -> tuple[subprocess.Popen, str]:
    """A Prefect server on a free port of 127.0.0.1, as `tintype serve` runs one."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    import urllib.request

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/health", timeout=2).read()
            return server, url
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise RuntimeError("the Prefect server did not start within 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", default=str(DEFAULT_IMAGES))
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3, help="ours and img2dataset alternate; medians reported")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--served", action="store_true", help="ours against a running Prefect server (PREFECT_API_URL)")
    parser.add_argument("--ours-options", default="", help='more build-dataset options for ours, e.g. =--keep-small (with the = sign)')
    parser.add_argument("--baseline-code", type=Path, help="another tree of tintype (e.g. `git archive` of the base commit), "
                        "run as a third client in the same rounds: before and after side by side")
    parser.add_argument("--peer-venv", default=str(DEFAULT_PEER_VENV))
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args()

    images = sorted(Path(args.images).rglob("*.jpg"))[: args.count]
    if len(images) < args.count:
        raise SystemExit(f"need {args.count} images under {args.images}, found {len(images)}")
    work = Path(tempfile.mkdtemp(prefix="tintype-bench-build-"))
    (work / "files.txt").write_text("\n".join(str(p) for p in images))
    server = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "scrape.py"), "--serve",
                               str(work / "files.txt"), str(work / "port")])
    peer_python, peer_how = (None, "--skip-peer") if args.skip_peer else ensure_peer(Path(args.peer_venv))
    env = dict(os.environ, PYTHONPATH=str(ROOT))  # the caller's PREFECT_HOME: its database already made
    prefect_server = None
    try:
        url_list = work / "urls.txt"
        base = f"http://127.0.0.1:{_wait_for(work / 'port')}"
        url_list.write_text("".join(f"{base}/img/{i}.jpg\n" for i in range(len(images))))
        if args.served:
            prefect_server, env["PREFECT_API_URL"] = start_prefect_server(work, env)
        ours_rows, floor_rows, peer_rows, baseline_rows = [], [], [], []
        for repeat in range(max(1, args.repeats)):
            order = ("ours", "peer") if repeat % 2 == 0 else ("peer", "ours")
            if args.baseline_code:
                order = (*order, "baseline") if repeat % 2 == 0 else ("baseline", *order)
            for who in order:
                if who == "baseline":
                    row = run_ours(url_list, work / f"baseline-{repeat}", args, env, args.baseline_code.resolve())
                    row.pop("_kept")
                    baseline_rows.append(row)
                    shutil.rmtree(work / f"baseline-{repeat}", ignore_errors=True)
                elif who == "ours":
                    row = run_ours(url_list, work / f"ours-{repeat}", args, env)
                    kept = row.pop("_kept")
                    floor = shard_floor(kept, args.size, args.workers, "--keep-small" in args.ours_options.split())
                    floor_rows.append({"images": len(kept), "seconds": round(floor, 2),
                                       "shard_stage_over_floor": round(row["shard_stage_s"] / floor, 2)})
                    ours_rows.append(row)
                    shutil.rmtree(work / f"ours-{repeat}", ignore_errors=True)
                elif peer_python is not None:
                    peer_rows.append(run_peer(peer_python, url_list, work / f"peer-{repeat}", args))
                    shutil.rmtree(work / f"peer-{repeat}", ignore_errors=True)
        report: dict = {
            "benchmark": "build_dataset",
            "images_served": len(images),
            "bytes_served": sum(p.stat().st_size for p in images),
            "size": args.size, "workers": args.workers, "threads": args.threads,
            "repeats": max(1, args.repeats),
            "cpu_cores": os.cpu_count(),
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "ours_options": args.ours_options,
            "prefect": "a running server (PREFECT_API_URL)" if args.served else "the temporary server a plain run starts",
            "ours": _medians(ours_rows),
            "shard_floor": _medians(floor_rows),
        }
        if baseline_rows:
            report["baseline"] = {"code": str(args.baseline_code), **_medians(baseline_rows)}
        if peer_python is None:
            report["img2dataset"] = {"unavailable": peer_how}
        else:
            report["img2dataset"] = {"version": PEER_PACKAGE.split("==")[1], **_medians(peer_rows)}
            report["ratio_images_per_s_ours_over_peer"] = round(
                report["ours"]["images_per_s"] / report["img2dataset"]["images_per_s"], 2)
    finally:
        server.terminate()
        server.wait(timeout=10)
        if prefect_server is not None:
            prefect_server.terminate()
            prefect_server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    emit(report, args.out)


if __name__ == "__main__":
    main()
