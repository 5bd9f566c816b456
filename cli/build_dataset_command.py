"""`tintype build-dataset --images DIR --out DATA`."""

from __future__ import annotations

import argparse

from cli.argument_types import AT_LEAST_ONE, require_file, require_folder
from cli.progress_display import add_quiet_argument, progress_display
from cli.scrape_command import add_scrape_arguments, scrape_settings
from cli.settings_arguments import add_settings_arguments, settings_from_arguments
from preprocessing.cleaning.image_analysis import CleaningSettings
from preprocessing.shards.shard_plan import ShardSettings

SHARD_OPTIONS = ("short_side", "val_fraction", "centre_crop", "keep_small", "codec", "part_size")
RENAMED_SHARD_OPTIONS = {"--size": "short_side"}  # until the next release
CLEANING_OPTIONS = ("colour_filter",)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("build-dataset", help="images -> Lab WebDataset shards (the build-dataset flow)")
    parser.add_argument("--images", help="folder of images (searched recursively; a path or an object-store URL such as s3://bucket/photos); or scrape with --seed/--url-list")
    parser.add_argument("--out", default="data", help="data root, a path or an object-store URL (s3://bucket/data); shards go to OUT/shards (default: ./data)")
    parser.add_argument("--workers", type=AT_LEAST_ONE, default=2, help="parallel worker processes (default 2)")
    add_settings_arguments(parser.add_argument_group("shards"), ShardSettings, SHARD_OPTIONS, RENAMED_SHARD_OPTIONS)
    add_settings_arguments(parser.add_argument_group("cleaning"), CleaningSettings, CLEANING_OPTIONS)
    add_scrape_arguments(parser)
    add_quiet_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if bool(args.images) + bool(args.seed) + bool(args.url_list) != 1:
        raise ValueError("no single source of images; give one of --images DIR, --seed URL ..., --url-list FILE")
    require_folder(args.images, "image folder")
    require_file(args.url_list, "URL list")
    from flows.build_dataset import build_dataset

    with progress_display(args.quiet):
        card = build_dataset(
            images=args.images, out=args.out, workers=args.workers, seeds=args.seed, url_list=args.url_list,
            scrape=scrape_settings(args), cleaning=settings_from_arguments(CleaningSettings, args, CLEANING_OPTIONS),
            shards=settings_from_arguments(ShardSettings, args, SHARD_OPTIONS),
        )
    print(f"dataset card: {card}")
    return 0
