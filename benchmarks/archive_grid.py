"""Real black-and-white archive photos through several model bundles, side by side in one picture.

    python benchmarks/archive_grid.py --bundles old=PATH,new=models/default [--photos N] [--side 256] \
        [--archive ../shared/data/bw-archive] --out grid.jpg

Each row: the archive photo as scanned | each bundle's result at its own working size and calibration
(exactly what `tintype colorize` writes, shrunk to --side). Photos are a fixed, evenly spaced pick of the
archive's files (sorted by name), so two runs compare the same pictures. Prints a JSON summary with
the mean chroma each bundle gave the picked photos.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.json_report import emit  # noqa: E402
from inference.colorizer import Colorizer  # noqa: E402
from inference.previews import thumbnail  # noqa: E402
from preprocessing.colour.lab_numpy import srgb_to_lab  # noqa: E402
from preprocessing.images.image_inventory import iter_image_files  # noqa: E402
from safe_files.atomic_output import write_bytes_atomic  # noqa: E402

DEFAULT_ARCHIVE = Path(__file__).resolve().parents[2] / "shared" / "data" / "bw-archive"
LABEL_HEIGHT = 16


def pick_photos(archive: Path, count: int) -> list[Path]:
    photos = list(iter_image_files(archive))
    if not photos:
        raise SystemExit(f"no photos in {archive}")
    step = max(1, len(photos) // count)
    return photos[::step][:count]


def _cell(image: Image.Image, side: int) -> Image.Image:
    small = thumbnail(image, side)
    cell = Image.new("RGB", (side, side), "white")
    cell.paste(small, ((side - small.width) // 2, (side - small.height) // 2))
    return cell


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundles", required=True, help="comma-separated NAME=PATH")
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE)
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--side", type=int, default=256)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    bundles = dict(item.split("=", 1) for item in args.bundles.split(","))
    colorizers = {name: Colorizer.from_bundle(Path(path)) for name, path in bundles.items()}
    photos = pick_photos(args.archive, args.photos)
    columns = 1 + len(colorizers)
    sheet = Image.new("RGB", (columns * args.side, LABEL_HEIGHT + len(photos) * args.side), "white")
    draw = ImageDraw.Draw(sheet)
    for column, label in enumerate(["archive photo", *colorizers]):
        draw.text((column * args.side + 4, 2), label, fill="black")
    chroma: dict[str, list[float]] = {name: [] for name in colorizers}
    for row, photo in enumerate(photos):
        top = LABEL_HEIGHT + row * args.side
        with Image.open(photo) as original:
            sheet.paste(_cell(original, args.side), (0, top))
        for column, (name, colorizer) in enumerate(colorizers.items(), start=1):
            result = Image.open(io.BytesIO(colorizer.colorize_bytes(photo.read_bytes())))
            lab = srgb_to_lab(np.asarray(result.convert("RGB"), dtype=np.float32) / 255.0)
            chroma[name].append(float(np.hypot(lab[..., 1], lab[..., 2]).mean()))
            sheet.paste(_cell(result, args.side), (column * args.side, top))
    buffer = io.BytesIO()
    sheet.save(buffer, format="JPEG", quality=88, optimize=True)
    write_bytes_atomic(args.out, buffer.getvalue())
    emit({"out": str(args.out), "photos": [p.name for p in photos],
          "mean_chroma": {name: round(float(np.mean(values)), 2) for name, values in chroma.items()}}, None)


if __name__ == "__main__":
    main()
