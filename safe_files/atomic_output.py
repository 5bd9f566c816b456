"""Atomic outputs: a reader (or a re-run after a kill) sees the old state or the whole new file or folder, never a part.

Every write of every stage goes through here (this package imports nothing else of ours):
- bytes or JSON: `write_bytes_atomic`, `write_json_atomic`;
- a writer that needs a path (PIL save, torch.save, np.savez, zipfile, tarfile): `atomic_path`, a
  temporary path in the final folder, published on success and removed on failure;
- a writer that names and closes its own files (webdataset's ShardWriter): `AtomicFile`, the same
  steps as separate calls;
- a folder (a model bundle): `atomic_folder`, built beside the final one and swapped in.
A file is published by: the user's file mode (not mkstemp's 0600), fsync (unless the caller syncs in
bulk), then rename over the final name. Temporaries are hidden, `.NAME.XXXXXXXX.tmp`, beside NAME;
`leftover_temporaries` finds those a kill left behind.
On an object store (a remote fsspec URL, `data_root_storage`) there is no rename: the same calls write
a local temporary and upload it under the final name once complete (bytes: one request), so a
reader or a re-run never finds a partial object under a final name. `atomic_folder` stays local.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from safe_files import data_root_storage as storage

# mkstemp creates files 0600 and mkdtemp folders 0700; a published file or folder gets the mode a plain
# open() or mkdir() would give (0666 or 0777 & ~umask), so bundles, cards and reports are as readable
# as the user's other files. Read once, at import.
_UMASK = os.umask(0)
os.umask(_UMASK)
PUBLISHED_MODE = 0o666 & ~_UMASK
PUBLISHED_FOLDER_MODE = 0o777 & ~_UMASK
TEMPORARY_SUFFIX = ".tmp"


def fsync_file(path: str | Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def publish(temporary: str | Path, final: str | Path, durable: bool = True) -> None:
    """Give `temporary` the published mode, fsync it (`durable`), then rename it to `final` (same filesystem)."""
    os.chmod(temporary, PUBLISHED_MODE)
    if durable:
        fsync_file(temporary)
    os.replace(temporary, final)


def _temporary_beside(final: Path) -> tuple[int, Path]:
    """A new hidden file `.NAME.XXXXXXXX.tmp` in `final`'s folder (created): its descriptor and path."""
    final.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{final.name}.", suffix=TEMPORARY_SUFFIX, dir=final.parent)
    return descriptor, Path(temporary)


class AtomicFile:
    """One file written under a temporary name in its final folder: `commit()` publishes it whole,
    `discard()` removes it. `temporary`: a name of the caller's choosing in the same folder, for
    leftovers a reader must recognise (the shards' `NAME.tar.partial`); default a fresh hidden one.
    A remote `final`: the temporary is local (`temporary` ignored) and `commit()` uploads it."""

    def __init__(self, final: str | Path, durable: bool = True, temporary: str | Path | None = None) -> None:
        self.remote = storage.is_remote(final)
        self.final = final if self.remote else storage.local_path(final)
        self.durable = durable
        if self.remote:
            temporary = storage.upload_temporary(final)
        elif temporary is None:
            descriptor, temporary = _temporary_beside(self.final)
            os.close(descriptor)
        else:
            self.final.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(temporary)

    def commit(self) -> None:
        if self.remote:
            storage.upload_whole(self.path, self.final)
            self.path.unlink(missing_ok=True)
        else:
            publish(self.path, self.final, self.durable)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@contextmanager
def atomic_path(final: str | Path, durable: bool = True) -> Iterator[Path]:
    """A temporary path beside `final` to write to; `final` appears whole when the block ends, and
    is left as it was (no temporary behind) when the block raises. `durable=False` skips the fsync
    (about 6 ms on ext4) for files a re-run simply makes again, or whose caller syncs in bulk."""
    output = AtomicFile(final, durable)
    try:
        yield output.path
        output.commit()
    except BaseException:
        output.discard()
        raise


def write_bytes_atomic(path: str | Path, data: bytes, durable: bool = True) -> None:
    if storage.is_remote(path):
        storage.write_whole(path, data)
        return
    # atomic_path's steps on the one descriptor mkstemp opened (the raw store writes thousands a minute)
    path = storage.local_path(path)
    descriptor, temporary = _temporary_beside(path)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), PUBLISHED_MODE)
            if durable:
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_json_atomic(path: str | Path, value: Any) -> None:
    write_bytes_atomic(path, (json.dumps(value, indent=1, sort_keys=False) + "\n").encode())


def read_json(path: str | Path) -> Any:
    if storage.is_remote(path):
        return json.loads(storage.read_bytes(path))
    with open(storage.local_path(path), "rb") as handle:
        return json.load(handle)


@contextmanager
def atomic_folder(final: str | Path) -> Iterator[Path]:
    """A temporary folder beside `final` to fill; when the block ends it replaces `final` (the old
    folder, if any, is moved aside first, then removed), so a reader sees the old folder or the new
    one, never a half-written one. When the block raises, the temporary folder is removed and `final`
    is left as it was. Files written inside still go through `write_bytes_atomic` for their fsync."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=TEMPORARY_SUFFIX, dir=final.parent))
    try:
        staging.chmod(PUBLISHED_FOLDER_MODE)  # mkdtemp makes it private; an output is meant to be shared
        yield staging
        if final.exists():
            # Swap: move the old folder aside first, so the rename below never meets a full folder.
            retired = final.with_name(f".{final.name}.old-{os.getpid()}")
            os.replace(final, retired)
            os.replace(staging, final)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def leftover_temporaries(folder: str | Path, name: str = "*", recursive: bool = False) -> list[Path]:
    """Temporary files of interrupted writes to `folder/<name>` (`name` a glob; hidden, so no reader
    lists them, but they take space). `recursive`: in every folder below too."""
    pattern = f".{name}.*{TEMPORARY_SUFFIX}"
    folder = Path(folder)
    found = folder.rglob(pattern) if recursive else folder.glob(pattern)
    return [path for path in found if path.is_file()]
