"""What a command costs before its work starts: `--help` imports neither torch nor Prefect, a command
given PREFECT_API_URL uses that server (no temporary one), and a command with nested flows and child
processes (build-dataset: the clean subflow, spawned shard writers) starts one temporary server, not two."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.cli.test_quiet_offline import without_prefect_settings
from tests.conftest import shared_folder

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "prefect", "numba")
TEMPORARY_SERVER = "Starting temporary server"


def imported_modules(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


def test_help_imports_neither_torch_nor_prefect():
    for args in (("--help",), ("colorize", "--help"), ("train", "--help"), ("studio", "--help")):
        modules = imported_modules(*args)
        assert {"inference.colorize_settings", "training.presets"} <= modules  # every command registered its options
        assert not [name for name in modules if name.partition(".")[0] in HEAVY], args


def test_a_running_server_is_used_and_no_temporary_one_started(prefect_server, tiny_bundle, tmp_path):
    from prefect.settings import PREFECT_API_URL

    archive = tmp_path / "archive"
    archive.mkdir()
    photo = sorted(shared_folder("bw-archive").glob("*.jpg"))[0]
    shutil.copy(photo, archive / photo.name)
    env = {**without_prefect_settings(tmp_path / "prefect-home"), "PREFECT_API_URL": PREFECT_API_URL.value()}
    done = subprocess.run([sys.executable, "-m", "cli", "--debug", "colorize", str(archive), str(tmp_path / "colour"),
                           "--model", str(tiny_bundle), "--working-size", "64"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Beginning flow run" in done.stderr  # --debug: Prefect's own console is there to tell
    assert TEMPORARY_SERVER not in done.stderr


def test_nested_flows_and_child_processes_start_one_temporary_server(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for photo in sorted(shared_folder("caltech101").rglob("*.jpg"))[::300][:8]:
        shutil.copy(photo, images / f"{photo.parent.name}-{photo.name}")
    env = without_prefect_settings(tmp_path / "prefect-home")
    done = subprocess.run([sys.executable, "-m", "cli", "--debug", "build-dataset", "--images", str(images),
                           "--out", str(tmp_path / "data"), "--short-side", "48", "--workers", "2"],
                          cwd=REPO, env={**env, "PYTHONUNBUFFERED": "1"}, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "data" / "shards" / "dataset.json").is_file()
    assert done.stderr.count(TEMPORARY_SERVER) == 1, done.stderr[-3000:]
