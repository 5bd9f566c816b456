"""A training run whose folder (RUN) is on an object store: trained in a local working copy, uploaded as it goes.

Torch writes checkpoints, the loop appends to metrics.jsonl and the bundle is built as a folder: all
of that needs a local filesystem. So a run into `s3://bucket/runs/r1` works in a local copy
(`safe_files.data_root_storage.local_work_folder`) and `upload()` sends what changed, each file
whole under its final name, in the order that keeps the stored run resumable after a kill at any
point: history and config first, then the new checkpoint, then the pruning of older checkpoints, and
the bundle last with `version.txt` after its other files (a bundle is whole once its version is
there). `download()` starts a run (or a resume) from what the store holds: the newest checkpoint and
the small files, the store being the truth over any local leftover.

Under torchrun every rank needs the same starting state, and on several machines their local folders
differ: so each rank downloads into its own working copy, keyed by its global rank, and only the main
rank (0) writes there and uploads; the others only read theirs (config, checkpoint, bundle). Nothing is
uploaded before the ranks have met in a collective, so no rank downloads while the store changes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from safe_files import data_root_storage as storage
from training.run_files import BUNDLE_SUBDIR, CHECKPOINT_DIR

SKIPPED_ON_DOWNLOAD = ("samples/", "abandoned-")  # pictures and set-aside runs: nothing a resume reads
LAST_BUNDLE_FILE = "version.txt"


class RunFolderMirror:
    def __init__(self, remote: str, rank: int = 0) -> None:
        self.remote = str(remote).rstrip("/")
        self.rank = rank
        self.local = storage.local_work_folder(self.remote, "run" if rank == 0 else f"run-rank-{rank}")
        self.sent: dict[str, tuple[int, int]] = {}  # relative name -> (size, mtime_ns) as uploaded

    def download(self) -> Path:
        """Make the local copy what the store holds (newest checkpoint, history, config, bundle)."""
        shutil.rmtree(self.local, ignore_errors=True)
        self.local.mkdir(parents=True)
        stored = {name: url for url, name, _size in storage.walk_names(self.remote)}
        checkpoints = sorted(name for name in stored if name.startswith(f"{CHECKPOINT_DIR}/") and name.endswith(".pt"))
        wanted = [name for name in stored if not name.startswith(f"{CHECKPOINT_DIR}/")
                  and not name.startswith(SKIPPED_ON_DOWNLOAD)] + checkpoints[-1:]
        for name in wanted:
            target = self.local / name
            target.parent.mkdir(parents=True, exist_ok=True)
            storage.download_whole(stored[name], target)
            self.sent[name] = self._stamp(target)
        return self.local

    @staticmethod
    def _stamp(path: Path) -> tuple[int, int]:
        status = path.stat()
        return status.st_size, status.st_mtime_ns

    def upload(self) -> None:
        """Send every file that changed since the last upload, in the resumable order (module doc)."""
        if self.rank != 0:
            raise RuntimeError(f"rank {self.rank} uploaded {self.remote}: only the main rank writes the run")
        files = {path.relative_to(self.local).as_posix(): path for path in self.local.rglob("*")
                 if path.is_file() and not path.name.startswith(".")}  # hidden: temporaries of atomic writes
        changed = [name for name, path in sorted(files.items()) if self.sent.get(name) != self._stamp(path)]

        def rank(name: str) -> int:
            if name.startswith(f"{BUNDLE_SUBDIR}/"):
                return 3 if name == f"{BUNDLE_SUBDIR}/{LAST_BUNDLE_FILE}" else 2
            return 1 if name.startswith(f"{CHECKPOINT_DIR}/") else 0

        for name in sorted(changed, key=lambda name: (rank(name), name)):
            if rank(name) == 2 and f"{BUNDLE_SUBDIR}/{LAST_BUNDLE_FILE}" in self.sent:
                storage.remove(storage.join(self.remote, BUNDLE_SUBDIR, LAST_BUNDLE_FILE))  # re-exported: not whole until done
                self.sent.pop(f"{BUNDLE_SUBDIR}/{LAST_BUNDLE_FILE}")
            stamp = self._stamp(files[name])
            storage.upload_whole(files[name], storage.join(self.remote, name))
            self.sent[name] = stamp
            if rank(name) == 1:
                self._prune_checkpoints(set(files))

    def _prune_checkpoints(self, local_names: set[str]) -> None:
        """Remove stored checkpoints the run has pruned locally (after the newer one is stored)."""
        folder = storage.join(self.remote, CHECKPOINT_DIR)
        for url, name, _size in storage.walk_names(folder):
            if f"{CHECKPOINT_DIR}/{name}" not in local_names:
                storage.remove(url)
                self.sent.pop(f"{CHECKPOINT_DIR}/{name}", None)
