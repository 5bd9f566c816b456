"""Two-process DDP training (torchrun, gloo on CPU) with its shards AND its run folder on s3:// against
a real S3 server on 127.0.0.1, then a two-process resume on a "new machine" (empty local work folder):
each rank starts from the stored state in its own working copy, only rank 0 writes the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from preprocessing.shards.shard_build import build_shards
from preprocessing.shards.shard_plan import ShardSettings
from safe_files import data_root_storage as storage
from tests.model_inputs import tiny
from tests.preprocessing.shards.shard_inputs import link_real_photos
from tests.training.test_training_ddp import free_port
from training.run_files import load_checkpoint

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("ddp_object_store_worker.py")


def _torchrun(data: str, run: str, report: Path, work: Path, steps: int, mode: str, overrides: dict) -> list[dict]:
    """Both ranks' reports, after a torchrun of two processes with `work` as their local work folder."""
    report.mkdir()
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
               "--master_addr=127.0.0.1", f"--master_port={free_port()}",
               str(WORKER), data, run, str(report), json.dumps(overrides), str(steps), mode]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo", "PYTHONPATH": str(REPO),
                   "TINTYPE_WORK_DIR": str(work)}  # the bucket's endpoint and test credentials: inherited
    finished = subprocess.run(command, cwd=REPO, env=environment, capture_output=True, timeout=300)
    assert finished.returncode == 0, finished.stderr.decode()[-4000:]
    return [json.loads((report / f"rank-{rank}.json").read_text()) for rank in (0, 1)]


def _same_weights(report: Path) -> None:
    """Gradients were all-reduced: both ranks hold the same weights after different data."""
    rank0, rank1 = (torch.load(report / f"rank-{rank}.pt", weights_only=True) for rank in (0, 1))
    for name, tensor in rank0.items():
        if "running" not in name and "num_batches" not in name:  # BatchNorm statistics stay per rank
            assert torch.allclose(tensor, rank1[name], atol=1e-6), name


def test_two_process_training_into_s3_then_a_two_process_resume(s3_bucket, tmp_path, caltech_dir):
    images = tmp_path / "images"
    link_real_photos(caltech_dir, images, 40)
    data, run = f"{s3_bucket}/data", f"{s3_bucket}/runs/ddp"
    build_shards(images, f"{data}/shards", ShardSettings(short_side=48, val_fraction=0.15, maxcount=10), workers=1)
    overrides = tiny(checkpoint_every=2, keep_checkpoints=1, eval_every=4, eval_images=4)

    first = _torchrun(data, run, tmp_path / "report-1", tmp_path / "machine-1", 4, "start", overrides)
    assert [r["step"] for r in first] == [4, 4] and all(r["stored_at"] == run for r in first)
    assert first[0]["run_dir"] != first[1]["run_dir"]  # one working copy per rank
    assert first[1]["bundle_dir"] is None and not any(Path(first[1]["run_dir"]).rglob("*.pt"))  # rank 1 wrote nothing
    _same_weights(tmp_path / "report-1")

    # Another machine: no local copy; both ranks download the newest stored checkpoint and go on.
    second = _torchrun(data, run, tmp_path / "report-2", tmp_path / "machine-2", 6, "resume", overrides)
    assert [(r["resumed_from"], r["step"]) for r in second] == [(4, 6), (4, 6)]
    _same_weights(tmp_path / "report-2")

    stored = {name for _url, name, _size in storage.walk_names(run)}
    assert {"run_config.json", "metrics.jsonl", "bundle/weights.pt", "bundle/config.json", "bundle/dataset.json",
            "bundle/metrics.json", "bundle/version.txt"} <= stored
    assert sorted(name for name in stored if name.startswith("checkpoints/")) == ["checkpoints/step-00000006.pt"]
    bundle = Path(second[0]["bundle_dir"])
    assert storage.read_bytes(f"{run}/bundle/version.txt") == (bundle / "version.txt").read_bytes()
    assert json.loads(storage.read_bytes(f"{run}/bundle/metrics.json"))["trained_steps"] == 6
    history = [json.loads(line) for line in storage.read_bytes(f"{run}/metrics.jsonl").decode().splitlines()]
    assert [r["step"] for r in history if r["type"] == "train"] == [1, 2, 3, 4, 5, 6]  # none twice, none lost
    assert [r["step"] for r in history if r["type"] == "eval"] == [4, 6]

    local = tmp_path / "checkpoint.pt"
    storage.download_whole(f"{run}/checkpoints/step-00000006.pt", local)
    state = load_checkpoint(local)
    assert state["data"]["world_size"] == 2 and state["data"]["samples_seen"] == 6 * 8 * 2 and len(state["rng"]) == 2
