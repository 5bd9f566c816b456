"""What a training run keeps in RUN/: checkpoints (atomic, resumable), metrics.jsonl, and the leftovers of a run that never checkpointed.

Files a training run leaves in RUN/ before its first checkpoint.

A run killed before it checkpointed leaves its metrics history, gray baseline and sample grids but
nothing to resume from. The next run into RUN starts at step 0, possibly on other data: appending
to that history (its steps would appear twice) or reusing that baseline (measured on the old val
images) would mix two runs. They are moved aside, not deleted, into RUN/abandoned-<UTC time>/.

RUN/metrics.jsonl: one JSON line per logged training step and per evaluation.

On resume the lines written after the checkpoint (by the killed process) are dropped, so the curve
continues from the checkpoint without duplicate or orphaned steps.

Checkpoints in RUN/checkpoints/step-NNNNNNNN.pt, written atomically (temp name, fsync, rename);
the newest whole file is the one a restart resumes from, and only the last few are kept.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from safe_files.atomic_output import atomic_path, write_bytes_atomic

LEFTOVER_NAMES = ("metrics.jsonl", "gray_baseline.json", "samples")


def set_aside_leftovers(run_dir: str | Path) -> Path | None:
    """Move a checkpoint-less run's outputs into RUN/abandoned-<time>/; returns that folder, if any moved."""
    run_dir = Path(run_dir)
    present = [run_dir / name for name in LEFTOVER_NAMES if (run_dir / name).exists()]
    if not present:
        return None
    aside = run_dir / f"abandoned-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{time.time_ns() % 1_000_000:06d}"
    aside.mkdir(parents=True)
    for path in present:
        path.rename(aside / path.name)
    return aside


HISTORY_NAME = "metrics.jsonl"


def append_record(run_dir: str | Path, record: dict[str, Any]) -> None:
    with open(Path(run_dir) / HISTORY_NAME, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def read_history(run_dir: str | Path) -> list[dict[str, Any]]:
    path = Path(run_dir) / HISTORY_NAME
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut short by a kill
    return records


def truncate_history(run_dir: str | Path, last_step: int) -> None:
    """Keep only records up to and including `last_step`."""
    kept = [r for r in read_history(run_dir) if r.get("step", 0) <= last_step]
    write_bytes_atomic(Path(run_dir) / HISTORY_NAME, "".join(json.dumps(r) + "\n" for r in kept).encode())


CHECKPOINT_DIR = "checkpoints"
BUNDLE_SUBDIR = "bundle"  # the exported bundle, what colorize takes as its model


def checkpoint_dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / CHECKPOINT_DIR


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    return sorted(checkpoint_dir(run_dir).glob("step-*.pt"))


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def checkpoint_step(path: str | Path) -> int:
    """The step a checkpoint was written at, from its name (step-NNNNNNNN.pt): no need to load it."""
    return int(Path(path).stem.split("-")[1])


def save_checkpoint(run_dir: str | Path, step: int, state: dict[str, Any], keep: int = 2) -> Path:
    folder = checkpoint_dir(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"step-{step:08d}.pt"
    with atomic_path(final) as temporary:
        torch.save(state, temporary)
    for old in list_checkpoints(run_dir)[:-keep]:
        old.unlink(missing_ok=True)
    return final


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    # Our own file with RNG states (numpy arrays, Python tuples): not weights_only.
    return torch.load(path, map_location="cpu", weights_only=False)


def rng_state() -> dict[str, Any]:
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
