"""A cleaning run's parts: plan (fingerprint the inputs, drop byte-identical copies, cut the rest into
parts), then analyse each part; its records file appears, whole, only when it is done.

Layout of DATA/clean/ (the contract in docs/architecture.md):
  kept.jsonl, dropped.jsonl, report.json, contact-sheet.png   the results
  phash-index-r<radius>/                                      the incremental near-duplicate index
  _work/plan.json, _work/records-<key>/part-<digest>.jsonl    plan and per-image analysis records

Only files whose sha256 has no analysis record yet go into parts, so a re-run (after a kill, or
after the scraper added images) analyses only what is new. Records live in a folder keyed by the
record format and the validation limits: a run with other limits (say a smaller --min-side)
analyses again rather than reuse verdicts made under the old ones. The colour verdict is not part
of the key: the decision step re-derives it from the stored measurements. Parts are named by the identity
of their content, so a part's records file is complete exactly when it exists.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from preprocessing.cleaning.image_analysis import CleaningSettings, analyse_image
from preprocessing.images.image_inventory import sha256_file
from preprocessing.images.image_loading import ValidationLimits
from safe_files import data_root_storage as storage
from safe_files.atomic_output import read_json, write_bytes_atomic, write_json_atomic
from safe_files.identity import identity_of, identity_of_chunks, same_identity

WORK_DIR = "_work"
RECORDS_FORMAT = "v2"  # v2 records carry the monochrome classifier's score; older ones are not read
PLAN_FILE = "plan.json"
INDEX_DIR = "phash-index"
KEPT_FILE = "kept.jsonl"
DROPPED_FILE = "dropped.jsonl"
REPORT_FILE = "report.json"
CONTACT_SHEET = "contact-sheet.png"


@dataclass
class CleanPlan:
    clean_dir: str
    files: list[list[str]]  # [path, sha256] of every unique input, in input order
    byte_duplicates: list[dict] = field(default_factory=list)  # dropped records
    parts: list[list[list[str]]] = field(default_factory=list)  # files still to analyse
    part_names: list[str] = field(default_factory=list)
    digest: str = ""  # of the whole input list: the decision step is complete for it or not
    records: str = ""  # the records folder's name under _work (records_folder)

    @property
    def path(self) -> str | Path:
        return storage.join(self.clean_dir, WORK_DIR, PLAN_FILE)

    def save(self) -> str | Path:
        write_json_atomic(self.path, asdict(self))
        return self.path

    @classmethod
    def load(cls, path: str | Path) -> "CleanPlan":
        return cls(**read_json(path))


def records_folder(limits: ValidationLimits, clean_dir: str | Path) -> str:
    """`records-<format>-<identity of the validation limits>`: the folder already in `clean_dir/_work`
    for that identity (folders made before safe_files.identity carry a 12-character cut), else a new name."""
    prefix, identity = f"records-{RECORDS_FORMAT}-", identity_of(limits)
    for found in storage.subfolders(storage.join(clean_dir, WORK_DIR)):
        if found.startswith(prefix) and same_identity(found[len(prefix):], identity):
            return found
    return f"{prefix}{identity}"


def records_dir(plan: CleanPlan) -> str | Path:
    return storage.join(plan.clean_dir, WORK_DIR, plan.records)


def iter_records(plan: CleanPlan) -> Iterator[dict]:
    """Every analysis record ever written for this plan's records folder (complete parts only)."""
    for part in storage.glob(records_dir(plan), "part-*.jsonl"):
        for line in storage.read_lines(part):
            yield json.loads(line)


def plan_cleaning(
    files: Iterable[str | Path], clean_dir: str | Path, part_size: int = 500, progress: Callable[[int], None] | None = None,
    limits: ValidationLimits = ValidationLimits(),
) -> CleanPlan:
    folder = records_folder(limits, clean_dir)
    analysed = {record["sha256"] for record in iter_records(CleanPlan(str(clean_dir), [], records=folder))}
    first_seen: dict[str, str] = {}
    unique: list[list[str]] = []
    duplicates: list[dict] = []
    for count, path in enumerate(files, start=1):
        digest = sha256_file(path)
        if digest in first_seen:
            duplicates.append(
                {"path": str(path), "sha256": digest, "reason": "duplicate-bytes", "detail": "same bytes", "duplicate_of": first_seen[digest]}
            )
        else:
            first_seen[digest] = str(path)
            unique.append([str(path), digest])
        if progress and count % 1000 == 0:
            progress(count)
    pending = [item for item in unique if item[1] not in analysed]
    parts = [pending[i : i + part_size] for i in range(0, len(pending), part_size)]
    names = [identity_of_chunks(sha for _, sha in part) for part in parts]
    whole = identity_of([unique, duplicates])
    return CleanPlan(str(clean_dir), unique, duplicates, parts, names, whole, folder)


def analyse_part(
    plan_path: str | Path, part: int, settings: CleaningSettings = CleaningSettings(),
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """Write `_work/<plan.records>/part-<name>.jsonl`; returns its path. A second call returns at once."""
    plan = CleanPlan.load(plan_path)
    target = storage.join(records_dir(plan), f"part-{plan.part_names[part]}.jsonl")
    if storage.exists(target):
        return str(target)
    items = plan.parts[part]
    lines = []
    for position, (path, sha256) in enumerate(items, start=1):
        try:
            record = analyse_image(path, sha256, settings)
        except OSError as error:  # vanished or unreadable file, missing object: recorded, never fatal
            storage.raise_if_transient(error)  # the store unreachable: the task's retry reads it again
            record = {"path": path, "sha256": sha256, "reason": "unreadable", "detail": str(error)}
        lines.append(json.dumps(record))
        if progress:
            progress(position, len(items))
    write_bytes_atomic(target, ("\n".join(lines) + "\n").encode())
    return str(target)
