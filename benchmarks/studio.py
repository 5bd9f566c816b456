"""Studio benchmark: one picture through the studio's HTTP round trip (upload, queue, colorize,
download) against the same Colorizer called in-process (what `tintype colorize` runs per image),
on the same bundle, machine and inputs; plus how fast refusals are (bomb, not an image).

    python benchmarks/studio.py [--model BUNDLE | --arch cpu-small] [--count 8] [--out FILE]

Inputs are generated sepia JPEGs (q90) at 0.3 and 1 MP from a real archive photo (a synthetic scene
where ../shared/data is absent). Without --model a randomly initialised bundle is exported (speed
does not depend on the weights). The server is `tintype studio --port 0` in a child process; the
client polls the job every 20 ms. Prints one JSON document (and writes it to --out).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.colorize import base_picture, make_bundle, sepia_jpeg  # noqa: E402
from benchmarks.json_report import emit  # noqa: E402
from inference.colorizer import Colorizer, ColorizeSettings  # noqa: E402
from tests.studio.hostile_uploads import not_an_image, png_bomb  # noqa: E402

SIZES = {"0.3MP": (640, 480), "1MP": (1155, 866)}
TINTYPE = Path(sys.executable).with_name("tintype")


def start_studio(bundle: Path, work: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([str(TINTYPE), "studio", "--port", "0", "--model", str(bundle), "--work-dir", str(work)],
                               cwd=work.parent, stdout=subprocess.PIPE, text=True)
    url = re.search(r"http://127\.0\.0\.1:\d+/", process.stdout.readline()).group(0)
    while True:
        try:
            if requests.get(url + "api/health", timeout=2).ok:
                return process, url
        except requests.ConnectionError:
            time.sleep(0.1)


def round_trip(url: str, data: bytes) -> float:
    started = time.perf_counter()
    job = requests.post(url + "api/jobs", params={"name": "bench.jpg"}, data=data, timeout=120).json()
    while (record := requests.get(f"{url}api/jobs/{job['id']}", timeout=30).json())["state"] not in ("done", "failed"):
        time.sleep(0.02)
    assert record["state"] == "done", record
    result = requests.get(f"{url}api/jobs/{job['id']}/result", timeout=60)
    assert result.ok and len(result.content) > 1000
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--arch", default="cpu-small")
    parser.add_argument("--count", type=int, default=8, help="pictures per size")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="studio-bench-"))
    bundle = Path(args.model) if args.model else make_bundle(args.arch, root)
    grey = base_picture()
    inputs = {label: [sepia_jpeg(grey, size, seed) for seed in range(args.count)] for label, size in SIZES.items()}
    colorizer = Colorizer.from_bundle(bundle, ColorizeSettings())
    colorizer.colorize_bytes(inputs["0.3MP"][0])  # warm-up, as the server's first job loads the model
    process, url = start_studio(bundle, root / "work")
    try:
        round_trip(url, inputs["0.3MP"][0])  # warm-up: model load
        rows = {}
        for label, pictures in inputs.items():
            direct = []
            for data in pictures:
                started = time.perf_counter()
                colorizer.colorize_bytes(data)
                direct.append(time.perf_counter() - started)
            studio = [round_trip(url, data) for data in pictures]
            rows[label] = {
                "images": len(pictures),
                "studio_median_s": round(statistics.median(studio), 4),
                "in_process_median_s": round(statistics.median(direct), 4),
                "overhead_s": round(statistics.median(studio) - statistics.median(direct), 4),
                "ratio": round(statistics.median(studio) / statistics.median(direct), 2),
            }
        refusals = {}
        for name, data in (("bomb_144MP_png", png_bomb()), ("not_an_image", not_an_image())):
            times = []
            for _ in range(5):
                started = time.perf_counter()
                answer = requests.post(url + "api/jobs", params={"name": name}, data=data, timeout=60)
                times.append(time.perf_counter() - started)
                assert answer.status_code in (413, 415), answer.text
            refusals[name] = {"bytes": len(data), "median_s": round(statistics.median(times), 4)}
    finally:
        process.terminate()
        process.wait(timeout=30)
    report = {
        "bundle": str(bundle), "arch": None if args.model else args.arch, "working_size": 256,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_1m": round(os.getloadavg()[0], 2)},
        "round_trip": rows, "refusals": refusals,
    }
    emit(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
