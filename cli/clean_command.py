"""`tintype clean --images DIR --out DATA`: the cleaning step alone (build-dataset runs it too)."""

from __future__ import annotations

import argparse

from cli.settings_arguments import add_settings_arguments, settings_from_arguments
from preprocessing.cleaning.image_analysis import CleaningSettings

CLEANING_OPTIONS = ("min_side", "max_aspect", "radius", "colour_filter")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("clean", help="validate, drop non-colour images and duplicates -> DATA/clean/")
    parser.add_argument("--images", required=True, help="folder of images (searched recursively)")
    parser.add_argument("--out", default="data", help="data root; results go to OUT/clean (default: ./data)")
    parser.add_argument("--workers", type=int, default=2, help="parallel worker processes (default 2)")
    add_settings_arguments(parser, CleaningSettings, CLEANING_OPTIONS)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from flows.clean import clean

    summary = clean(images=args.images, out=args.out, workers=args.workers,
                    settings=settings_from_arguments(CleaningSettings, args, CLEANING_OPTIONS))
    print(f"kept {summary['kept']} of {summary['inputs']}; dropped {summary['dropped_by_reason']}")
    print(f"lists and report: {summary['clean_dir']}/  contact sheet: {summary['contact_sheet']}")
    return 0
