"""What flows read: data roots as paths or fsspec URLs, and built-in sample inputs written on demand.

Data roots given as paths or fsspec URLs. The stages write through temporary-name-then-rename, which
needs a POSIX filesystem, so a URL is accepted when fsspec resolves it to the local one (`file://`);
any other protocol gets a clear error that says what to do (docs/scaling.md).

Built-in sample inputs, written on demand, so every deployment's defaults run on a fresh machine.
"""

from __future__ import annotations

import fsspec
from fsspec.implementations.local import LocalFileSystem
from prefect import task

from flows.task_running import retrying
from preprocessing.images.sample_pictures import write_gallery, write_gray_archive


def local_data_root(root: str) -> str:
    """`/data`, `data` or `file:///data` -> a local path; `s3://...`, `memory://...` -> ValueError."""
    if "://" not in root:
        return root
    filesystem, path = fsspec.core.url_to_fs(root)
    if not isinstance(filesystem, LocalFileSystem):
        raise ValueError(
            f"data root {root!r} is on {type(filesystem).__name__}; the stages need a local or mounted filesystem "
            "(a path or file:// URL); mount the bucket (s3fs-fuse, NFS) and pass the mount path: see docs/scaling.md."
        )
    return path


SAMPLE_GALLERY = "sample-gallery"  # under the data root: colour scenes to build a dataset from
SAMPLE_ARCHIVE = "sample-archive"  # under the data root: black-and-white prints to colorize


@task(name="sample-gallery", **retrying())
def sample_gallery_task(folder: str, count: int = 48) -> str:
    write_gallery(folder, count)
    return folder


@task(name="sample-archive", **retrying())
def sample_archive_task(folder: str, count: int = 8) -> str:
    write_gray_archive(folder, count)
    return folder
