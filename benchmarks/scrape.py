"""Scrape benchmark: our scraper against img2dataset on the same URL list, served on loopback.

    python benchmarks/scrape.py [--images ../shared/data/caltech101] [--count 5000] [--threads 16]
                                [--repeats 3] [--peer-venv bench-out/img2dataset-venv] [--out result.json]

A separate server process serves `count` real photos (read in place) on 127.0.0.1, plus a robots.txt
and gallery pages for crawl mode. In the same run, each client runs in its own child process:
- ours: scraping.scrape_runner.scrape_url_list, politeness checks on (robots.txt, address guard,
  X-Robots-Tag, content-type and magic bytes, full Pillow decode under the pixel cap); the per-host
  limiter is opened to `threads` requests at once with no gap, since here one host is the whole web;
- img2dataset (its own virtual environment, created here when missing): same thread count, one
  process, resize off (resize_mode=no, skip_reencode), output_format=files, retries 0;
- crawl mode (ours): gallery pages linking the same photos, pages/s with the images already stored.
Ours and img2dataset alternate for --repeats rounds (the machine may be shared); medians and every
run are reported: images/s, peak RSS (largest single process of each client's tree) and the ratios.
Prints one JSON document (and writes it to --out).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_IMAGES = ROOT.parent / "shared" / "data" / "caltech101"
DEFAULT_PEER_VENV = ROOT / "bench-out" / "img2dataset-venv"
PEER_PACKAGE = "img2dataset==1.47.0"
IMAGES_PER_PAGE = 20


# -- the server (child process) ------------------------------------------------------------------

def serve(file_list: str, ready_file: str) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    files = Path(file_list).read_text().splitlines()
    blobs = [Path(f).read_bytes() for f in files]
    pages = (len(blobs) + IMAGES_PER_PAGE - 1) // IMAGES_PER_PAGE

    def page(k: int) -> bytes:
        imgs = "".join(
            f'<a href="/img/{i}.jpg"><img src="/thumb/{i}.jpg" alt="photo {i}"></a>'
            for i in range(k * IMAGES_PER_PAGE, min(len(blobs), (k + 1) * IMAGES_PER_PAGE))
        )
        nav = f'<a rel="next" href="/pages/{k + 1}.html">next</a>' if k + 1 < pages else ""
        # a few cross links per page, so the frontier is wide (as on a real catalogue), not one chain
        cross = "".join(f'<a href="/pages/{(k * 7 + j) % pages}.html">{j}</a>' for j in range(1, 9))
        return f"<!doctype html><html><body>{imgs}{nav}{cross}</body></html>".encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, body: bytes, content_type: str, status: int = 200) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path
            if path == "/robots.txt":
                return self._send(b"User-agent: *\nDisallow: /private/\n", "text/plain")
            if path.startswith("/img/") and path.endswith(".jpg"):
                index = path[5:-4]
                if index.isdigit() and int(index) < len(blobs):
                    return self._send(blobs[int(index)], "image/jpeg")
            if path.startswith("/pages/") and path.endswith(".html"):
                index = path[7:-5]
                if index.isdigit() and int(index) < pages:
                    return self._send(page(int(index)), "text/html; charset=utf-8")
            return self._send(b"not found", "text/plain", 404)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    Path(ready_file).write_text(str(server.server_address[1]))
    server.serve_forever()


# -- the clients (child processes) ---------------------------------------------------------------

def peak_rss_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024.0, 1)


def run_ours(url_list: str, out: str, threads: int, mode: str, seed: str) -> None:
    sys.path.insert(0, str(ROOT))
    from scraping.scrape_runner import crawl_seeds, scrape_url_list
    from scraping.scrape_settings import ScrapeSettings
    from scraping.url_lists import read_url_list

    settings = ScrapeSettings(
        threads=threads, max_per_host=threads, min_host_delay_s=0.0, allowed_networks=("127.0.0.1/32",),
        max_pages=100_000, max_depth=100_000, manifest_flush_rows=2000,
    )
    started = time.perf_counter()
    if mode == "urls":
        summary = scrape_url_list(out, read_url_list(url_list), settings, "bench")
    else:
        summary = crawl_seeds(out, [seed], settings, "bench-crawl")
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "summary": summary.to_dict(), "peak_rss_mib": peak_rss_mib()}))


PEER_SCRIPT = r"""
import json, resource, sys, time
from img2dataset import download
url_list, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
started = time.perf_counter()
download(url_list=url_list, output_folder=out, processes_count=1, thread_count=threads, resize_mode="no",
         skip_reencode=True, output_format="files", input_format="txt", retries=0, timeout=10,
         number_sample_per_shard=100000, enable_wandb=False, compute_hash="sha256", extract_exif=False,
         distributor="multiprocessing")
