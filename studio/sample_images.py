"""The bundled samples: grey versions of preprocessing.images.sample_pictures scenes, drawn at startup.

Nothing is shipped or downloaded: the scenes are drawn from their index, so every machine gets the
same samples. Grey on purpose: the studio is for black-and-white pictures.
"""

from __future__ import annotations

import io
from pathlib import Path

from preprocessing.images.sample_pictures import draw_scene
from safe_files.atomic_output import write_bytes_atomic

SAMPLE_SCENES = (1, 4, 7, 12)
SAMPLE_SIZE = (480, 360)


def write_samples(folder: str | Path) -> list[Path]:
    """Write the grey sample JPEGs into `folder` (kept if already there) and return their paths."""
    folder = Path(folder)
    paths = []
    for index in SAMPLE_SCENES:
        path = folder / f"sample-scene-{index:02d}.jpg"
        if not path.is_file():
            buffer = io.BytesIO()
            draw_scene(index, *SAMPLE_SIZE).convert("L").save(buffer, format="JPEG", quality=90)
            write_bytes_atomic(path, buffer.getvalue())
        paths.append(path)
    return paths
