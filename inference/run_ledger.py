"""The run ledger: per output root, what happened to every input under which model version.

Key: (model version, input sha256, source name) -> output name, status, reason, error, size,
timings and, for a copy of an identical input's output, that input's name (`copy_of`). A re-run skips an entry that is `done` (and whose output still exists) or `skipped` as
already colour (unless forced); everything new or failed is done again, and a new model version
has no entries yet, so it redoes everything.

On disk (in the output's workspace): `ledger.json` (compacted) and `ledger-parts/*.json`, one part
per batch attempt, each rewritten atomically after every image. So concurrent batches never share a
file, a kill loses at most the image in flight, and `compact()` (end of run) folds the parts into
ledger.json atomically before deleting them; a crash in between only leaves duplicates that merge.
On an object store (a remote workspace URL) the same files are objects, each uploaded whole after the
output it records; parts are ordered by their modified time, then name.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

from safe_files import data_root_storage as storage
from safe_files.atomic_output import read_json, write_json_atomic
from safe_files.identity import same_version

LEDGER_FILE = "ledger.json"
PARTS_FOLDER = "ledger-parts"
DONE, SKIPPED, FAILED = "done", "skipped", "failed"
ALREADY_COLOUR = "already-colour"
PART_RECORDS = 64


@dataclass
class LedgerEntry:
    source: str  # relative name in the input (as found, for refused names)
    model_version: str  # the model's version, plus "~<digest>" of non-default output settings (colorizer.ledger_version)
    status: str  # done | skipped | failed
    sha256: str | None = None
    output: str | None = None  # relative name in the output
    reason: str | None = None  # short code: already-colour, not-image, corrupt, bomb, unsafe-path, ...
    error: str | None = None
    width: int | None = None
    height: int | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds: read, decode, model, encode (or copy)
    finished_at: float = 0.0
    copy_of: str | None = None  # source name of the identical input whose output this one copies
    # What the output says of itself (inference/archival_metadata.Provenance): digital source type, tool,
    # model version, the original's sha256, whether C2PA content credentials were signed in.
    provenance: dict | None = None
    notes: list[str] = field(default_factory=list)  # what was not kept (a multi-page TIFF's other pages, ...)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.model_version, self.sha256 or "", self.source)


class RunLedger:
    def __init__(self, workspace: str | Path) -> None:
        self.remote = storage.is_remote(workspace)
        self.workspace = storage.location(workspace)
        self.parts = storage.join(self.workspace, PARTS_FOLDER)
        if not self.remote:
            self.parts.mkdir(parents=True, exist_ok=True)

    def _part_files(self) -> list[str | Path]:
        if self.remote:
            listed = [(modified, url) for url, _size, modified in storage.list_files(self.parts) if url.endswith(".json")]
            return [url for _modified, url in sorted(listed, key=lambda row: (row[0], storage.name_of(row[1])))]
        return sorted(self.parts.glob("*.json"), key=lambda p: (p.stat().st_mtime_ns, p.name))

    def _ledger_files(self) -> list[str | Path]:
        ledger = storage.join(self.workspace, LEDGER_FILE)
        return ([ledger] if storage.is_file(ledger) else []) + self._part_files()

    def entries(self) -> dict[tuple[str, str, str], LedgerEntry]:
        """The merged view: ledger.json, then the parts in write order (later wins)."""
        merged: dict[tuple[str, str, str], LedgerEntry] = {}
        for path in self._ledger_files():
            try:
                records = read_json(path)["entries"]
            except (OSError, ValueError, KeyError):
                continue  # a part vanishing under compaction; its content is in ledger.json
            for record in records:
                entry = LedgerEntry(**record)
                merged[entry.key] = entry
        return merged

    def index(self, writers: dict[str, str] | None = None,
              current: str | None = None) -> dict[tuple[str, str, str], tuple[str, str | None, str | None]]:
        """Compact view for skip decisions: key -> (status, reason, output); no entry objects kept.
        `writers`, if given, is filled with output -> the version of the newest done entry that wrote
        it: an output a later run (another model or settings) overwrote is no longer this version's.
        `current`: this run's version; entries recorded under an older form of it (safe_files.identity
        same_version: a settings digest cut at 8 characters) are read as `current`."""
        compact: dict[tuple[str, str, str], tuple[str, str | None, str | None]] = {}
        newest: dict[str, float] = {}
        for path in self._ledger_files():
            try:
                records = read_json(path)["entries"]
            except (OSError, ValueError, KeyError):
                continue
            for r in records:
                version = r["model_version"]
                if current is not None and version != current and same_version(version, current):
                    version = current
                compact[(version, r.get("sha256") or "", r["source"])] = (r["status"], r.get("reason"), r.get("output"))
                if writers is not None and r["status"] == DONE and r.get("output"):
                    finished = r.get("finished_at", 0.0)
                    if finished >= newest.get(r["output"], -1.0):  # ledger.json is sorted by name, not time
                        newest[r["output"]] = finished
                        writers[r["output"]] = version
            del records
        return compact

    def open_part(self, label: str) -> "LedgerPart":
        return LedgerPart(self.parts, f"{label}-{uuid.uuid4().hex[:8]}")

    def compact(self) -> str | Path:
        parts = self._part_files()
        merged = self.entries()
        ledger = storage.join(self.workspace, LEDGER_FILE)
        write_json_atomic(ledger, {"entries": [asdict(e) for e in _ordered(merged.values())]})
        for part in parts:
            storage.remove(part)
        return ledger


def _ordered(entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
    return sorted(entries, key=lambda e: (e.source, e.model_version, e.finished_at))


def is_settled(status: str | None, reason: str | None, output_exists: bool, force: bool) -> bool:
    """True when a re-run has nothing to do for this input."""
    if status == DONE:
        return output_exists
    return status == SKIPPED and reason == ALREADY_COLOUR and not force


class LedgerPart:
    """One batch attempt's entries; the current part file is rewritten atomically on every record.

    A part holds at most PART_RECORDS entries, then the next file starts: rewrite cost and memory
    stay bounded however many images one call colorizes."""

    def __init__(self, folder: str | Path, stem: str) -> None:
        self.folder, self.stem = folder, stem
        self.sequence = 0
        self.records: list[dict] = []

    @property
    def path(self) -> str | Path:
        return storage.join(self.folder, f"{self.stem}-{self.sequence:04d}.json")

    def record(self, entry: LedgerEntry) -> None:
        entry.finished_at = entry.finished_at or time.time()
        if len(self.records) >= PART_RECORDS:
            self.sequence += 1
            self.records = []
        self.records.append(asdict(entry))
        write_json_atomic(self.path, {"entries": self.records})
