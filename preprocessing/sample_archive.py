"""Black-and-white sample archives a fresh machine has: scenes made from nothing (the demo's and the
deployments' default input), and grayscale versions of the real photos scikit-image ships.

The scenes come from `synthetic_gallery.draw_scene` with indices past the training gallery's, so the
model colorizes pictures it never saw; they are saved as 8-bit grayscale JPEGs, as scanned prints are.
"""

from __future__ import annotations

from pathlib import Path

from preprocessing.synthetic_gallery import write_scenes

FIRST_INDEX = 10_000  # far past any gallery index: unseen scenes


def write_gray_archive(folder: str | Path, count: int = 8, width: int = 320, height: int = 240) -> list[Path]:
    """Write `count` grayscale scenes into `folder`; existing files are kept (a re-run is a no-op)."""
    return write_scenes(folder, range(FIRST_INDEX, FIRST_INDEX + count), "print-{:04d}.jpg", grayscale=True,
                        quality=90, width=width, height=height)


# Real photographs that scikit-image ships inside its package (public domain or CC0; see
# skimage/data/README.txt): a fresh machine that ran `make setup` has them, nothing is downloaded.
PACKAGED_PHOTOS = ("chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "motorcycle_left.png")


def write_gray_package_photos(folder: str | Path) -> list[Path]:
    """Grayscale JPEG versions of the photos scikit-image ships; [] when it is not installed."""
    import importlib.util

    from PIL import Image

    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return []
    data = Path(spec.submodule_search_locations[0]) / "data"
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in PACKAGED_PHOTOS:
        source, target = data / name, folder / f"{Path(name).stem}.jpg"
        if source.is_file() and not target.exists():
            partial = target.with_name(target.name + ".partial")
            with Image.open(source) as image:
                image.convert("L").save(partial, format="JPEG", quality=92)
            partial.replace(target)
        if target.exists():
            written.append(target)
    return written
