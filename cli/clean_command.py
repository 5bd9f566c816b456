"""`tintype clean --images DIR --out DATA`: the cleaning step alone (build-dataset runs it too)."""

from __future__ import annotations

import argparse

from cli.argument_types import AT_LEAST_ONE, require_folder
from cli.progress_display import add_quiet_argument, progress_display
from cli.settings_arguments import add_settings_arguments, settings_from_arguments
from preprocessing.cleaning.image_analysis import CleaningSettings

CLEANING_OPTIONS = ("min_side", "max_aspect", "radius", "colour_filter")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("clean", help="validate, drop non-colour images and duplicates -> DATA/clean/")
    parser.add_argument("--images", required=True, help="folder of images (searched recursively): a path or an object-store URL (s3://bucket/photos)")
    parser.add_argument("--out", default="data", help="data root, a path or an object-store URL; results go to OUT/clean (default: ./data)")
    parser.add_argument("--workers", type=AT_LEAST_ONE, default=2, help="parallel worker processes (default 2)")
    add_settings_arguments(parser, CleaningSettings, CLEANING_OPTIONS)
    add_quiet_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    require_folder(args.images, "image folder")
    from flows.clean import clean

    with progress_display(args.quiet):
        summary = clean(images=args.images, out=args.out, workers=args.workers,
                        settings=settings_from_arguments(CleaningSettings, args, CLEANING_OPTIONS))
    print(f"kept {summary['kept']} of {summary['inputs']}; dropped {summary['dropped_by_reason']}")
    print(f"lists and report: {summary['clean_dir']}/  contact sheet: {summary['contact_sheet']}")
    return 0
