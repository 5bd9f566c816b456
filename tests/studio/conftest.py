"""Fixtures for the studio: the tiny bundle (trained once per session), real studio servers, Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

CHROMIUM = Path("/usr/bin/chromium")
E2E_DIR = Path(__file__).parent / "e2e"
REPO = Path(__file__).resolve().parents[2]
TINTYPE = Path(sys.executable).with_name("tintype")
UPLOAD_LIMIT_MB = 4


class StudioProcess:
    """`tintype studio --port 0` in a child process; the URL is read from its first line."""

    def __init__(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.log = cwd / "studio.log"
        self.process = subprocess.Popen(
            [str(TINTYPE), "studio", "--host", "127.0.0.1", "--port", "0", *args], cwd=cwd, env={**os.environ, "TINTYPE_MODEL": str(cwd / "no-default-model"), **(env or {})},
            stdout=subprocess.PIPE, stderr=open(self.log, "wb"), text=True,
        )
        line = self.process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        if not match:
            self.stop()
            raise RuntimeError(f"studio did not start: {line!r} {self.log.read_text()[-2000:]}")
        self.url = match.group(0)
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(self.url + "api/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("studio never answered /api/health")
            time.sleep(0.2)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def studio_bundle(tiny_bundle: Path) -> Path:
    """The tiny bundle; the shipped default when TINTYPE_UPDATE_SCREENSHOT=1 refreshes the docs'
    screenshot (it should show what a user gets, not a test model's colours)."""
    return REPO / "models" / "default" if os.environ.get("TINTYPE_UPDATE_SCREENSHOT") else tiny_bundle


@pytest.fixture(scope="session")
def studio(tiny_bundle, tmp_path_factory) -> Iterator[StudioProcess]:  # noqa: F811
    """A studio offering the tiny bundle, with a 4 MB upload limit; no models folder, no default."""
    cwd = tmp_path_factory.mktemp("studio")
    server = StudioProcess(cwd, "--model", str(studio_bundle(tiny_bundle)), "--work-dir", str(cwd / "work"),
                           "--max-upload-mb", str(UPLOAD_LIMIT_MB))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def empty_studio(tmp_path_factory) -> Iterator[StudioProcess]:
    """A studio with no bundle anywhere (it must say so) and no --work-dir (its temporary one goes on exit)."""
    cwd = tmp_path_factory.mktemp("studio-empty")
    (cwd / "tmp").mkdir()
    server = StudioProcess(cwd, "--models-dir", str(cwd / "models"), env={"TMPDIR": str(cwd / "tmp")})
    assert [p.name[:15] for p in (cwd / "tmp").iterdir()] == ["tintype-studio-"]
    yield server
    server.stop()
    assert server.process.returncode == 0 and not list((cwd / "tmp").iterdir()), "the work folder outlived the studio"


@pytest.fixture(scope="session")
def e2e_driver() -> Path:
    """The playwright-core driver (npm, no browser download) and the system Chromium, or skip."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium)")
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are needed to drive Chromium (playwright-core)")
    if not (E2E_DIR / "node_modules" / "playwright-core").is_dir():
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=E2E_DIR, capture_output=True, text=True,
            env={**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"},
        )
        if installed.returncode:
            pytest.skip(f"npm ci in {E2E_DIR} failed: {installed.stderr[-500:]}")
    return E2E_DIR / "studio_e2e.mjs"


def drive_page(driver: Path, url: str, **env: str) -> dict:
    """Run the Chromium script against `url`; returns its findings."""
    import json

    result = subprocess.run(
        ["node", str(driver)], cwd=driver.parent, capture_output=True, text=True, timeout=300,
        env={**os.environ, "STUDIO_URL": url, "CHROMIUM": str(CHROMIUM), **env},
    )
    assert result.returncode == 0, f"browser script failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])
