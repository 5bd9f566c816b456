"""Talk to the real Prefect server that `tintype serve` started: REST calls, CLI calls, headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--virtual-time-budget=20000",
]


class ServedPrefect:
    def __init__(self, port: int, env: dict[str, str], process: subprocess.Popen, output: list[str]) -> None:
        self.port, self.env, self.process, self.output = port, env, process, output
        self.ui = f"http://127.0.0.1:{port}"

    def api(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.ui}/api{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
            return json.loads(text) if text else None

    def prefect(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "prefect", "--no-prompt", *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, cwd=Path(__file__).resolve().parents[2])

    def run_deployment(self, name: str, params: dict, timeout: int = 480) -> tuple[str, subprocess.CompletedProcess]:
        """`prefect deployment run NAME --param k=v ... --watch`, as the README says; returns (flow run id, result)."""
        args = ["deployment", "run", name, "--watch", "--watch-timeout", str(timeout)]
        for key, value in params.items():
            args += ["--param", f"{key}={json.dumps(value) if not isinstance(value, str) else value}"]
        done = self.prefect(*args, timeout=timeout + 60)
        match = re.search(r"UUID:\s*([0-9a-f-]{36})", done.stdout)
        assert match, done.stdout + done.stderr
        return match.group(1), done

    def flow_run(self, run_id: str) -> dict:
        return self.api("GET", f"/flow_runs/{run_id}")

    def artifacts_of(self, run_id: str) -> list[dict]:
        return self.api("POST", "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run_id]}}})


def chromium(url: str, *extra: str, timeout: float = 180) -> str:
    """Load `url` in headless Chromium; returns the DOM after scripts ran (--dump-dom) unless `extra` says otherwise."""
    done = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, *extra, url], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def visible_text(dom: str) -> str:
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", dom, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))
