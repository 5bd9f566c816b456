"""Kill -9 a training mid-run, start it again with --resume: it continues (step, LR, loss curve),
and ends in the same state as a run that was never interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from training.checkpoint_store import latest_checkpoint, list_checkpoints, load_checkpoint
from training.lr_schedule import warmup_cosine
from training.metrics_history import read_history
from training.train_loop import train

from .conftest import tiny

REPO = Path(__file__).resolve().parents[2]
STEPS = 80


def cli_arguments(data: Path, run: Path, resume: bool) -> list[str]:
    arguments = [sys.executable, "-m", "training.train_cli", "--data", str(data), "--out", str(run), "--steps", str(STEPS)]
    for section, values in tiny().items():
        arguments += [f"--set={section}.{key}={json.dumps(value)}" for key, value in values.items()]
    return arguments + (["--resume"] if resume else [])


def test_kill_and_resume_continues_the_same_run(tiny_data, tmp_path):
    run = tmp_path / "run"
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(cli_arguments(tiny_data, run, False), cwd=REPO, env=environment,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and first.poll() is None:
        newest = latest_checkpoint(run)
        if newest is not None and int(newest.stem.split("-")[1]) >= 20:
            break
        time.sleep(0.02)
    assert first.poll() is None, f"the first run ended before it could be killed: {first.stderr.read().decode()[-2000:]}"
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = int(latest_checkpoint(run).stem.split("-")[1])
    assert 20 <= killed_at < STEPS
    assert not any(p.name.startswith(".") for p in (run / "checkpoints").iterdir() if p.suffix == ".pt")

    # Starting again without --resume is refused: nothing is overwritten.
    refused = subprocess.run(cli_arguments(tiny_data, run, False), cwd=REPO, env=environment, capture_output=True, timeout=120)
    assert refused.returncode != 0 and b"--resume" in refused.stderr

    resumed = subprocess.run(cli_arguments(tiny_data, run, True), cwd=REPO, env=environment, capture_output=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr.decode()[-3000:]

    history = [r for r in read_history(run) if r["type"] == "train"]
    assert [r["step"] for r in history] == list(range(1, STEPS + 1))  # no reset, no duplicate, no gap
    for record in history:
        assert record["lr"] == pytest.approx(3e-3 * warmup_cosine(record["step"] - 1, STEPS, 5))
    early = sum(r["l1"] for r in history[:5]) / 5
    after_resume = sum(r["l1"] for r in history[killed_at : killed_at + 5]) / 5
    assert after_resume < 0.8 * early  # the curve continued; the model was not re-initialised

    # An uninterrupted run of the same length ends in the same place.
    straight = train(tiny_data, tmp_path / "straight", steps=STEPS, overrides=tiny())
    resumed_state = load_checkpoint(latest_checkpoint(run))
    straight_state = load_checkpoint(latest_checkpoint(tmp_path / "straight"))
    assert straight.step == resumed_state["step"] == straight_state["step"] == STEPS
    assert resumed_state["scheduler"]["last_epoch"] == straight_state["scheduler"]["last_epoch"] == STEPS
    adam_steps = {float(s["step"]) for s in resumed_state["optimizer"]["state"].values()}
    assert adam_steps == {float(STEPS)}  # AdamW's bias correction continued from the checkpoint
    assert resumed_state["data"]["samples_seen"] == straight_state["data"]["samples_seen"] == STEPS * 8
    assert len(list_checkpoints(run)) == 2  # older ones pruned
    assert (run / "bundle" / "version.txt").is_file()
    assert torch.load(run / "bundle" / "weights.pt", weights_only=True)
