"""Find the image files under a folder and fingerprint them by content."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterator

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif"})


def iter_image_files(root: str | Path) -> Iterator[Path]:
    """Image files below `root` by suffix, in a stable (sorted) order; hidden entries skipped."""
    root = Path(root)
    if not root.is_dir():
        raise NotADirectoryError(f"image folder not found: {root}; give a folder of photos")
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            yield path


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
