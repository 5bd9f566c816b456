"""RUN/metrics.jsonl: one JSON line per logged training step and per evaluation.

On resume the lines written after the checkpoint (by the killed process) are dropped, so the curve
continues from the checkpoint without duplicate or orphaned steps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from preprocessing.atomic_files import write_bytes_atomic

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
