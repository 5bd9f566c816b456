"""How the default model was made, step by step after the dataset: shards -> two trainings -> bsds500/val.

Run on the GPU host from the repository root (the dataset itself was built on the CPU host by the
build-dataset flow; see MODEL_CARD.md):

    python models/fast/recipe.py --images PACK --eval-images BSDS_VAL --work /tmp/work --out OUT \
        --steps 12000 [--variants default,l1-baseline] [--model '{"width": 8, ...}']

`--model` overrides the generator's architecture (the fast CPU model in models/fast was made this way,
with `--variants default`); without `--eval-images` the training set's own val split is evaluated.

It builds Lab shards from PACK (the clean, kept images), trains the chosen variant (rebalanced
classification) and the plain L1 regression baseline side by side with the same budget, evaluates both
on bsds500/val beside the gray baseline, and writes OUT/report.json, the sample grids and the
chosen bundle with float16 weights (OUT/bundle.tar).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for models.package
from models.package import half_precision_tar  # noqa: E402
from preprocessing.shards.shard_build import build_shards  # noqa: E402
from preprocessing.shards.shard_plan import ShardSettings  # noqa: E402

MODEL = {"width": 32, "depth": 4, "blocks_per_level": 1, "norm": "batch", "attention": True, "global_context": True}
CUDA = torch.cuda.is_available()
VARIANTS = {"default": "classification", "l1-baseline": "regression"}


def train_settings(steps: int, eval_dir: str, batch_size: int = 64, workers: int = 7) -> dict:
    return {
        "steps": steps, "batch_size": batch_size, "crop": 128, "lr": 1e-3, "warmup_steps": min(500, steps // 10),
        "ema_decay": 0.999, "regression_loss": "l1", "workers": workers, "shuffle_buffer": 2000,
        "epoch_batches": 1000, "log_every": 100, "checkpoint_every": 2000, "eval_every": steps,
        "eval_images": 100, "eval_data": eval_dir, "eval_split": "val", "precision": "bf16" if CUDA else "fp32",
        "channels_last": True, "compile": False, "device": "cuda" if CUDA else "cpu",  # CPU: a smoke run only
    }


def run_variant(name: str, shards: str, work: str, steps: int, eval_dir: str, model: dict, batch_size: int,
                workers: int) -> None:
    from training.train_loop import train

    started = time.perf_counter()
    result = train(shards, Path(work) / f"run-{name}", preset="gpu-base", kind=VARIANTS[name], steps=steps,
                   resume=True, overrides={"model": model, "train": train_settings(steps, eval_dir, batch_size, workers)})
    summary = {"variant": name, "kind": VARIANTS[name], "steps": result.step, "seconds": time.perf_counter() - started,
               "metrics": result.metrics}
    (Path(work) / f"result-{name}.json").write_text(json.dumps(summary, indent=1, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", required=True)
    parser.add_argument("--eval-images", help="evaluation folder (default: the training shards' val split)")
    parser.add_argument("--work", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=12000)
    parser.add_argument("--workers", type=int, default=14, help="shard-building processes; half of them load data per variant")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--model", type=json.loads, default={}, help="JSON overrides of the generator architecture")
    args = parser.parse_args()
    variants = [name for name in args.variants.split(",") if name]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    model = {**MODEL, **args.model}
    work, out = Path(args.work), Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    train_card = build_shards(args.images, work / "shards", ShardSettings(short_side=128, val_fraction=0.03, part_size=400), workers=args.workers)
    eval_dir = work / "shards"
    eval_card = None
    if args.eval_images:
        eval_dir = work / "bsds-val"
        eval_card = build_shards(args.eval_images, eval_dir, ShardSettings(short_side=256, val_fraction=0.9999), workers=args.workers)
    shard_seconds = time.perf_counter() - started
    print(f"shards in {shard_seconds:.0f} s: {train_card}, {eval_card}", flush=True)

    context = multiprocessing.get_context("spawn")
    runs = [context.Process(target=run_variant, args=(name, str(work / "shards"), str(work), args.steps, str(eval_dir), model, args.batch_size,
                                                       max(1, args.workers // 2)))
            for name in variants]
    for run in runs:
        run.start()
    for run in runs:
        run.join()

    report = {"gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None, "torch": torch.__version__,
              "model": model, "shard_seconds": shard_seconds, "train_card": json.loads(Path(train_card).read_text())["totals"], "variants": {}}
    for name in variants:
        result_path = work / f"result-{name}.json"
        if result_path.exists():
            result = json.loads(result_path.read_text())
            report["variants"][name] = result
            grids = sorted((work / f"run-{name}" / "samples").glob("*.png"))
            if grids:
                shutil.copyfile(grids[-1], out / f"grid-{name}.png")
            history = work / f"run-{name}" / "metrics.jsonl"
            if history.exists():
                shutil.copyfile(history, out / f"metrics-{name}.jsonl")
    bundle = work / "run-default" / "bundle"
    if bundle.exists():
        half_precision_tar(bundle, out / "bundle.tar")
    (out / "report.json").write_text(json.dumps(report, indent=1, default=str))
    print(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
