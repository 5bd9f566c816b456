"""Start and stop a local Prefect server and worker as child processes (for `tintype serve` and tests).

Children get their own session, so a Ctrl-C in the terminal reaches only `tintype serve`, which then
stops the worker first (its runs are marked as it leaves) and the server last.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from flows.prefect_defaults import apply_prefect_defaults

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # where prefect.yaml lives
WORK_POOL = "tintype"
PREFECT = [sys.executable, "-m", "prefect"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(port: int, ui: bool = True, base: dict | None = None) -> dict[str, str]:
    """The environment for the server, the worker, `prefect deploy` and the user's other terminal."""
    env = dict(os.environ if base is None else base)
    env.setdefault("PREFECT_HOME", str(PROJECT_ROOT / ".prefect"))
    env.update(
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        PREFECT_SERVER_API_HOST="127.0.0.1",
        PREFECT_SERVER_API_PORT=str(port),
        PREFECT_UI_ENABLED="true" if ui else "false",
        TINTYPE_ROOT=str(PROJECT_ROOT),  # prefect.yaml's pull step: flow runs start here
    )
    apply_prefect_defaults(env)
    return env


def start_server(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(PREFECT + ["server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def wait_healthy(port: int, process: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1.0)
    raise TimeoutError(f"no healthy Prefect server on 127.0.0.1:{port} after {timeout:.0f} s")


def prefect_cli(args: list[str], env: dict[str, str], cwd: Path = PROJECT_ROOT, timeout: float = 300.0) -> str:
    """Run a `prefect` command; raise with its output when it fails."""
    done = subprocess.run(PREFECT + ["--no-prompt"] + args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"prefect {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def ensure_work_pool_and_limit(env: dict[str, str], name: str = WORK_POOL) -> None:
    """Create the process work pool, the `gpu` concurrency limit and the zombie-run automation (in this
    process: no CLI start-ups)."""
    os.environ["PREFECT_API_URL"] = env["PREFECT_API_URL"]  # before Prefect reads its settings
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.workers.process import ProcessWorker

    from flows.train_colorizer import ensure_gpu_limit
    from flows.zombie_runs import ensure_zombie_automation

    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(
                name=name, type="process", base_job_template=ProcessWorker.get_default_base_job_template()))
        except ObjectAlreadyExists:
            pass
    ensure_gpu_limit()
    ensure_zombie_automation()


def deploy_all(env: dict[str, str]) -> str:
    return prefect_cli(["deploy", "--all"], env)


def pause_schedules(env: dict[str, str]) -> list[str]:
    """Pause every deployment schedule; the server also drops the runs it had scheduled ahead."""
    os.environ["PREFECT_API_URL"] = env["PREFECT_API_URL"]
    from prefect.client.orchestration import get_client

    paused = []
    with get_client(sync_client=True) as client:
        for deployment in client.read_deployments():
            for schedule in deployment.schedules:
                if schedule.active:
                    client.update_deployment_schedule(deployment.id, schedule.id, active=False)
                    paused.append(f"{deployment.name} ({deployment.entrypoint})")
    return paused


def start_worker(env: dict[str, str], log: Path, pool: str = WORK_POOL) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(PREFECT + ["worker", "start", "--pool", pool, "--type", "process"], env=env, cwd=PROJECT_ROOT,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen | None, grace: float = 20.0) -> int | None:
    """SIGTERM to the child's process group (both shut down cleanly on it), SIGKILL after `grace` seconds."""
    if process is None or process.poll() is not None:
        return None if process is None else process.returncode
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            return process.wait(wait)
        except subprocess.TimeoutExpired:
            continue
    return process.poll()
