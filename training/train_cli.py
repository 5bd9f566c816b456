"""Plain (Prefect-free) entry point to the training loop, for torchrun and for scripts.

    python -m training.train_cli --data DATA --out RUN --preset gpu-base --model gan
    torchrun --standalone --nproc_per_node=4 -m training.train_cli --data DATA --out RUN --preset gpu-base

Under torchrun every process runs the same loop as one DDP rank; rank 0 writes checkpoints,
metrics and the bundle. `tintype train` runs the same `train()` inside the train-colorizer flow.
"""

from __future__ import annotations

import argparse
import json
import sys

from training.presets import MODEL_KINDS, PRESETS
from training.pretrained_encoder import ENCODERS


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="DATA root (with shards/dataset.json) or the shard folder")
    parser.add_argument("--out", required=True, help="run folder: checkpoints, metrics.jsonl, samples/, bundle/")
    parser.add_argument("--preset", choices=sorted(PRESETS), default=None, help="cpu-small (default) or gpu-base")
    parser.add_argument("--model", choices=MODEL_KINDS, default=None, help="regression (default), classification or gan")
    parser.add_argument("--encoder", choices=ENCODERS, default=None,
                        help="scratch (default: the U-Net learns from nothing) or an ImageNet-pretrained EfficientNet-Lite "
                             "encoder under a U-Net decoder (frozen unless --set train.encoder_frozen_steps=N)")
    parser.add_argument("--steps", type=int, default=None, help="total optimiser steps (default: the preset's)")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=JSON",
                        help='override a setting, e.g. --set train.batch_size=8 --set model.attention=true')


def with_encoder(overrides: dict[str, dict], encoder: str | None) -> dict[str, dict]:
    """--encoder is the model section's `encoder` setting (a resume keeps the run's own)."""
    if encoder is None:
        return overrides
    return {**overrides, "model": {**overrides.get("model", {}), "encoder": encoder}}


def parse_overrides(assignments: list[str]) -> dict[str, dict]:
    overrides: dict[str, dict] = {}
    for assignment in assignments:
        key, separator, raw = assignment.partition("=")
        section, dot, name = key.partition(".")
        if not separator or not dot:
            raise SystemExit(f"--set needs SECTION.KEY=VALUE, got {assignment!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        overrides.setdefault(section, {})[name] = value
    return overrides


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.train_cli", description="Train a colorizer (no Prefect).")
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    from training.distributed_setup import leave_process_group
    from training.train_loop import (
        train,  # torch is imported only once the arguments are good
    )

    def show(record: dict) -> None:
        print(json.dumps({k: record[k] for k in ("step", "steps", "loss", "lr")}), flush=True)

    try:
        result = train(args.data, args.out, preset=args.preset, kind=args.model, steps=args.steps, resume=args.resume,
                       overrides=with_encoder(parse_overrides(args.set), args.encoder), progress=show)
    finally:
        leave_process_group()
    if result.bundle_dir is not None:
        print(f"bundle: {result.bundle_dir}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
