"""Files a training run leaves in RUN/ before its first checkpoint.

A run killed before it checkpointed leaves its metrics history, gray baseline and sample grids but
nothing to resume from. The next run into RUN starts at step 0, possibly on other data: appending
to that history (its steps would appear twice) or reusing that baseline (measured on the old val
images) would mix two runs. They are moved aside, not deleted, into RUN/abandoned-<UTC time>/.
"""

from __future__ import annotations

import time
from pathlib import Path

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
