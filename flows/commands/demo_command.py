"""`tintype demo`: the main job on built-in defaults, on a sample every fresh machine has."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the pipeline on a built-in sample")
    parser.add_argument("--out", default="demo-out", help="where the demo writes (default: ./demo-out)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from flows.build_dataset import build_dataset
    from preprocessing.synthetic_gallery import write_gallery

    out = Path(args.out)
    gallery = out / "sample-gallery"
    write_gallery(gallery)
    card = build_dataset(images=str(gallery), out=str(out / "data"), val_fraction=0.1, part_size=16)
    print()
    print(f"sample images: {gallery}/")
    print(f"Lab shards:    {Path(card).parent}/")
    print(f"dataset card:  {card}")
    return 0
