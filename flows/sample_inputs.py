"""Built-in sample inputs, written on demand, so every deployment's defaults run on a fresh machine."""

from __future__ import annotations

from prefect import task

from flows.retry_policy import retrying
from preprocessing.sample_archive import write_gray_archive
from preprocessing.synthetic_gallery import write_gallery

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
