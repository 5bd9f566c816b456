"""A colorization in a child process, slowed per image, SIGKILLed once enough images are done: what
the kill-and-resume tests (directory and .zip OUTPUT) start from."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from inference.colorize_run import workspace_of
from inference.run_ledger import DONE, RunLedger
from safe_files.data_root_storage import exists

REPO = Path(__file__).resolve().parents[2]
CHILD = """
import sys, time
from inference.colorize_run import colorize_input
from inference.colorizer import ColorizeSettings
colorize_input(sys.argv[1], sys.argv[2], sys.argv[3], ColorizeSettings(working_size=int(sys.argv[4])), model_batch=1,
               on_image=lambda entry: time.sleep(float(sys.argv[5])))
"""


def done_outputs(out: Path | str) -> dict[str, str]:
    """source -> output of every image the ledger has as done."""
    return {e.source: e.output for e in RunLedger(workspace_of(out)).entries().values() if e.status == DONE}


def kill_after(source: Path | str, out: Path | str, bundle: Path, done_at_least: int, working_size: int, pause_s: float,
               while_waiting: Callable[[], None] = lambda: None, timeout_s: float = 150) -> None:
    """Start the child, call `while_waiting` as it runs, SIGKILL it once `done_at_least` images are done."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(source), str(out), str(bundle), str(working_size), str(pause_s)],
                             cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and child.poll() is None:
            while_waiting()
            if exists(workspace_of(out)) and len(done_outputs(out)) >= done_at_least:
                break
            time.sleep(0.2)
        assert child.poll() is None, f"child ended before the kill: {child.stderr.read().decode()[-2000:]}"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
