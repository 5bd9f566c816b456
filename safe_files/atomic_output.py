"""Atomic outputs: a reader (or a re-run after a kill) sees the old state or the whole new file, never a part.

Write to a temporary name in the same folder, flush to disk, then rename. Scraping, preprocessing,
training and inference all write through here (this package imports nothing else of ours).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

# mkstemp creates files 0600; a published file gets the mode a plain open() would give (0666 & ~umask),
# so bundles, cards and reports are as readable as the user's other files. Read once, at import.
_UMASK = os.umask(0)
os.umask(_UMASK)
PUBLISHED_MODE = 0o666 & ~_UMASK


def fsync_file(path: str | Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def publish(temporary: str | Path, final: str | Path) -> None:
    """fsync `temporary`, then rename it to `final` (same filesystem)."""
    fsync_file(temporary)
    os.replace(temporary, final)


def write_json_atomic(path: str | Path, value: Any) -> None:
    write_bytes_atomic(path, (json.dumps(value, indent=1, sort_keys=False) + "\n").encode())


def read_json(path: str | Path) -> Any:
    with open(path, "rb") as handle:
        return json.load(handle)


def write_bytes_atomic(path: str | Path, data: bytes, durable: bool = True) -> None:
    """`durable=False` skips the per-file fsync (about 6 ms on ext4) for callers that sync in bulk."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), PUBLISHED_MODE)
            if durable:
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
