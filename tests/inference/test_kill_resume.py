"""SIGKILL a colorization mid-run, then resume: finished work is kept, nothing is half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from inference.colorize_run import colorize_input, workspace_of
from inference.colorizer import ColorizeSettings
from inference.run_ledger import DONE, RunLedger

SETTINGS = ColorizeSettings(working_size=128)
CHILD = """
import sys, time
from inference.colorize_run import colorize_input
from inference.colorizer import ColorizeSettings
colorize_input(sys.argv[1], sys.argv[2], sys.argv[3], ColorizeSettings(working_size=128), model_batch=1,
               on_image=lambda entry: time.sleep(0.5))
"""


def _done(out: Path) -> set[str]:
    return {e.source for e in RunLedger(workspace_of(out)).entries().values() if e.status == DONE}


def test_kill_and_resume(archive_tree, tiny_bundle, tmp_path):
    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(archive_tree), str(out), str(tiny_bundle)],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 150
    try:
        while time.monotonic() < deadline and child.poll() is None:
            if out.exists() and len(_done(out)) >= 4:
                break
            time.sleep(0.2)
        assert child.poll() is None, f"child ended before the kill: {child.stderr.read().decode()[-2000:]}"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    before_resume = _done(out)
    assert 4 <= len(before_resume) < 20

    report = colorize_input(archive_tree, out, tiny_bundle, SETTINGS)
    assert report.settled >= len(before_resume)  # finished work is not redone
    assert report.failed == 0
    inputs = sorted(p.relative_to(archive_tree).as_posix() for p in archive_tree.rglob("*") if p.is_file())
    entries = RunLedger(workspace_of(out)).entries().values()
    assert {e.source for e in entries} == set(inputs)
    assert not list(RunLedger(workspace_of(out)).parts.glob("*.json"))  # compacted
    assert not [p for p in out.rglob("*.tmp") if ".tintype" not in p.parts]  # no half-written leftovers
    for entry in entries:
        if entry.status == DONE:
            with Image.open(out / entry.output) as image:
                image.load()  # whole, decodable
                assert image.size == (entry.width, entry.height)
