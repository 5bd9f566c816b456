"""Progress you can see: real `tintype` processes under a pseudo-terminal show a bar with count, rate
and ETA on stderr (results stay on stdout); without a terminal they print plain lines, no carriage
returns; --quiet shows neither. The commands run against the session's Prefect server."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from PIL import Image

from cli.progress_display import PlainDisplay
from flows.progress_reporting import StageProgress, listening
from tests.conftest import shared_folder
from tests.model_inputs import archive_sample

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
BAR = "━"


def _environment() -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    return dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value(), TERM="xterm-256color", COLUMNS="120")


def _run_on_terminal(args: list[str], timeout: float = 300) -> tuple[str, str, int]:
    """`python -m cli ARGS` with stderr on a pseudo-terminal (120 columns) and stdout on a pipe;
    returns (what the terminal showed, stdout, exit code)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    child = subprocess.Popen([sys.executable, "-m", "cli", *args], cwd=PROJECT_ROOT, env=_environment(),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    shown = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 1.0)[0]:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
            elif child.poll() is not None:
                break
        stdout, _ = child.communicate(timeout=60)
    finally:
        os.close(master)
        if child.poll() is None:
            child.kill()
            child.wait()
    return shown.decode(errors="replace"), stdout.decode(), child.returncode


def _frames(terminal: str) -> list[str]:
    """Every line and every redrawn state of a line, without colour codes."""
    return [frame for frame in re.split(r"[\r\n]", ANSI.sub("", terminal)) if frame.strip()]


def test_colorize_on_a_terminal_shows_a_bar_with_rate_and_eta(prefect_server, tmp_path):
    photos = tmp_path / "archive"
    photos.mkdir()
    for photo in archive_sample():  # 24 real archive photos: they settle in several waves
        shutil.copyfile(photo, photos / photo.name)
    started = time.time()
    terminal, stdout, code = _run_on_terminal(["colorize", str(photos), str(tmp_path / "out"), "--model", "fast"])
    assert code == 0, terminal[-3000:]
    frames = _frames(terminal)
    running = [f for f in frames if re.search(rf"^colorize {BAR}+.* ([1-9]|1\d|2[0-3])/24 images .* [\d.]+ images/s eta \d:\d\d:\d\d", f)]
    assert running, "\n".join(frames[-40:])  # a bar part way, with its rate and a real ETA
    assert any(re.search(rf"^colorize {BAR}+ 24/24 images 100% [\d.]+ images/s in \d:\d\d:\d\d", f) for f in frames), frames[-20:]
    totals = json.loads(stdout)  # the results alone on stdout
    assert totals["done"] + totals["skipped"] == 24
    _assert_artifact_at_100("images colorized", started)


def test_clean_on_a_terminal_counts_images_inside_the_worker_processes(prefect_server, tmp_path):
    images = tmp_path / "photos"
    images.mkdir()
    # Enlarged 3x (1.4 MP each), so the analysis lasts seconds even on a fast, idle machine: at the
    # photos' own size it can finish between two of the parent's 0.5 s polls of the child's count.
    for photo in sorted((shared_folder("bsds500") / "test").glob("*.jpg"))[:200]:
        with Image.open(photo) as small:
            small.resize((small.width * 3, small.height * 3), Image.Resampling.BILINEAR).save(images / photo.name, quality=90)
    terminal, stdout, code = _run_on_terminal(["clean", "--images", str(images), "--out", str(tmp_path / "data")])
    assert code == 0, terminal[-3000:]
    frames = _frames(terminal)
    # One part of 200 images, analysed in a child process: the bar moves image by image, not at the end.
    partway = [f for f in frames if re.search(rf"^clean: analyse {BAR}+.* ([1-9]\d?|1\d\d)/200 images .* images/s eta \d:\d\d:\d\d", f)]
    assert partway, "\n".join(frames[-40:])
    assert any(re.search(rf"^clean: analyse {BAR}+ 200/200 images 100% .* in \d:\d\d:\d\d", f) for f in frames)
    assert stdout.startswith("kept ") and BAR not in stdout


def test_without_a_terminal_progress_is_plain_lines_and_quiet_is_silent(prefect_server, tmp_path):
    photos = tmp_path / "archive"
    photos.mkdir()
    for photo in archive_sample(8):
        shutil.copyfile(photo, photos / photo.name)
    command = [sys.executable, "-m", "cli", "colorize", str(photos), "--model", "fast"]
    done = subprocess.run(command + [str(tmp_path / "out")], cwd=PROJECT_ROOT, env=_environment(), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    assert "colorize: 8 images to do" in lines, done.stderr[-3000:]
    assert any(re.fullmatch(r"colorize: 8 images done in \d:\d\d:\d\d, [\d.]+ images/s", line) for line in lines), lines
    assert "\r" not in done.stderr and "\x1b" not in done.stderr and BAR not in done.stderr
    assert json.loads(done.stdout)["done"] == 8

    again = subprocess.run(command + [str(tmp_path / "quiet"), "--quiet"], cwd=PROJECT_ROOT, env=_environment(),
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "colorize:" not in again.stderr and BAR not in again.stderr
    assert json.loads(again.stdout)["done"] == 8


def test_plain_lines_come_every_few_seconds_not_per_item():
    stream = io.StringIO()
    with listening(PlainDisplay(stream, interval=3600)), StageProgress("clean: analyse", "images", total=500) as stage:
        for done in range(1, 501):
            stage.update_share(0, done)
    assert stream.getvalue().splitlines()[0] == "clean: analyse: 500 images to do"
    assert len(stream.getvalue().splitlines()) == 2  # start and end: 500 updates within the interval add no line

    stream = io.StringIO()
    with listening(PlainDisplay(stream, interval=0)), StageProgress("colorize", "images", total=10) as stage:
        time.sleep(0.05)
        stage.update_share("batch-0", 4)
        stage.update_share("batch-0", 10)
    lines = stream.getvalue().splitlines()
    assert re.fullmatch(r"colorize: 4/10 images \(40%\), [\d.]+ images/s, eta \d:\d\d:\d\d", lines[1]), lines
    assert re.fullmatch(r"colorize: 10 images done in \d:\d\d:\d\d, [\d.]+ images/s", lines[-1]), lines


def _assert_artifact_at_100(description: str, after: float) -> None:
    """The Prefect progress artifact the flow always published is still there, and complete."""
    from datetime import datetime, timezone

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterType

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(type=ArtifactFilterType(any_=["progress"])))
    since = datetime.fromtimestamp(after, timezone.utc)
    assert any(a.description == description and float(a.data) == 100.0 and a.created >= since for a in artifacts)
