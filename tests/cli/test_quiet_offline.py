"""`tintype` run directly (no make, none of Prefect's settings in the environment, no internet) sets its
own Prefect defaults and keeps the terminal to the stage's progress and results: no telemetry error,
no temporary-server notice, no per-task state lines, no traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.model_inputs import archive_sample

REPO = Path(__file__).resolve().parents[2]


def without_prefect_settings(prefect_home: Path) -> dict[str, str]:
    """The environment of a user who never set a PREFECT_* variable (PREFECT_HOME only keeps the test's state apart)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    return {**env, "PREFECT_HOME": str(prefect_home)}


def test_colorize_without_make_prints_progress_and_results_only(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    for photo in [p for p in archive_sample() if p.suffix.lower() == ".jpg"][:2]:
        shutil.copy(photo, archive / photo.name)
    done = subprocess.run([sys.executable, "-m", "cli", "colorize", str(archive), str(tmp_path / "colour"), "--model", "fast"],
                          cwd=REPO, env=without_prefect_settings(tmp_path / "prefect-home"),
                          capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    for chatter in ("telemetry", "Starting temporary server", "docs.prefect.io", "Finished in state", "Traceback"):
        assert chatter not in output, (chatter, output)
    assert "2 images listed in 1 batches" in done.stderr  # the flow's own progress still shows
    totals = json.loads(done.stdout[done.stdout.index("{"):])
    assert totals["done"] == 2 and totals["failed"] == 0
    assert len(list((tmp_path / "colour").glob("*.jpg"))) == 2