seconds = time.perf_counter() - started
ok = failed = 0
import glob
for stats in glob.glob(out + "/*_stats.json"):
    data = json.load(open(stats))
    ok += data.get("successes", 0); failed += data.get("failed_to_download", 0) + data.get("failed_to_resize", 0)
rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print("RESULT " + json.dumps({"seconds": seconds, "ok": ok, "failed": failed, "peak_rss_mib": round(rss / 1024, 1)}))
"""


def ensure_peer(venv: Path) -> tuple[Path | None, str]:
    """The peer's python, installing img2dataset into its own venv when missing; or None and why."""
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import img2dataset"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python, "present"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        install = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PEER_PACKAGE],
            capture_output=True, text=True, timeout=1800,
        )
    except (subprocess.SubprocessError, OSError) as error:
        return None, f"could not create the venv: {error}"
    if install.returncode != 0:
        return None, f"pip install {PEER_PACKAGE} failed: {install.stderr.strip()[-500:]}"
    return python, "installed"


def _child_json(command: list[str], env: dict | None = None, marker: str = "") -> dict:
    """Run a client child; its JSON line, plus `process_seconds` (start-up and imports included)."""
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=env)
    process_seconds = round(time.perf_counter() - started, 2)
    lines = [line for line in completed.stdout.splitlines() if line.startswith(marker + "{") or line.startswith(marker)]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"{command[:3]} failed ({completed.returncode}): {completed.stderr.strip()[-1500:]}")
    return dict(json.loads(lines[-1][len(marker):]), process_seconds=process_seconds)


def _row(ok: int, failed: int, run: dict) -> dict:
    """One timed run, ours or the peer's, in the same columns."""
    return {
        "images_ok": ok,
        "images_failed": failed,
        "seconds": round(run["seconds"], 2),
        "process_seconds": run["process_seconds"],
        "images_per_s": round(ok / run["seconds"], 1),
        "peak_rss_mib": run["peak_rss_mib"],
    }


def _ours_row(run: dict) -> dict:
    return _row(run["summary"]["images_ok"], run["summary"]["images_failed"], run)


def _peer_row(run: dict) -> dict:
    return _row(run["ok"], run["failed"], run)


