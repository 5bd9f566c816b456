"""`tintype build-dataset --images DIR --out DATA`."""

from __future__ import annotations

import argparse

from cli.clean_command import add_colour_filter_argument
from cli.scrape_command import add_scrape_arguments, check_source, scrape_options
from preprocessing.shards.lab_codec import CODEC_KEYS, DEFAULT_CODEC


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("build-dataset", help="images -> Lab WebDataset shards (the build-dataset flow)")
    parser.add_argument("--images", help="folder of images (searched recursively); or scrape with --seed/--url-list")
    parser.add_argument("--out", default="data", help="data root; shards go to OUT/shards (default: ./data)")
    parser.add_argument("--size", type=int, default=256, help="short side of every sample in pixels (default 256)")
    parser.add_argument("--val-fraction", type=float, default=0.05, help="share of images in the val split")
    parser.add_argument("--workers", type=int, default=2, help="parallel worker processes (default 2)")
    parser.add_argument("--centre-crop", action="store_true", help="crop every sample to SIZE x SIZE")
    parser.add_argument("--codec", choices=sorted(CODEC_KEYS), default=DEFAULT_CODEC)
    add_colour_filter_argument(parser)
    add_scrape_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from flows.build_dataset import build_dataset

    if bool(args.images) + bool(args.seed) + bool(args.url_list) != 1:
        raise SystemExit("tintype build-dataset: give one of --images DIR, --seed URL ..., --url-list FILE")
    check_source(args)
    scrape = dict(
        max_images=args.max_images, max_depth=args.max_depth, max_pages=args.max_pages,
        allow_private=args.allow_private, threads=args.threads, options=scrape_options(args),
    )

    card = build_dataset(
        images=args.images, out=args.out, size=args.size, val_fraction=args.val_fraction,
        workers=args.workers, centre_crop=args.centre_crop, codec=args.codec,
        colour_filter=args.colour_filter, seeds=args.seed, url_list=args.url_list, scrape_options=scrape,
    )
    print(f"dataset card: {card}")
    return 0
