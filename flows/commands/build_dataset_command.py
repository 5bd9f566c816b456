"""`tintype build-dataset --images DIR --out DATA`."""

from __future__ import annotations

import argparse

from preprocessing.lab_codec import CODEC_KEYS, DEFAULT_CODEC


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("build-dataset", help="images -> Lab WebDataset shards (the build-dataset flow)")
    parser.add_argument("--images", required=True, help="folder of images (searched recursively)")
    parser.add_argument("--out", default="data", help="data root; shards go to OUT/shards (default: ./data)")
    parser.add_argument("--size", type=int, default=256, help="short side of every sample in pixels (default 256)")
    parser.add_argument("--val-fraction", type=float, default=0.05, help="share of images in the val split")
    parser.add_argument("--workers", type=int, default=2, help="parallel worker processes (default 2)")
    parser.add_argument("--centre-crop", action="store_true", help="crop every sample to SIZE x SIZE")
    parser.add_argument("--codec", choices=sorted(CODEC_KEYS), default=DEFAULT_CODEC)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from flows.build_dataset import build_dataset

    card = build_dataset(
        images=args.images, out=args.out, size=args.size, val_fraction=args.val_fraction,
        workers=args.workers, centre_crop=args.centre_crop, codec=args.codec,
    )
    print(f"dataset card: {card}")
    return 0
