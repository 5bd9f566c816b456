"""`tintype colorize --inbox IN OUT --every N`: a real CLI process against the session's Prefect server.

It colorizes what is in the inbox, a file dropped in between runs is picked up by a later run, the
first file is not redone, and Ctrl-C (SIGINT) stops it cleanly (exit 0) after runs that completed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from inference.inbox_index import INBOX_INDEX
from inference.run_ledger import DONE, RunLedger
from tests.model_inputs import archive_sample

INTERVAL = 2


def _seen(out: Path) -> dict:
    path = out / ".tintype" / INBOX_INDEX
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:
        return {}  # never half-written (atomic), but be safe while polling


def _wait_for(condition, child: subprocess.Popen, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        assert child.poll() is None, f"the command exited ({child.returncode}) before {what}"
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _small_grey(photo: Path, target: Path) -> None:
    with Image.open(photo) as image:
        grey = image.convert("L")
        grey.thumbnail((160, 160))
        grey.save(target, format="JPEG", quality=90)


def test_every_reruns_the_inbox_and_stops_on_ctrl_c(prefect_server, tiny_bundle, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterStartTime,
    )
    from prefect.settings import PREFECT_API_URL

    photos = archive_sample()
    inbox, out = tmp_path / "inbox", tmp_path / "colour"
    inbox.mkdir()
    _small_grey(photos[0], inbox / "first.jpg")
    started_at = time.time()
    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value(), PYTHONUNBUFFERED="1")
    child = subprocess.Popen(
        [sys.executable, "-m", "cli", "colorize", str(inbox), str(out), "--model", str(tiny_bundle),
         "--working-size", "64", "--force", "--inbox", "--every", str(INTERVAL)],
        cwd=Path(__file__).resolve().parents[2], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        _wait_for(lambda: "first.jpg" in _seen(out), child, 90, "the first run")
        first_output = out / "first.jpg"
        first_stat = first_output.stat()
        _small_grey(photos[1], inbox / "second.jpg")  # dropped in between runs
        _wait_for(lambda: "second.jpg" in _seen(out), child, 60, "a later run to pick up second.jpg")
        time.sleep(INTERVAL + 1)  # at least one more tick: it must find nothing to do
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, stderr[-3000:]
    assert (out / "second.jpg").is_file()
    assert first_output.stat().st_mtime_ns == first_stat.st_mtime_ns  # the first file was not redone
    entries = [e for e in RunLedger(out / ".tintype").entries().values()]
    assert sorted((e.source, e.status) for e in entries) == [("first.jpg", DONE), ("second.jpg", DONE)]
    runs = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert len(runs) >= 3 and sum(r["done"] for r in runs) == 2 and runs[-1]["done"] == 0, stdout[-3000:]

    with get_client(sync_client=True) as client:
        flow_runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["colorize-archive"])),
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=_utc(started_at))),
        )
    completed = [r for r in flow_runs if r.state and r.state.is_completed()]
    assert len(completed) >= len(runs)  # every run the command printed is a completed flow run


def _utc(timestamp: float):
    from datetime import datetime, timezone

    return datetime.fromtimestamp(timestamp, tz=timezone.utc)
