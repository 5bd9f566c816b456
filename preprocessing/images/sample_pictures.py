"""Pictures a fresh machine has without any download: colour scenes made from nothing, and black-and-white sample archives made from them.

Colour pictures made from nothing, for the demo and for machines without any photos.

Each picture is a small landscape-like scene (sky gradient, sun, hills, coloured shapes) drawn
deterministically from its index, so a fresh machine always has the same sample.

Black-and-white sample archives a fresh machine has: scenes made from nothing (the demo's and the
deployments' default input), and grayscale versions of the real photos scikit-image ships.

The scenes come from `synthetic_gallery.draw_scene` with indices past the training gallery's, so the
model colorizes pictures it never saw; they are saved as 8-bit grayscale JPEGs, as scanned prints are.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from safe_files.atomic_output import atomic_path


def draw_scene(index: int, width: int = 320, height: int = 240) -> Image.Image:
    rng = random.Random(index)
    top = np.array([rng.randint(40, 120), rng.randint(100, 180), rng.randint(180, 255)], dtype=np.float32)
    bottom = np.array([rng.randint(180, 255), rng.randint(160, 230), rng.randint(120, 220)], dtype=np.float32)
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    sky = (top * (1 - t) + bottom * t).repeat(width, axis=1).astype(np.uint8)
    image = Image.fromarray(sky, "RGB")
    draw = ImageDraw.Draw(image)
    sun_x, sun_y, sun_r = rng.randint(30, width - 30), rng.randint(20, height // 3), rng.randint(12, 28)
    draw.ellipse((sun_x - sun_r, sun_y - sun_r, sun_x + sun_r, sun_y + sun_r), fill=(255, rng.randint(180, 240), 60))
    for layer in range(3):
        base = height // 2 + layer * height // 8
        green = (rng.randint(20, 90), rng.randint(110, 200), rng.randint(20, 80))
        points = [(0, height)] + [(x, base + rng.randint(-25, 25)) for x in range(0, width + 40, 40)] + [(width, height)]
        draw.polygon(points, fill=green)
    for _ in range(rng.randint(3, 7)):
        x, y = rng.randint(0, width - 40), rng.randint(height // 2, height - 30)
        w, h = rng.randint(15, 45), rng.randint(15, 45)
        colour = (rng.randint(120, 255), rng.randint(0, 120), rng.randint(0, 200))
        (draw.rectangle if rng.random() < 0.5 else draw.ellipse)((x, y, x + w, y + h), fill=colour)
    return image.filter(ImageFilter.GaussianBlur(0.6))


def write_scenes(
    folder: str | Path, indices: range, name: str = "scene-{:04d}.jpg", grayscale: bool = False,
    quality: int = 92, width: int = 320, height: int = 240,
) -> list[Path]:
    """Write scene `i` for each index as a JPEG (atomically); files already there are kept."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for position, index in enumerate(indices):
        path = folder / name.format(position)
        if not path.exists():
            scene = draw_scene(index, width, height)
            with atomic_path(path, durable=False) as temporary:  # a reader never sees half a file
                (scene.convert("L") if grayscale else scene).save(temporary, format="JPEG", quality=quality)
        paths.append(path)
    return paths


def write_gallery(folder: str | Path, count: int = 48, width: int = 320, height: int = 240) -> list[Path]:
    """Write `count` colour scenes as JPEGs (quality 92) into `folder`; existing files are kept."""
    return write_scenes(folder, range(count), width=width, height=height)


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
            with Image.open(source) as image, atomic_path(target, durable=False) as temporary:
                image.convert("L").save(temporary, format="JPEG", quality=92)
        if target.exists():
            written.append(target)
    return written
