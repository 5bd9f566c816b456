"""`tintype clean --images DIR --out DATA`: the cleaning step alone (build-dataset runs it too)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("clean", help="validate, drop non-colour images and duplicates -> DATA/clean/")
    parser.add_argument("--images", required=True, help="folder of images (searched recursively)")
    parser.add_argument("--out", default="data", help="data root; results go to OUT/clean (default: ./data)")
    parser.add_argument("--workers", type=int, default=2, help="parallel worker processes (default 2)")
    parser.add_argument("--radius", type=int, default=8, help="pHash Hamming radius of a near-duplicate (default 8)")
    parser.add_argument("--min-side", type=int, default=64, help="shorter side below this is dropped (default 64)")
    add_colour_filter_argument(parser)
    parser.set_defaults(run=run)


def add_colour_filter_argument(parser: argparse.ArgumentParser) -> None:
    from preprocessing.cleaning.colour_filter import (
        DEFAULT_OPERATING_POINT,
        OPERATING_POINTS,
    )

    parser.add_argument(
        "--colour-filter", choices=list(OPERATING_POINTS), default=DEFAULT_OPERATING_POINT,
        help="how readily a low-chroma picture is dropped as monochrome: lenient keeps ~99.5%% of colour "
             "photographs, balanced ~98.5%%, strict ~90%% but drops ~95%% of near-gray ones (default balanced)",
    )


def run(args: argparse.Namespace) -> int:
    from flows.clean import clean

    summary = clean(images=args.images, out=args.out, workers=args.workers, radius=args.radius, min_side=args.min_side,
                    colour_filter=args.colour_filter)
    print(f"kept {summary['kept']} of {summary['inputs']}; dropped {summary['dropped_by_reason']}")
    print(f"lists and report: {summary['clean_dir']}/  contact sheet: {summary['contact_sheet']}")
    return 0
