"""CLI start-up benchmark: per command, the wall time to the first byte of output, to the first
colorized image on disk and to exit, as a user running `.venv/bin/tintype` directly sees it.

    python benchmarks/cli_startup.py [--photos 13] [--model fast] [--repeats 3] [--code DIR] [--out FILE]

Commands: `tintype --help`, `tintype colorize --help`, and `tintype colorize` on PHOTOS black-and-white
archive photos (../shared/data/bw-archive; generated sepia scenes where it is absent) with the shipped
MODEL, once with Prefect's temporary server and once with PREFECT_API_URL pointing at a
`prefect server start` on 127.0.0.1 that this benchmark starts before and stops (by PID) after.
Every command runs in the environment a user has without make: the caller's, less every PREFECT_*
variable, with PREFECT_HOME in a temporary folder (warmed by one untimed run, so database creation
is not counted). `tintype` is run as `python -m cli` from --code (default: this checkout); with
several --code (an older copy: `git archive REV | tar -x -C DIR`) the checkouts take turns, command by
command, so that a busy machine's load falls on both alike. Each figure is the median of REPEATS runs.
Prints one JSON document (and writes it to --out).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.colorize import ARCHIVE, base_picture, sepia_jpeg  # noqa: E402
from benchmarks.json_report import emit  # noqa: E402
from flows import prefect_services  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TINTYPE = [sys.executable, "-m", "cli"]
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff"}


def archive_photos(folder: Path, count: int) -> Path:
    """`count` photos: the first of the shared archive, else generated sepia scenes (640x480)."""
    folder.mkdir(parents=True)
    shared = sorted(p for p in ARCHIVE.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if ARCHIVE.is_dir() else []
    for index in range(count):
        if index < len(shared):
            shutil.copy(shared[index], folder / shared[index].name)
        else:
            (folder / f"generated-{index:03d}.jpg").write_bytes(sepia_jpeg(base_picture(), (640, 480), index))
    return folder


def user_environment(code: Path, prefect_home: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    return {**env, "PYTHONPATH": str(code), "PREFECT_HOME": str(prefect_home), "PYTHONUNBUFFERED": "1", **extra}


def first_image(folder: Path) -> bool:
    return folder.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir())


def timed_run(argv: list[str], env: dict[str, str], cwd: Path, output: Path | None = None) -> dict:
    """One run: seconds to the first output byte (stdout or stderr), to the first image in `output`, to exit."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first_output: list[float] = []
    lines: list[str] = []
    lock = threading.Lock()

    def read(stream) -> None:
        for raw in iter(stream.readline, b""):
            with lock:
                if not first_output:
                    first_output.append(time.perf_counter() - started)
                lines.append(raw.decode(errors="replace").rstrip())

    readers = [threading.Thread(target=read, args=(stream,), daemon=True) for stream in (process.stdout, process.stderr)]
    for reader in readers:
        reader.start()
    first_result = None
    while process.poll() is None:
        if output is not None and first_result is None and first_image(output):
            first_result = time.perf_counter() - started
        time.sleep(0.02)
    exited = time.perf_counter() - started
    for reader in readers:
        reader.join()
    if output is not None and first_result is None and first_image(output):
        first_result = exited
    text = "\n".join(lines)
    return {
        "exit_code": process.returncode, "first_output_s": first_output[0] if first_output else None,
        "first_result_s": first_result, "exit_s": exited, "output_lines": len(lines),
        "first_line": lines[0] if lines else None,
        "telemetry_error": "telemetry" in text, "temporary_server_notice": "Starting temporary server" in text,
        "traceback": "Traceback" in text,
    }


def summary(command: list[str], runs: list[dict]) -> dict:
    assert all(run["exit_code"] == 0 for run in runs), (command, runs)

    def median(key: str) -> float | None:
        values = [run[key] for run in runs if run[key] is not None]
        return round(statistics.median(values), 3) if values else None

    return {"command": " ".join(["tintype"] + command[len(TINTYPE):]), "repeats": len(runs),
            "first_output_s": median("first_output_s"), "first_result_s": median("first_result_s"),
            "exit_s": median("exit_s"), "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=13)
    parser.add_argument("--model", default="fast", help="bundle folder or shipped model name (default fast)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--code", action="append", default=None,
                        help="a checkout whose `tintype` is measured (default: this one); repeat it to compare "
                             "checkouts, run by turns so that they share the machine's load")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    codes = [Path(code).resolve() for code in (args.code or [REPO])]
    work = Path(tempfile.mkdtemp(prefix="tintype-cli-startup-"))
    runs: dict[Path, dict[str, list[dict]]] = {code: {} for code in codes}
    commands: dict[str, list[str]] = {}

    def sample(name: str, command: list[str], env: dict[str, str], code: Path, repeat: int, output: bool = False) -> None:
        commands[name] = command
        target = work / "out" / f"{name}-{codes.index(code)}-{repeat}" if output else None
        argv = command + ([str(target)] if target else [])
        runs[code].setdefault(name, []).append(timed_run(argv, env, work, target))

    try:
        photos = archive_photos(work / "photos", args.photos)
        colorize = TINTYPE + ["colorize", "--model", args.model, str(photos)]
        homes = {code: work / f"prefect-home-{index}" for index, code in enumerate(codes)}
        for code in codes:  # creates each database and warms the caches: not timed
            timed_run(colorize + [str(work / "warm-up")], user_environment(code, homes[code]), work, work / "warm-up")
        for repeat in range(args.repeats):
            for code in codes:
                env = user_environment(code, homes[code])
                sample("help", TINTYPE + ["--help"], env, code, repeat)
                sample("colorize_help", TINTYPE + ["colorize", "--help"], env, code, repeat)
                sample("colorize_temporary_server", colorize, env, code, repeat, output=True)
        port = prefect_services.free_port()
        server_env = prefect_services.server_environment(port, ui=False, base=user_environment(REPO, work / "server-home"))
        server = prefect_services.start_server(port, server_env, work / "server.log")
        try:
            prefect_services.wait_healthy(port, server)
            api = {"PREFECT_API_URL": server_env["PREFECT_API_URL"]}
            for code in codes:
                timed_run(colorize + [str(work / "warm-up-running")], user_environment(code, homes[code], **api), work,
                          work / "warm-up-running")
            for repeat in range(args.repeats):
                for code in codes:
                    sample("colorize_running_server", colorize, user_environment(code, homes[code], **api), code, repeat, output=True)
        finally:
            prefect_services.stop(server)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    emit({
        "benchmark": "cli_startup", "photos": args.photos, "model": args.model,
        "source": str(ARCHIVE) if ARCHIVE.is_dir() else "generated",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "codes": {str(code): {name: summary(commands[name], samples) for name, samples in runs[code].items()} for code in codes},
    }, args.out)


if __name__ == "__main__":
    main()
