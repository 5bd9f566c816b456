"""A black-and-white sample archive made from nothing: the demo's (and deployments') default input to colorize.

The scenes come from `synthetic_gallery.draw_scene` with indices past the training gallery's, so the
model colorizes pictures it never saw; they are saved as 8-bit grayscale JPEGs, as scanned prints are.
"""

from __future__ import annotations

from pathlib import Path

from preprocessing.synthetic_gallery import draw_scene

FIRST_INDEX = 10_000  # far past any gallery index: unseen scenes


def write_gray_archive(folder: str | Path, count: int = 8, width: int = 320, height: int = 240) -> list[Path]:
    """Write `count` grayscale scenes into `folder`; existing files are kept (a re-run is a no-op)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for offset in range(count):
        path = folder / f"print-{offset:04d}.jpg"
        if not path.exists():
            partial = path.with_name(path.name + ".partial")
            draw_scene(FIRST_INDEX + offset, width, height).convert("L").save(partial, format="JPEG", quality=90)
            partial.replace(path)  # atomic: a reader never sees half a file
        paths.append(path)
    return paths
