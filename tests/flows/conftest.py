"""One `tintype serve` (real Prefect server + UI, work pool, deployments, worker) for the orchestration tests."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from flows.prefect_services import free_port
from tests.flows.served_prefect import ServedPrefect

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="package")
def served(tmp_path_factory) -> ServedPrefect:
    # --pause-schedules: the inbox cron must not fire in the middle of a test (and write into the checkout).
    home = tmp_path_factory.mktemp("served-prefect-home")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=str(home), PREFECT_LOGGING_LEVEL="INFO")
    process = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port), "--pause-schedules"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in process.stdout:
            output.append(line)
            if line.startswith("Prefect UI:"):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 300
    while not ready.is_set() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    if not ready.is_set():
        process.kill()
        pytest.fail("tintype serve did not come up:\n" + "".join(output))
    env.update(PREFECT_API_URL=f"http://127.0.0.1:{port}/api", TINTYPE_ROOT=str(ROOT))  # as serve prints it
    server = ServedPrefect(port, env, process, output)
    yield server
    if process.poll() is None:  # the Ctrl-C test normally stopped it already
        process.terminate()
        process.wait(60)
