"""Find the image files under a folder (a local one, or a prefix in an object store) and fingerprint them by content."""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath
from typing import Iterator

from safe_files import data_root_storage as storage

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif"})


def iter_image_files(root: str | Path) -> Iterator[str | Path]:
    """Image files below `root` by suffix, in a stable (sorted) order; hidden entries skipped. Paths for
    a local folder; object URLs for a remote one (one listing, the objects read later by URL)."""
    if storage.is_remote(root):
        yield from _iter_remote_image_files(str(root))
        return
    root = Path(root)
    if not root.is_dir():
        raise NotADirectoryError(f"image folder not found: {root}; give a folder of photos")
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            yield path


def _iter_remote_image_files(root: str) -> Iterator[str]:
    found = False
    for url, relative, _size in storage.walk_names(root):
        found = True
        name = PurePosixPath(relative)
        if not any(part.startswith(".") for part in name.parts) and name.suffix.lower() in IMAGE_SUFFIXES:
            yield url
    if not found:  # an object store has no empty folders: nothing below the prefix is a wrong prefix (not retried)
        raise storage.StorageRefused(f"image folder not found: no objects below {root} (is the bucket and path right?); "
                                     "give a folder of photos")


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with storage.open_for_reading(path) as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
