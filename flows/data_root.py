"""Data roots given as paths or fsspec URLs. The stages write through temporary-name-then-rename, which
needs a POSIX filesystem, so a URL is accepted when fsspec resolves it to the local one (`file://`);
any other protocol gets a clear error that says what to do (docs/scaling.md)."""

from __future__ import annotations

import fsspec
from fsspec.implementations.local import LocalFileSystem


def local_data_root(root: str) -> str:
    """`/data`, `data` or `file:///data` -> a local path; `s3://...`, `memory://...` -> ValueError."""
    if "://" not in root:
        return root
    filesystem, path = fsspec.core.url_to_fs(root)
    if not isinstance(filesystem, LocalFileSystem):
        raise ValueError(
            f"data root {root!r} is on {type(filesystem).__name__}; the stages need a local or mounted filesystem "
            "(a path or file:// URL). Mount the bucket (s3fs-fuse, NFS) and pass the mount path: see docs/scaling.md."
        )
    return path
