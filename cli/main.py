"""The `tintype` console script: one subcommand per flow (each runs the same flow as its deployment)."""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

COMMAND_NAMES = ("build_dataset", "clean", "colorize", "demo", "gallery", "scrape", "serve", "studio", "train")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tintype", description="Colorize black-and-white photo archives.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_NAMES:
        import_module(f"cli.{name}_command").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
