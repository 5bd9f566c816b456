"""Kill -9 a training mid-run, start it again with --resume: it continues (step, LR, loss curve),
and ends in the same state as a run that was never interrupted."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.model_inputs import tiny
from training.optimisation import warmup_cosine
from training.run_files import (
    checkpoint_step,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    read_history,
)
from training.train_loop import train

REPO = Path(__file__).resolve().parents[2]
STEPS = 80


def cli_arguments(data: Path, run: Path, resume: bool) -> list[str]:
    arguments = [sys.executable, "-m", "cli.train_command", "--data", str(data), "--out", str(run), "--steps", str(STEPS)]
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


def test_a_resume_on_another_dataset_is_refused(tiny_data, tmp_path):
    # the pipeline always resumes into runs/default: a re-run after the dataset changed must not
    # re-export the old weights under the new card
    from preprocessing.shards.shard_build import build_shards
    from preprocessing.shards.shard_plan import ShardSettings

    run = tmp_path / "run"
    settings = tiny(checkpoint_every=2)
    first = train(tiny_data, run, steps=2, overrides=settings)
    assert first.step == 2
    again = train(tiny_data, run, steps=2, resume=True, overrides=settings)  # same data: just re-exports
    assert again.resumed_from == 2

    other = tmp_path / "other"
    build_shards(tiny_data / "images", other / "shards", ShardSettings(short_side=40, val_fraction=0.15, maxcount=10), workers=1)
    with pytest.raises(ValueError, match="another dataset"):
        train(other, run, steps=2, resume=True, overrides=settings)
    assert json.loads((run / "bundle" / "dataset.json").read_text())["encoding"]["resize"]["short_side"] == 48


def test_a_fresh_start_sets_aside_what_a_checkpoint_less_run_left(tiny_data, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    # a run killed after an evaluation but before its first checkpoint, on other data
    stale = [{"type": "train", "step": 1, "loss": 123.0}, {"type": "eval", "step": 2, "psnr": 1.0}]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in stale))
    (run / "gray_baseline.json").write_text(json.dumps({"psnr": 99.0}))
    (run / "samples").mkdir()
    (run / "samples" / "step-00000002.png").write_bytes(b"old grid")

    train(tiny_data, run, steps=2, overrides=tiny(checkpoint_every=2, eval_every=2))
    history = read_history(run)
    assert [r["step"] for r in history if r["type"] == "train"] == [1, 2]
    assert all(r.get("loss") != 123.0 for r in history)
    assert json.loads((run / "gray_baseline.json").read_text())["psnr"] != 99.0  # measured on these val images
    (aside,) = run.glob("abandoned-*")
    assert json.loads((aside / "gray_baseline.json").read_text()) == {"psnr": 99.0}
    assert (aside / "samples" / "step-00000002.png").read_bytes() == b"old grid"
    assert len((aside / "metrics.jsonl").read_text().splitlines()) == 2


def warm_restart_lr(step: int, base_lr: float, first_steps: int, warmup: int, to_step: int) -> float:
    """The documented rule, written out independently: the lr of (1-based) step `step` of a run planned
    for `first_steps` then extended to `to_step` at `first_steps`."""
    if step <= first_steps:
        return base_lr * warmup_cosine(step - 1, first_steps, warmup)
    restart_warmup = min(warmup, (to_step - first_steps) // 10)
    resumed_at = warmup_cosine(first_steps - 1, first_steps, warmup)  # the last step trained before
    into = step - 1 - first_steps
    if into < restart_warmup:
        return base_lr * (resumed_at + (1 - resumed_at) * (into + 1) / restart_warmup)
    progress = (into - restart_warmup) / (to_step - first_steps - restart_warmup)
    return base_lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def test_a_resume_with_more_steps_trains_on_with_a_warm_restart(tiny_data, tmp_path):
    run = tmp_path / "run"
    settings = tiny(eval_every=20)
    first = train(tiny_data, run, steps=20, overrides=settings)
    assert first.step == 20 and first.resumed_from is None

    longer = train(tiny_data, run, steps=40, resume=True, overrides=settings)
    assert (longer.resumed_from, longer.step, longer.nothing_to_train) == (20, 40, False)
    assert checkpoint_step(latest_checkpoint(run)) == 40
    history = [r for r in read_history(run) if r["type"] == "train"]
    assert [r["step"] for r in history] == list(range(1, 41))  # no duplicate, no gap
    assert all(r["steps"] == (20 if r["step"] <= 20 else 40) for r in history)
    for record in history:
        assert record["lr"] == pytest.approx(warm_restart_lr(record["step"], 3e-3, 20, 5, 40)), record["step"]
    lrs = [r["lr"] for r in history]
    assert lrs[19] < 0.07 * 3e-3 and lrs[21] == pytest.approx(3e-3)  # from the floor back to the base rate in 2 steps
    extension = {"from_step": 20, "to_step": 40, "previous_steps": 20, "schedule": "warm-restart", "warmup_steps": 2}
    config = json.loads((run / "run_config.json").read_text())
    assert config["train"]["steps"] == 40 and config["extensions"] == [extension]
    bundle_metrics = json.loads((run / "bundle" / "metrics.json").read_text())
    assert bundle_metrics["trained_steps"] == 40 and bundle_metrics["extensions"] == [extension]

    # Killed after step 30 of the extension, resumed to the same 40: the same schedule, recorded once.
    (run / "checkpoints" / "step-00000040.pt").unlink()
    again = train(tiny_data, run, steps=40, resume=True, overrides=settings)
    assert (again.resumed_from, again.step) == (30, 40)
    rerun = [r for r in read_history(run) if r["type"] == "train"]
    assert [r["step"] for r in rerun] == list(range(1, 41))
    assert [r["lr"] for r in rerun] == lrs
    assert json.loads((run / "run_config.json").read_text())["extensions"] == [extension]


def test_a_resume_with_fewer_steps_than_done_trains_nothing(tiny_data, tmp_path):
    run = tmp_path / "run"
    settings = tiny(eval_every=4)
    train(tiny_data, run, steps=4, overrides=settings)
    lines = (run / "metrics.jsonl").read_text()
    version = (run / "bundle" / "version.txt").read_text()

    done = train(tiny_data, run, steps=2, resume=True, overrides=settings)
    assert (done.nothing_to_train, done.step, done.resumed_from) == (True, 4, 4)
    assert done.bundle_dir == run / "bundle" and (run / "bundle" / "version.txt").read_text() == version
    assert (run / "metrics.jsonl").read_text() == lines  # no step taken, nothing evaluated again
    assert json.loads((run / "run_config.json").read_text())["train"]["steps"] == 4

    # A run with its checkpoint but no bundle (killed while exporting): the bundle is exported, no step taken.
    shutil.rmtree(run / "bundle")
    exported = train(tiny_data, run, steps=4, resume=True, overrides=settings)
    assert exported.nothing_to_train and exported.step == 4
    assert (run / "bundle" / "version.txt").read_text() == version  # the same weights
    assert json.loads((run / "bundle" / "metrics.json").read_text())["trained_steps"] == 4
    assert (run / "metrics.jsonl").read_text() == lines
