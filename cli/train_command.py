"""`tintype train --data DATA --out RUN [--preset cpu-small|gpu-base] [--model ...] [--encoder ...] [--steps N] [--resume]`."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    from training.train_cli import add_train_arguments

    parser = subparsers.add_parser("train", help="train a colorizer on Lab shards (the train-colorizer flow)")
    add_train_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from flows.train_colorizer import train_colorizer
    from training.train_cli import parse_overrides

    result = train_colorizer(data=args.data, out=args.out, preset=args.preset, model=args.model, encoder=args.encoder,
                             steps=args.steps, resume=args.resume, overrides=parse_overrides(args.set) or None)
    print(f"trained {result['step']} steps; bundle: {result['bundle_dir']}")
    for name, value in result["metrics"].items():
        print(f"  {name}: {'n/a' if value is None else f'{value:.4f}'}")
    return 0
