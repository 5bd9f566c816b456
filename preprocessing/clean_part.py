"""Analyse one part of a cleaning plan; its records file appears, whole, only when it is done."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from preprocessing.atomic_files import write_bytes_atomic
from preprocessing.clean_plan import CleanPlan, records_dir
from preprocessing.image_analysis import CleaningSettings, analyse_image


def analyse_part(
    plan_path: str | Path, part: int, settings: CleaningSettings = CleaningSettings(),
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """Write `_work/<plan.records>/part-<name>.jsonl`; returns its path. A second call returns at once."""
    plan = CleanPlan.load(plan_path)
    target = records_dir(plan) / f"part-{plan.part_names[part]}.jsonl"
    if target.exists():
        return str(target)
    items = plan.parts[part]
    lines = []
    for position, (path, sha256) in enumerate(items, start=1):
        try:
            record = analyse_image(path, sha256, settings)
        except OSError as error:  # vanished or unreadable file: recorded, never fatal
            record = {"path": path, "sha256": sha256, "reason": "unreadable", "detail": str(error)}
        lines.append(json.dumps(record))
        if progress:
            progress(position, len(items))
    write_bytes_atomic(target, ("\n".join(lines) + "\n").encode())
    return str(target)
