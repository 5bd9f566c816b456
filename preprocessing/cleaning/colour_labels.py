"""The hand-checked colour labels the monochrome classifier is fitted and measured on, and the
tool that drew the uniform sample for a person to label.

The labels (hand_labels/*.csv, one row per image: path relative to the shared data folder, label,
note): colour_labels.csv, the boundary sample (low-chroma bands oversampled: good for fitting a
boundary, but its rates are those of the hard cases); colour_labels_uniform.csv, 960 caltech101 RGB
files drawn uniformly (seeded, sorted paths, no statistic looked at), so its label shares and the
filter's rates on it estimate the folder's; colour_labels_uniform_second.csv, the same files labelled
by a second person. The sheets for a new uniform sample:

    python -m preprocessing.cleaning.colour_labels --count 480 --seed 5 --out /tmp/sheets

writes sheet-NN.png (48 numbered thumbnails each, no statistic shown) and index.csv (number, path).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw

from preprocessing.images.image_loading import load_rgb
from safe_files.atomic_output import atomic_path, write_bytes_atomic

LABELS_DIR = Path(__file__).with_name("hand_labels")
BOUNDARY_LABELS = LABELS_DIR / "colour_labels.csv"  # low-chroma bands oversampled
UNIFORM_LABELS = LABELS_DIR / "colour_labels_uniform.csv"  # caltech101 RGB, uniform
SECOND_UNIFORM_LABELS = LABELS_DIR / "colour_labels_uniform_second.csv"  # same files, second rater
DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"  # ../shared/data beside a checkout
TILE, COLUMNS, ROWS = 200, 8, 6


def read_labels(path: Path = BOUNDARY_LABELS) -> dict[str, tuple[str, str]]:
    """relative path -> (label, note)."""
    with open(path, encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {row["path"]: (row["label"], row["note"]) for row in rows}


def all_labels() -> dict[str, tuple[str, str]]:
    """Both files; where a path is in both, the boundary file's label (the uniform file copies it)."""
    return {**read_labels(UNIFORM_LABELS), **read_labels(BOUNDARY_LABELS)}


def fold_of(relative_path: str, folds: int) -> int:
    """A fixed split of any sample, independent of its order."""
    return int(hashlib.md5(relative_path.encode()).hexdigest(), 16) % folds


def half_of(relative_path: str) -> str:
    return ("fit", "holdout")[fold_of(relative_path, 2)]


def is_ambiguous(note: str) -> bool:
    return "ambiguous" in note


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
        with atomic_path(out / f"sheet-{first // per_sheet:02d}.png", durable=False) as temporary:
            sheet.save(temporary, format="PNG")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Numbered contact sheets of a uniform random sample of caltech101 RGB files, for labelling by eye.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--count", type=int, default=480)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    paths = uniform_rgb_sample(args.data, args.count, args.seed)
    write_sheets(paths, args.out)
    index = io.StringIO()
    writer = csv.writer(index)
    writer.writerow(["number", "path"])
    writer.writerows((n, str(p.relative_to(args.data))) for n, p in enumerate(paths))
    write_bytes_atomic(args.out / "index.csv", index.getvalue().encode("utf-8"))
    print(f"{len(paths)} files, {(len(paths) + COLUMNS * ROWS - 1) // (COLUMNS * ROWS)} sheets in {args.out}")


if __name__ == "__main__":
    main(sys.argv[1:])
