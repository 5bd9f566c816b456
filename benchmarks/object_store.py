"""Data root on an object store against local disk, same run: scraping, shard writing and colorizing.

    python benchmarks/object_store.py [--urls 400] [--photos 400] [--prints 48] [--rounds 3] [--model fast] [--out FILE]

The store is moto's S3 server on 127.0.0.1 (`moto_server`, started here as a child process, data in
its memory), reached through s3fs exactly as a bucket would be (`AWS_ENDPOINT_URL`). Rounds alternate
the order (disk first, then store first), so a slow neighbour on the machine costs both alike.
- scrape: `scrape_url_list` of real Caltech-101 photos served by benchmarks/scrape.py's server process
  on 127.0.0.1 (16 threads, no per-host gap, every check on) into a raw store on disk vs in the bucket;
- shards: `build_shards` of real Caltech-101 photos (local folder in both cases) into a fresh shard
  folder on disk vs in the bucket, 2 worker processes, the default 256 px short side;
- colorize: `colorize_input` of real archive prints, folder on disk -> folder on disk vs folder in the
  bucket -> folder in the bucket, the given model (default: the shipped fast one).
What this measures is the cost of the store's code path (local temporaries, uploads, ranged reads, one
request per ledger record) over a loopback link: a real bucket adds its round-trip time (tens of ms
per request) to each request, which concurrent tasks overlap. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the repo root too
from benchmarks.json_report import emit  # noqa: E402

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_store() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    server = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="benchmark", AWS_SECRET_ACCESS_KEY="benchmark",
                      AWS_DEFAULT_REGION="us-east-1")
    os.environ.pop("AWS_PROFILE", None)
    import boto3

    bucket = f"tintype-bench-{uuid.uuid4().hex[:8]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return server, f"s3://{bucket}"


def link_photos(target: Path, count: int) -> int:
    photos = sorted((SHARED / "caltech101").rglob("*.jpg"))
    step = max(1, len(photos) // count)
    target.mkdir(parents=True)
    for index, photo in enumerate(photos[::step][:count]):
        (target / f"photo-{index:04d}.jpg").symlink_to(photo.resolve())
    return len(list(target.iterdir()))


def copy_prints(target: Path, count: int) -> int:
    prints = sorted(p for p in (SHARED / "bw-archive").iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:count]
    target.mkdir(parents=True)
    for photo in prints:
        shutil.copyfile(photo, target / photo.name)
    return len(prints)


def start_gallery(work: Path, count: int) -> tuple[subprocess.Popen, Path]:
    """benchmarks/scrape.py's photo server in its own process; returns it and a URL list of `count` photos."""
    photos = sorted((SHARED / "caltech101").rglob("*.jpg"))[:count]
    (work / "served.txt").write_text("\n".join(str(photo) for photo in photos))
    ready = work / "port"
    server = subprocess.Popen([sys.executable, str(Path(__file__).with_name("scrape.py")), "--serve",
                               str(work / "served.txt"), str(ready)])
    deadline = time.monotonic() + 30
    while not (ready.exists() and ready.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    url_list = work / "urls.txt"
    url_list.write_text("".join(f"http://127.0.0.1:{ready.read_text()}/img/{index}.jpg\n" for index in range(len(photos))))
    return server, url_list


def upload_folder(local: Path, url: str) -> None:
    from safe_files.data_root_storage import upload_whole

    for file in sorted(local.iterdir()):
        upload_whole(file, f"{url}/{file.name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=400, help="Caltech-101 photos to scrape from 127.0.0.1")
    parser.add_argument("--photos", type=int, default=400, help="Caltech-101 photos to shard")
    parser.add_argument("--prints", type=int, default=48, help="archive prints to colorize")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default="fast")
    parser.add_argument("--out")
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"needs the real photos in {SHARED.resolve()}")

    from inference.colorize_run import colorize_input
    from inference.colorizer import ColorizeSettings
    from inference.model_loading import resolve_bundle
    from preprocessing.shards.shard_build import build_shards
    from preprocessing.shards.shard_plan import ShardSettings
    from scraping.scrape_runner import scrape_url_list
    from scraping.scrape_settings import ScrapeSettings
    from scraping.url_lists import read_url_list

    server, bucket = start_store()
    work = Path(tempfile.mkdtemp(prefix="tintype-store-bench-"))
    gallery, url_list = start_gallery(work, args.urls)
    scrape_settings = ScrapeSettings(threads=16, max_per_host=16, min_host_delay_s=0.0, allowed_networks=("127.0.0.1/32",))
    try:
        photos = link_photos(work / "photos", args.photos)
        prints = copy_prints(work / "prints", args.prints)
        started = time.perf_counter()
        upload_folder(work / "prints", f"{bucket}/prints")
        upload_seconds = time.perf_counter() - started
        bundle = str(resolve_bundle(args.model))
        colorize_input(work / "prints", work / "warm-up", bundle, ColorizeSettings())  # model load, numba cache
        times: dict[str, dict[str, list[float]]] = {stage: {"disk": [], "s3": []} for stage in ("scrape", "shards", "colorize")}
        # The emulator runs on this machine's cores: its CPU seconds per s3 round say how much of the
        # difference is the server's own work (a real bucket does that work elsewhere).
        server_cpu: dict[str, list[float]] = {"scrape": [], "shards": [], "colorize": []}
        server_process = psutil.Process(server.pid)

        def cpu_of_server() -> float:
            used = server_process.cpu_times()
            return used.user + used.system
        shard_bytes, colorized, scraped = 0, 0, 0
        for round_index in range(args.rounds):
            order = ("disk", "s3") if round_index % 2 == 0 else ("s3", "disk")
            for where in order:
                target = str(work / f"raw-{round_index}") if where == "disk" else f"{bucket}/raw-{round_index}"
                started, server_started = time.perf_counter(), cpu_of_server()
                summary_of_scrape = scrape_url_list(target, read_url_list(url_list), scrape_settings, "bench")
                times["scrape"][where].append(time.perf_counter() - started)
                if where == "s3":
                    server_cpu["scrape"].append(cpu_of_server() - server_started)
                else:
                    shutil.rmtree(target)
                assert summary_of_scrape.images_failed == 0, summary_of_scrape
                scraped = summary_of_scrape.images_ok
            for where in order:
                target = str(work / f"shards-{round_index}") if where == "disk" else f"{bucket}/shards-{round_index}"
                started, server_started = time.perf_counter(), cpu_of_server()
                card = build_shards(work / "photos", target, ShardSettings(), workers=2)
                times["shards"][where].append(time.perf_counter() - started)
                if where == "s3":
                    server_cpu["shards"].append(cpu_of_server() - server_started)
                if where == "disk":
                    shard_bytes = sum(p.stat().st_size for p in Path(target).glob("*.tar"))
                    shutil.rmtree(target)
                del card
            for where in order:
                source = work / "prints" if where == "disk" else f"{bucket}/prints"
                output = work / f"colorized-{round_index}" if where == "disk" else f"{bucket}/colorized-{round_index}"
                started, server_started = time.perf_counter(), cpu_of_server()
                report = colorize_input(source, output, bundle, ColorizeSettings())
                times["colorize"][where].append(time.perf_counter() - started)
                if where == "s3":
                    server_cpu["colorize"].append(cpu_of_server() - server_started)
                assert report.done + report.skipped == prints and report.failed == 0, (report.done, report.skipped, report.failed)
                colorized = report.done  # a print already in colour is skipped (the ledger says so)
                if where == "disk":
                    shutil.rmtree(output)

        def summary(stage: str, items: int) -> dict:
            disk, store = (statistics.median(times[stage][w]) for w in ("disk", "s3"))
            return {
                "items": items,
                "seconds": {w: [round(t, 2) for t in times[stage][w]] for w in ("disk", "s3")},
                "per_second_median": {"disk": round(items / disk, 2), "s3": round(items / store, 2)},
                "s3_over_disk_time": round(store / disk, 3),
                "store_server_cpu_seconds": [round(t, 2) for t in server_cpu[stage]],
            }

        report = {
            "benchmark": "data root on an object store vs local disk",
            "store": "moto_server (S3 API, in memory) on 127.0.0.1 through s3fs",
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
            "rounds": args.rounds,
            "scrape": {**summary("scrape", scraped), "settings": "16 threads, no per-host gap, every check on"},
            "shards": {**summary("shards", photos), "settings": "short side 256, lab8 default codec, 2 worker processes",
                       "shard_megabytes": round(shard_bytes / 1e6, 1)},
            "colorize": {**summary("colorize", prints), "model": args.model, "colorized": colorized,
                         "input": "folder of real archive prints (those already in colour are skipped)"},
            "upload_of_prints_seconds": round(upload_seconds, 2),
        }
        emit(report, args.out)
    finally:
        gallery.terminate()
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
