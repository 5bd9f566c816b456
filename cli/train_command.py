"""`tintype train --data DATA --out RUN [--preset cpu-small|gpu-base] [--kind ...] [--encoder ...] [--steps N] [--resume]`.

`python -m cli.train_command` takes the same arguments and runs the training loop without Prefect:
the torchrun target (`torchrun --standalone --nproc_per_node=4 -m cli.train_command ...`), where every
process is one DDP rank and rank 0 writes checkpoints, metrics and the bundle.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cli.argument_types import require_folder
from cli.progress_display import add_quiet_argument, progress_display
from cli.settings_arguments import add_settings_arguments, settings_from_arguments
from training.presets import TrainingSettings

TRAINING_OPTIONS = ("preset", "kind", "encoder", "steps", "batch_size", "eval_every")
RENAMED_TRAINING_OPTIONS = {"--model": "kind"}  # until the next release (--model names a bundle elsewhere)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train a colorizer on Lab shards (the train-colorizer flow)")
    add_train_arguments(parser)
    add_quiet_argument(parser)
    parser.set_defaults(run=run)


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="DATA root (with shards/dataset.json) or the shard folder")
    parser.add_argument("--out", required=True, help="run folder: checkpoints, metrics.jsonl, samples/, bundle/")
    add_settings_arguments(parser, TrainingSettings, TRAINING_OPTIONS, RENAMED_TRAINING_OPTIONS)
    parser.add_argument("--resume", action="store_true",
                        help="continue from the newest checkpoint in --out; with a larger --steps, train it longer")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=JSON",
                        help='override any other setting, e.g. --set train.lr=0.001 --set model.attention=true')


def training_settings(args: argparse.Namespace) -> TrainingSettings:
    return settings_from_arguments(TrainingSettings, args, TRAINING_OPTIONS, overrides=parse_overrides(args.set) or None)


def parse_overrides(assignments: list[str]) -> dict[str, dict]:
    overrides: dict[str, dict] = {}
    for assignment in assignments:
        key, separator, raw = assignment.partition("=")
        section, dot, name = key.partition(".")
        if not separator or not dot:
            raise ValueError(f"--set needs SECTION.KEY=VALUE, got {assignment!r}; e.g. --set train.lr=0.001")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        overrides.setdefault(section, {})[name] = value
    return overrides


def run(args: argparse.Namespace) -> int:
    settings = training_settings(args)
    from flows.train_colorizer import SAMPLE_DATA_ROOT, train_colorizer
    from training.train_loop import find_shard_dir

    if args.data != SAMPLE_DATA_ROOT:  # that one gets the built-in sample dataset when it has none (the flow's rule)
        require_folder(args.data, "data root")
        find_shard_dir(args.data)  # no shards: refused now, not after Prefect's start-up and the task's retries

    with progress_display(args.quiet):
        result = train_colorizer(data=args.data, out=args.out, settings=settings, resume=args.resume)
    if result["nothing_to_train"]:
        print(nothing_to_train_line(args, result["step"], result["bundle_dir"]))
    else:
        print(f"trained {result['step']} steps; bundle: {result['bundle_dir']}")
    for name, value in result["metrics"].items():
        print(f"  {name}: {'n/a' if value is None else f'{value:.4f}'}")
    return 0


def nothing_to_train_line(args: argparse.Namespace, step: int, bundle_dir: str | Path) -> str:
    asked = f"--steps {args.steps}" if args.steps is not None else f"its steps {step}"
    return f"{args.out} already at step {step} >= {asked}: nothing to train; bundle at {bundle_dir}"


def main(argv: list[str] | None = None, prog: str = "python -m cli.train_command") -> int:
    """The training loop without Prefect (torchrun, scripts)."""
    parser = argparse.ArgumentParser(prog=prog, description="Train a colorizer (no Prefect).")
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    try:
        settings = training_settings(args)
    except ValueError as error:  # a malformed --set: a bad command line
        parser.error(str(error))
    from training.distributed_setup import leave_process_group
    from training.train_loop import (
        train,  # torch is imported only once the arguments are good
    )

    def show(record: dict) -> None:
        print(json.dumps({k: record[k] for k in ("step", "steps", "loss", "lr")}), flush=True)

    try:
        result = train(args.data, args.out, resume=args.resume, progress=show, **settings.train_arguments())
    finally:
        leave_process_group()
    if result.nothing_to_train:
        print(nothing_to_train_line(args, result.step, result.bundle_dir), flush=True)
    elif result.bundle_dir is not None:
        print(f"bundle: {result.bundle_dir}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
