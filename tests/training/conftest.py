"""Tiny real shards (a few dozen Caltech-101 photos at 48 px) shared by the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# Tiny everything: a U-Net of width 8, 32 px crops, one thread (the CPU is shared; more threads stall).
TINY = {
    "model": {"width": 8, "depth": 2},
    "discriminator": {"width": 8, "layers": 2},
    "train": {
        "batch_size": 8, "crop": 32, "workers": 0, "log_every": 1, "checkpoint_every": 10, "eval_every": 1000,
        "eval_images": 4, "grid_rows": 2, "warmup_steps": 5, "shuffle_buffer": 32, "cpu_threads": 1, "lr": 3e-3,
    },
}


def tiny(**train_settings) -> dict:
    return {"model": dict(TINY["model"]), "discriminator": dict(TINY["discriminator"]),
            "train": {**TINY["train"], **train_settings}}


@pytest.fixture(autouse=True)
def one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """DATA root with shards/ of ~40 real photos from many Caltech-101 classes (short side 48)."""
    caltech = SHARED_DATA / "caltech101"
    if not caltech.is_dir():
        pytest.skip(f"real photos not available: {caltech} is absent")
    from preprocessing.shards.shard_build import build_shards
    from preprocessing.shards.shard_plan import ShardSettings

    root = tmp_path_factory.mktemp("tiny-data")
    images = root / "images"
    images.mkdir()
    for path in sorted(caltech.rglob("*.jpg"))[::200][:44]:
        (images / f"{path.parent.name}-{path.name}").symlink_to(path)
    build_shards(images, root / "shards", ShardSettings(short_side=48, val_fraction=0.15, maxcount=10), workers=1)
    return root
