"""`tintype colorize INPUT OUTPUT [--model BUNDLE] [--size N] [--saturation X] [--force]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from inference.default_model import default_bundle_path
from inference.working_size import DEFAULT_WORKING_SIZE

DEFAULT_MODEL = str(default_bundle_path())


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("colorize", help="colorize an image, folder, .zip, .tar(.gz) or list file (the colorize-archive flow)")
    parser.add_argument("input", metavar="INPUT", help="image file, folder, .zip, .tar/.tar.gz or list file (.txt: one path per line)")
    parser.add_argument("output", metavar="OUTPUT", help="output folder, or a .zip; the ledger lives beside the outputs")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="model bundle folder (default: $TINTYPE_MODEL, else the shipped model in models/default)")
    parser.add_argument("--size", type=int, default=DEFAULT_WORKING_SIZE,
                        help=f"working size: longer side the model sees, in pixels (default {DEFAULT_WORKING_SIZE})")
    parser.add_argument("--saturation", type=float, default=1.0, help="multiply the predicted colour (default 1.0)")
    parser.add_argument("--temperature", type=float, default=None, help="classification models: annealed-mean T (default: the model's)")
    parser.add_argument("--smoothing", type=float, default=0.0, help="Gaussian sigma for the colour, in working pixels (default 0: off)")
    parser.add_argument("--force", action="store_true", help="also colorize inputs that already look like colour photographs")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--inbox", action="store_true", help="INPUT is a watched folder: plan only entries not finished before")
    parser.add_argument("--every", type=int, default=0, metavar="SECONDS",
                        help="with --inbox: serve a deployment that re-runs every SECONDS (Ctrl-C stops)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not (Path(args.model) / "version.txt").is_file():
        print(f"error: no model bundle at {args.model} (pass --model BUNDLE, e.g. RUN/bundle from `tintype train`)", file=sys.stderr)
        return 2
    if not Path(args.input).exists():
        print(f"error: input not found: {args.input}", file=sys.stderr)
        return 2
    from flows.colorize_archive import colorize_archive

    parameters = dict(
        input=args.input, output=args.output, model=str(Path(args.model).resolve()), size=args.size,
        saturation=args.saturation, temperature=args.temperature, smoothing=args.smoothing, force=args.force,
        device=args.device, inbox=args.inbox,
    )
    if args.every:
        if not args.inbox:
            print("error: --every needs --inbox", file=sys.stderr)
            return 2
        colorize_archive.serve(name="colorize-inbox", interval=args.every, parameters=parameters)
        return 0
    try:
        totals = colorize_archive(**parameters)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(totals, indent=1))
    return 1 if totals["failed"] and not totals["done"] else 0
