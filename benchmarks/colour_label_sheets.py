"""Numbered contact sheets of a uniform random sample of caltech101's RGB files, for labelling by eye.

    python benchmarks/colour_label_sheets.py --count 480 --seed 5 --out /tmp/sheets

The hand-checked sample in tests/cleaning/colour_labels.csv was drawn with the low-chroma bands
oversampled: good for fitting a boundary, but its rates are the rates of the hard cases, not of the
folder. This sample is drawn uniformly (seeded, sorted paths, no statistic looked at), so the share
of each label in it, and the filter's rates on it, estimate the folder's. Writes sheet-NN.png (48
thumbnails each, numbered, no statistic shown) and index.csv (number, path).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw

from preprocessing.images.image_loading import load_rgb

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
TILE, COLUMNS, ROWS = 200, 8, 6


def uniform_rgb_sample(data: Path, count: int, seed: int) -> list[Path]:
    """`count` caltech101 files stored with three channels, drawn uniformly with `seed`."""
    files = sorted((data / "caltech101").glob("*/*.jpg"))
    random.Random(seed).shuffle(files)
    chosen: list[Path] = []
    for path in files:
        with Image.open(path) as image:
            if image.mode == "RGB":
                chosen.append(path)
        if len(chosen) == count:
            break
    return chosen


def write_sheets(paths: list[Path], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    per_sheet = COLUMNS * ROWS
    for first in range(0, len(paths), per_sheet):
        sheet = Image.new("RGB", (COLUMNS * TILE, ROWS * (TILE + 16)), (128, 128, 128))
        draw = ImageDraw.Draw(sheet)
        for offset, path in enumerate(paths[first : first + per_sheet]):
            x, y = (offset % COLUMNS) * TILE, (offset // COLUMNS) * (TILE + 16)
            image = load_rgb(str(path))
            image.thumbnail((TILE - 4, TILE - 4))
            sheet.paste(image, (x + (TILE - image.width) // 2, y + 16 + (TILE - image.height) // 2))
            draw.text((x + 4, y + 2), str(first + offset), fill=(255, 255, 255))
        sheet.save(out / f"sheet-{first // per_sheet:02d}.png")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--count", type=int, default=480)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    paths = uniform_rgb_sample(args.data, args.count, args.seed)
    write_sheets(paths, args.out)
    with open(args.out / "index.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["number", "path"])
        writer.writerows((n, str(p.relative_to(args.data))) for n, p in enumerate(paths))
    print(f"{len(paths)} files, {(len(paths) + COLUMNS * ROWS - 1) // (COLUMNS * ROWS)} sheets in {args.out}")


if __name__ == "__main__":
    main(sys.argv[1:])
