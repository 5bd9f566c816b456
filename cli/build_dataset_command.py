"""`tintype build-dataset --images DIR --out DATA`."""

from __future__ import annotations

import argparse

from cli.scrape_command import add_scrape_arguments, check_source, scrape_settings
from cli.settings_arguments import add_settings_arguments, settings_from_arguments
from preprocessing.cleaning.image_analysis import CleaningSettings
from preprocessing.shards.shard_plan import ShardSettings

SHARD_OPTIONS = ("short_side", "val_fraction", "centre_crop", "codec", "part_size")
RENAMED_SHARD_OPTIONS = {"--size": "short_side"}  # until the next release
CLEANING_OPTIONS = ("colour_filter",)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("build-dataset", help="images -> Lab WebDataset shards (the build-dataset flow)")
    parser.add_argument("--images", help="folder of images (searched recursively); or scrape with --seed/--url-list")
    parser.add_argument("--out", default="data", help="data root; shards go to OUT/shards (default: ./data)")
    parser.add_argument("--workers", type=int, default=2, help="parallel worker processes (default 2)")
    add_settings_arguments(parser.add_argument_group("shards"), ShardSettings, SHARD_OPTIONS, RENAMED_SHARD_OPTIONS)
    add_settings_arguments(parser.add_argument_group("cleaning"), CleaningSettings, CLEANING_OPTIONS)
    add_scrape_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from flows.build_dataset import build_dataset

    if bool(args.images) + bool(args.seed) + bool(args.url_list) != 1:
        raise SystemExit("tintype build-dataset: give one of --images DIR, --seed URL ..., --url-list FILE")
    check_source(args)
    card = build_dataset(
        images=args.images, out=args.out, workers=args.workers, seeds=args.seed, url_list=args.url_list,
        scrape=scrape_settings(args), cleaning=settings_from_arguments(CleaningSettings, args, CLEANING_OPTIONS),
        shards=settings_from_arguments(ShardSettings, args, SHARD_OPTIONS),
    )
    print(f"dataset card: {card}")
    return 0