def _median_row(rows: list[dict]) -> dict:
    """Per-field medians of several runs, and the runs themselves."""
    keys = [k for k in rows[0] if isinstance(rows[0][k], (int, float))]
    return {**{k: round(statistics.median(r[k] for r in rows), 2) for k in keys}, "runs": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", default=str(DEFAULT_IMAGES))
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3, help="ours and img2dataset alternate; medians reported")
    parser.add_argument("--peer-venv", default=str(DEFAULT_PEER_VENV))
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--out")
    parser.add_argument("--serve", nargs=2, metavar=("FILE_LIST", "READY_FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--run-ours", nargs=5, metavar=("URL_LIST", "OUT", "THREADS", "MODE", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(*args.serve)
    if args.run_ours:
        url_list, out, threads, mode, seed = args.run_ours
        return run_ours(url_list, out, int(threads), mode, seed)

    images = sorted(p for p in Path(args.images).rglob("*.jpg"))[: args.count]
    if len(images) < args.count:
        raise SystemExit(f"need {args.count} images under {args.images}, found {len(images)}")
    work = Path(tempfile.mkdtemp(prefix="tintype-bench-scrape-"))
    file_list = work / "files.txt"
    file_list.write_text("\n".join(str(p) for p in images))
    ready = work / "port"
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(file_list), str(ready)])
    peer_python, peer_how = (None, "--skip-peer") if args.skip_peer else ensure_peer(Path(args.peer_venv))
    try:
        for _ in range(600):
            if ready.exists() and ready.read_text():
                break
            time.sleep(0.05)
        base = f"http://127.0.0.1:{ready.read_text()}"
        url_list = work / "urls.txt"
        url_list.write_text("".join(f"{base}/img/{i}.jpg\n" for i in range(len(images))))
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        peer_env = dict(os.environ, NO_ALBUMENTATIONS_UPDATE="1", WANDB_MODE="disabled")
        ours_rows, peer_rows, crawl = [], [], None
        for repeat in range(max(1, args.repeats)):
            store = work / f"ours-{repeat}"
            ours_rows.append(_ours_row(_child_json(
                [sys.executable, __file__, "--run-ours", str(url_list), str(store), str(args.threads), "urls", "-"], env
            )))
            if crawl is None:  # crawl mode once, on the first store (its photos are already there)
                crawl = _child_json([sys.executable, __file__, "--run-ours", "-", str(store), str(args.threads),
                                     "crawl", f"{base}/pages/0.html"], env)
            shutil.rmtree(store, ignore_errors=True)
            if peer_python is not None:
                peer_out = work / f"peer-{repeat}"
                peer_rows.append(_peer_row(_child_json(
                    [str(peer_python), "-c", PEER_SCRIPT, str(url_list), str(peer_out), str(args.threads)],
                    peer_env, marker="RESULT ",
                )))
                shutil.rmtree(peer_out, ignore_errors=True)
        result: dict = {
            "images_served": len(images),
            "bytes_served": sum(p.stat().st_size for p in images),
            "threads": args.threads,
            "repeats": max(1, args.repeats),
            "cpu_cores": os.cpu_count(),
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "server": "http.server.ThreadingHTTPServer in its own process, HTTP/1.1 keep-alive, 127.0.0.1",
            "ours": {
                **_median_row(ours_rows),
                "politeness": "robots.txt, address guard, X-Robots-Tag, type+magic, full decode on; "
                "per-host limit = threads, gap 0",
            },
        }
        pages = crawl["summary"]["pages"]
        result["ours_crawl"] = {
            "pages": pages,
            "seconds": round(crawl["seconds"], 2),
            "pages_per_s": round(pages / crawl["seconds"], 1),
            "images_found_already_stored": crawl["summary"]["images_skipped"],
            "peak_rss_mib": crawl["peak_rss_mib"],
            "note": "gallery pages (rel=next plus 8 cross links each, 20 thumbnails linking full-size photos); "
            "the photos are already in the store from the URL-list run, so this measures page fetch+parse",
        }
        if peer_python is None:
            result["img2dataset"] = {"unavailable": peer_how}
        else:
            result["img2dataset"] = {
                "version": PEER_PACKAGE.split("==")[1],
                **_median_row(peer_rows),
                "settings": "processes_count=1, thread_count=threads, resize_mode=no, skip_reencode, files, retries=0",
                "venv": peer_how,
            }
            result["ratio_images_per_s_ours_over_peer"] = round(
                result["ours"]["images_per_s"] / result["img2dataset"]["images_per_s"], 2
            )
            result["ratio_peak_rss_ours_over_peer"] = round(
                result["ours"]["peak_rss_mib"] / result["img2dataset"]["peak_rss_mib"], 2
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
