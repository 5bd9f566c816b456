"""Colour pictures made from nothing, for the demo and for machines without any photos.

Each picture is a small landscape-like scene (sky gradient, sun, hills, coloured shapes) drawn
deterministically from its index, so a fresh machine always has the same sample.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


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
            partial = path.with_name(path.name + ".partial")
            (scene.convert("L") if grayscale else scene).save(partial, format="JPEG", quality=quality)
            partial.replace(path)  # a reader never sees half a file
        paths.append(path)
    return paths


def write_gallery(folder: str | Path, count: int = 48, width: int = 320, height: int = 240) -> list[Path]:
    """Write `count` colour scenes as JPEGs (quality 92) into `folder`; existing files are kept."""
    return write_scenes(folder, range(count), width=width, height=height)
