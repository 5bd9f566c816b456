"""The decision step of cleaning: from the analysis records to kept.jsonl, dropped.jsonl, report.json.

Drop reasons: duplicate-bytes, corrupt, too-large, too-small, bad-aspect, animated, unreadable,
grayscale, near-gray, toned-monochrome, duplicate-pixels, near-duplicate. A dropped line carries
the reason, a human-readable detail and, for duplicates, `duplicate_of` (the kept file's path).
The step is complete when report.json carries this plan's digest and these settings; it is then
skipped. The pHash index lives in phash-index-r<radius>/ (one per radius: its tables are per radius).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from preprocessing.cleaning.clean_run import (
    DROPPED_FILE,
    INDEX_DIR,
    KEPT_FILE,
    REPORT_FILE,
    CleanPlan,
    iter_records,
)
from preprocessing.cleaning.duplicates import near_pairs, select_duplicates
from preprocessing.cleaning.image_analysis import CleaningSettings, verdict_under
from safe_files import data_root_storage as storage
from safe_files.atomic_output import read_json, write_bytes_atomic, write_json_atomic
from safe_files.identity import identity_of, same_identity

REPORT_FORMAT = "tintype-clean-report"


def _write_jsonl(path: str | Path, rows: list[dict]) -> None:
    write_bytes_atomic(path, "".join(json.dumps(row) + "\n" for row in rows).encode())


def decide(plan_path: str | Path, settings: CleaningSettings = CleaningSettings()) -> dict:
    """Write the results for this plan (or return the existing report if already complete)."""
    started = time.perf_counter()
    plan = CleanPlan.load(plan_path)
    clean_dir = storage.location(plan.clean_dir)
    report_path = storage.join(clean_dir, REPORT_FILE)
    settings_json = json.loads(json.dumps(asdict(settings)))
    if storage.exists(report_path):
        report = read_json(report_path)
        complete = (same_identity(report.get("plan_digest"), plan.digest)
                    and identity_of(report.get("settings")) == identity_of(settings_json))
        if complete and storage.exists(storage.join(clean_dir, KEPT_FILE)):
            return report
    wanted = {sha for _, sha in plan.files}
    by_sha = {record["sha256"]: record for record in iter_records(plan) if record["sha256"] in wanted}
    missing = wanted - by_sha.keys()
    if missing:
        raise RuntimeError(f"{len(missing)} inputs have no analysis record yet; run every part first")
    dropped = list(plan.byte_duplicates)
    candidates = []
    for path, sha in plan.files:
        # the same bytes may sit at a new path now; the colour verdict is this run's settings', not the analysis run's
        record = verdict_under(dict(by_sha[sha], path=path), settings.colour)
        (dropped if record["reason"] else candidates).append(record)
    pairs = near_pairs(candidates, storage.join(clean_dir, f"{INDEX_DIR}-r{settings.radius}"), settings.radius)
    kept_positions, duplicates, clusters = select_duplicates(candidates, pairs)
    dropped += duplicates
    kept = [candidates[i] for i in kept_positions]
    _write_jsonl(storage.join(clean_dir, KEPT_FILE), kept)
    _write_jsonl(storage.join(clean_dir, DROPPED_FILE), dropped)
    report = {
        "format": REPORT_FORMAT,
        "plan_digest": plan.digest,
        "inputs": len(plan.files) + len(plan.byte_duplicates),
        "kept": len(kept),
        "dropped": len(dropped),
        "dropped_by_reason": dict(Counter(row["reason"] for row in dropped).most_common()),
        "near_pairs": int(len(pairs)),
        "clusters": [[candidates[i]["path"] for i in cluster] for cluster in clusters],
        "settings": settings_json,
        "decision_seconds": round(time.perf_counter() - started, 3),
    }
    write_json_atomic(report_path, report)
    return report


def read_kept_paths(clean_dir: str | Path) -> list[str | Path]:
    """Kept images: Paths, or URLs for photos in an object store (a Path would fold `s3://` to `s3:/`)."""
    return [storage.location(json.loads(line)["path"]) for line in storage.read_lines(storage.join(clean_dir, KEPT_FILE)) if line.strip()]


def read_dropped(clean_dir: str | Path) -> list[dict]:
    return [json.loads(line) for line in storage.read_lines(storage.join(clean_dir, DROPPED_FILE)) if line.strip()]
