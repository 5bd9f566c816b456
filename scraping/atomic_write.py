"""Write a file under a temporary name in the same folder, fsync, then rename: readers never see a part.

The same recipe as preprocessing.atomic_files, repeated because scraping imports nothing of ours.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_bytes_atomic(path: str | Path, data: bytes, durable: bool = True) -> None:
    """`durable=False` skips the per-file fsync (about 6 ms on ext4) for callers that sync in bulk."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
