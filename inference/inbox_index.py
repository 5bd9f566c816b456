"""Inbox mode: which files and archives in a watched folder a scheduled run has already finished.

Each top-level entry of the inbox (an image or an archive, anywhere below the inbox) is remembered
by (relative path, size, mtime, model version) once a run colorized all of it without failures. An
inbox on an object store (`s3://bucket/inbox`) fingerprints an entry by its size and ETag instead
(storage.version_of; an object's mtime is its upload time), all read in one listing per run.
An entry is remembered as it was when its run planned it, so one replaced during the run is done
again by the next. A scheduled run then lists only entries that are new, changed, or had failures; the ledger still
decides per image, so a file renamed into the inbox costs a hash, not a colorization.
"""

from __future__ import annotations

from pathlib import Path

from inference.archive_members import MemberProblem, MemberRef
from safe_files import data_root_storage as storage
from safe_files.atomic_output import read_json, write_json_atomic
from safe_files.identity import same_version

INBOX_INDEX = "inbox-seen.json"


def entry_of(item: MemberRef | MemberProblem) -> str:
    """The inbox entry an item came from: the archive's relative path, or the file's own."""
    return item.group or item.name


class InboxIndex:
    def __init__(self, workspace: str | Path, inbox: str | Path) -> None:
        self.path = storage.join(workspace, INBOX_INDEX)
        self.inbox = storage.location(inbox)
        self.seen: dict[str, dict] = read_json(self.path) if storage.is_file(self.path) else {}
        self._versions: dict[str, str] | None = None  # remote inbox: URL -> size|ETag, listed once

    def fingerprint(self, entry: str, model_version: str) -> dict | None:
        if storage.is_remote(self.inbox):
            if self._versions is None:
                self._versions = storage.versions_below(self.inbox)
            version = self._versions.get(str(storage.join(self.inbox, entry)))
            return None if version is None else {"version": version, "model_version": model_version}
        path = self.inbox / entry
        if not path.is_file():
            return None
        stat = path.stat()
        return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "model_version": model_version}

    def is_seen(self, entry: str, model_version: str) -> bool:
        current = self.fingerprint(entry, model_version)
        recorded = self.seen.get(entry) or {}
        return (current is not None and same_version(recorded.get("model_version"), model_version)
                and recorded == {**current, "model_version": recorded["model_version"]})

    def mark(self, fingerprints: dict[str, dict]) -> None:
        """Remember finished entries by the fingerprints they had when planned (a file replaced during the
        run then no longer matches, and the next run colorizes it again)."""
        self.seen.update(fingerprints)
        write_json_atomic(self.path, self.seen)
