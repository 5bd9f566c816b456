"""DDP on two CPU processes (gloo), launched the documented way (torchrun)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch

from tests.model_inputs import tiny
from training.run_files import latest_checkpoint, load_checkpoint, read_history

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_process_ddp_gan(tiny_data, tmp_path):
    """The GAN exercises both DDP-wrapped networks (generator and discriminator)."""
    kind = "gan"
    run = tmp_path / "run"
    run.mkdir()
    steps = 6
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
        "--master_addr=127.0.0.1", f"--master_port={free_port()}",
        str(Path(__file__).with_name("ddp_train_worker.py")), str(tiny_data), str(run),
        json.dumps(tiny(checkpoint_every=3, gan_warmup_fraction=0.5)), kind, str(steps),
    ]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo", "PYTHONPATH": str(REPO)}
    finished = subprocess.run(command, cwd=REPO, env=environment, capture_output=True, timeout=300)
    assert finished.returncode == 0, finished.stderr.decode()[-4000:]

    # Gradients were all-reduced: both ranks hold the same weights after different data.
    rank0 = torch.load(run / "rank-0.pt", weights_only=True)
    rank1 = torch.load(run / "rank-1.pt", weights_only=True)
    for name, tensor in rank0.items():
        if "running" not in name and "num_batches" not in name:  # BatchNorm statistics stay per rank
            assert torch.allclose(tensor, rank1[name], atol=1e-6), name
    state = load_checkpoint(latest_checkpoint(run))
    assert state["step"] == steps and state["data"]["world_size"] == 2
    assert state["data"]["samples_seen"] == steps * 8 * 2
    assert len(state["rng"]) == 2 and not torch.equal(state["rng"][0]["torch"], state["rng"][1]["torch"])
    assert [r["step"] for r in read_history(run) if r["type"] == "train"] == list(range(1, steps + 1))
    assert (run / "bundle" / "weights.pt").is_file()  # written once, by rank 0
