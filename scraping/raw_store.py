"""The raw store (DATA/raw/): content-addressed image files and the manifest parts that describe them.

    raw/ab/abcdef0123....jpg         one file per distinct content (sha256 of the bytes)
    raw/manifest/<utc-time>-<batch>-<run>-<n>.jsonl   one JSON line per attempted URL (images, pages)

Image files are renamed into place without a per-file fsync; before a manifest part that names
them is published, one os.sync() makes them all durable (one journal commit instead of one per
image: the difference between 6 ms and 0.2 ms per image here). So a row never points at a file a
power cut could lose, and a file without a row is simply fetched again.
A manifest part is written whole, atomically, by the task that made it, and never changed; a re-run
adds parts. The latest word on a URL is the union of all parts: a final status (ok, refused,
invalid) ends it, error rows count as attempts; a refusal a setting decided (private address, too
many bytes or pixels) ends it only for runs with that setting at least as strict.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from safe_files import data_root_storage as storage
from safe_files.atomic_output import write_bytes_atomic
from scraping.fetch_outcomes import FINAL_STATUSES, SETTING_OF_CODE

MANIFEST_DIR = "manifest"


@dataclass
class UrlHistory:
    status: str | None = None  # the final status, if any
    attempts: int = 0  # rows for this URL (errors and the final one)
    sha256: str | None = None
    code: str | None = None  # the final row's error code (too-big, private-address, ...)
    judged_under: dict[str, Any] | None = None  # the deciding setting's value then (SETTING_OF_CODE)


class RawStore:
    def __init__(self, root: str | Path) -> None:
        self.root = storage.location(root)  # a Path, or an object-store URL
        self.remote = storage.is_remote(self.root)
        self.manifest_dir = storage.join(self.root, MANIFEST_DIR)

    def relative_image_path(self, sha256: str, extension: str) -> str:
        return f"{sha256[:2]}/{sha256}{extension}"

    def put(self, data: bytes, sha256: str, extension: str) -> str:
        """Store `data` under its hash (once; equal content from other URLs shares the file)."""
        relative = self.relative_image_path(sha256, extension)
        if self.remote:  # one request, and an existence check would be one more
            write_bytes_atomic(storage.join(self.root, relative), data)
            return relative
        path = self.root / relative
        if not (path.is_file() and path.stat().st_size == len(data)):
            write_bytes_atomic(path, data, durable=False)
        return relative

    def part_paths(self) -> list[str | Path]:
        return [p for p in storage.glob(self.manifest_dir, "*.jsonl") if not storage.name_of(p).startswith(".")]

    def rows(self) -> Iterator[dict[str, Any]]:
        for part in self.part_paths():
            for line in storage.read_lines(part):
                if line.strip():
                    yield json.loads(line)

    def history(self) -> dict[str, UrlHistory]:
        """Image URL -> what earlier runs did with it."""
        found: dict[str, UrlHistory] = {}
        for row in self.rows():
            if row.get("kind") != "image":
                continue
            entry = found.setdefault(row["url"], UrlHistory())
            entry.attempts += 1
            if row.get("status") in FINAL_STATUSES:  # the latest final word wins (a relaxed re-run may retry one)
                entry.status = row["status"]
                entry.sha256 = row.get("sha256")
                entry.code = row.get("error")
                entry.judged_under = row.get("judged_under")
        return found


class ManifestWriter:
    """Collects rows from many threads; each flush publishes them as one new part."""

    def __init__(self, store: RawStore, batch: str, flush_rows: int = 500) -> None:
        self.store = store
        self.batch = batch
        self.flush_rows = max(1, flush_rows)
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._parts = 0
        self._run_id = uuid.uuid4().hex[:8]

    def add(self, row: dict[str, Any]) -> None:
        with self._lock:
            self._rows.append(row)
            if len(self._rows) >= self.flush_rows:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._rows:
            return
        if not self.store.remote and any(row.get("path") for row in self._rows):
            os.sync()  # the images these rows name reach the disk before the rows do
        payload = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in self._rows).encode("utf-8")
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")  # names sort in time order
        name = f"{stamp}-{self.batch}-{self._run_id}-{self._parts:05d}.jsonl"
        write_bytes_atomic(storage.join(self.store.manifest_dir, name), payload)
        self._parts += 1
        self._rows = []


def is_retriable(entry: UrlHistory | None, max_attempts: int, settings: Any = None) -> bool:
    """Should this URL be fetched (again)? `settings` (ScrapeSettings): a refusal a setting decided is
    retried when this run's setting is more permissive than the one it was judged under."""
    if entry is None:
        return True
    if entry.status is None:
        return entry.attempts < max_attempts
    return settings is not None and _setting_relaxed(entry, settings)


def _setting_relaxed(entry: UrlHistory, settings: Any) -> bool:
    name = SETTING_OF_CODE.get(entry.code or "")
    if name is None:
        return False
    now = getattr(settings, name)
    then = (entry.judged_under or {}).get(name)
    if name == "allow_private":
        return bool(now) and not then  # refused only while private addresses were not allowed
    # an older row without the value: retry only above the default, the limit it most likely met
    then = then if then is not None else getattr(type(settings)(), name)
    return now is None or (then is not None and now > then)
