"""What flows read: data roots as paths or fsspec URLs, and built-in sample inputs written on demand.

A data root is a local path, a `file://` URL (made a path), or an object-store URL (`s3://bucket/root`,
any remote fsspec protocol), kept as given: the stages write there through safe_files' atomic outputs.
The built-in sample photos of a remote root go to a local work folder (docs/scaling.md).

Built-in sample inputs, written on demand, so every deployment's defaults run on a fresh machine.
"""

from __future__ import annotations

from prefect import task

from flows.task_running import retrying
from preprocessing.images.sample_pictures import write_gallery, write_gray_archive
from safe_files import data_root_storage as storage


def data_root(root: str) -> str:
    """`/data`, `data` or `file:///data` -> a local path; `s3://bucket/root` -> the URL (no trailing /)."""
    if storage.is_remote(root):
        return root.rstrip("/")
    return str(storage.local_path(root))


def sample_folder(root: str, name: str) -> str:
    """Where a built-in sample is written for data root `root`: under it, or for an object-store root a
    local work folder (the stages read their input photos from a local disk)."""
    if storage.is_remote(root):
        return str(storage.local_work_folder(root, name))
    return str(storage.join(root, name))


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
