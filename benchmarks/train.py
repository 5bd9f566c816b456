"""Training benchmarks. Prints JSON (and writes it with --out).

throughput (default): per preset, model steps/s and samples/s (forward + backward + AdamW, the
    preset's crop and batch size; on CUDA with the preset's precision, bf16 for gpu-base, and peak
    GPU memory), next to the loader's samples/s over real shards with the preset's worker count,
    so one sees whether the loader keeps ahead of the model.

    python benchmarks/train.py --data DATA [--device cpu|cuda] [--presets cpu-small,gpu-base]
    python benchmarks/train.py --device cuda --steps 20    # models only, no shards needed

experiment: train regression, rebalanced classification and GAN with the same preset and step
    budget on DATA, evaluate each on EVAL's val split (PSNR, SSIM, dCF, AuC; gray baseline row),
    and copy the sample grids next to the JSON.

    python benchmarks/train.py experiment --data DATA --eval EVAL --steps 300 --out-dir DIR
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from preprocessing.shards.dataset_card import read_card  # noqa: E402
from training.losses import (
    ab_regression_loss,  # noqa: E402
    rebalanced_cross_entropy,  # noqa: E402
)
from training.model_factory import build_model, generator_config  # noqa: E402
from training.optimisation import apply_encoder_schedule  # noqa: E402
from training.presets import run_config  # noqa: E402
from training.shard_loader import train_loader  # noqa: E402
from training.train_loop import find_shard_dir, train  # noqa: E402


def model_throughput(preset: str, kind: str, card: dict, device: torch.device, steps: int, batch: int | None = None,
                     encoder: str = "scratch", crop: int | None = None) -> dict:
    config = run_config(preset, kind, {"model": {"encoder": encoder}} if encoder != "scratch" else None)
    settings = config["train"]
    batch, crop = batch or settings["batch_size"], crop or settings["crop"]
    model = build_model(generator_config(kind, card, **config["model"])).to(device)
    apply_encoder_schedule(model, 0, settings)  # a pretrained encoder as the preset trains it first: frozen
    bf16 = device.type == "cuda" and settings["precision"] == "bf16"
    memory_format = torch.channels_last if device.type == "cuda" and settings["channels_last"] else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    lightness = (torch.rand(batch, 1, crop, crop, device=device) * 100).contiguous(memory_format=memory_format)
    ab = torch.randn(batch, 2, crop, crop, device=device) * 20
    centres = torch.tensor(card["ab_bins"]["centres"], device=device)
    weights = torch.tensor(card["rebalancing"]["weights"], device=device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    def one_step() -> None:
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            output = model(lightness)
        if kind == "classification":
            loss = rebalanced_cross_entropy(output, ab, centres, weights)
        else:
            loss = ab_regression_loss(output, ab)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    warmup = 5 if device.type == "cuda" else (2 if preset == "cpu-small" else 1)
    for _ in range(warmup):
        one_step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    started = time.perf_counter()
    for _ in range(steps):
        one_step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - started
    result = {
        "preset": preset, "kind": kind, "encoder": encoder if encoder == "scratch" else f"{encoder} (frozen)", "device": str(device), "precision": "bf16" if bf16 else "fp32",
        "batch_size": batch, "crop": crop, "parameters": sum(p.numel() for p in model.parameters()),
        "trained_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "steps": steps, "steps_per_s": steps / seconds, "samples_per_s": steps * batch / seconds,
    }
    if device.type == "cuda":
        result["peak_gpu_memory_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
    return result


def loader_throughput(shard_dir: Path, card: dict, preset: str, batches: int, workers: int | None) -> dict:
    settings = run_config(preset)["train"]
    workers = settings["workers"] if workers is None else workers
    loader = train_loader(shard_dir, card, settings["crop"], settings["batch_size"], seed=0, workers=workers,
                          shuffle_buffer=settings["shuffle_buffer"], epoch_batches=batches + 2)
    iterator = iter(loader)
    next(iterator)  # worker start-up and shuffle-buffer fill are not throughput
    next(iterator)
    started = time.perf_counter()
    count = 0
    for lightness, _ in iterator:
        count += lightness.shape[0]
    seconds = time.perf_counter() - started
    return {"preset": preset, "workers": workers, "batch_size": settings["batch_size"], "crop": settings["crop"],
            "samples": count, "samples_per_s": count / seconds}


def synthetic_card() -> dict:
    """Without shards, model timing still needs the ab bins (and flat rebalancing weights)."""
    from preprocessing.colour.ab_gamut import bin_centres

    centres = bin_centres()
    return {"ab_bins": {"count": len(centres), "centres": centres.tolist()}, "rebalancing": {"weights": [1.0] * len(centres)}}


def throughput(args: argparse.Namespace) -> dict:
    shard_dir = find_shard_dir(args.data) if args.data else None
    card = read_card(shard_dir) if shard_dir else synthetic_card()
    requested = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    report: dict = {"machine": platform.platform(), "cpu_threads": torch.get_num_threads(), "torch": torch.__version__,
                    "load_average": list(os.getloadavg()), "cpu_count": os.cpu_count(),
                    "cuda_available": torch.cuda.is_available(), "models": [], "loader": []}
    if requested.type == "cuda" and not torch.cuda.is_available():
        report["gpu"] = "no CUDA GPU was available on this machine; GPU figures not measured"
        requested = None
    elif requested.type == "cuda":
        report["gpu"] = torch.cuda.get_device_name(requested)
    else:
        report["gpu"] = f"not measured (--device {args.device}); CUDA available: {torch.cuda.is_available()}"
    for preset in args.presets.split(","):
        for kind, encoder in [(k, e) for e in args.encoders.split(",") for k in ("regression", "classification")]:
            if requested is not None:
                # gpu-base on a CPU is minutes per step: time one step, as an order of magnitude.
                steps = args.steps if requested.type == "cuda" or preset == "cpu-small" else 1
                # On a CPU, gpu-base's batch of 32 x 256^2 is ~10 minutes a step: --cpu-batch times a smaller one.
                batch = args.cpu_batch if requested.type == "cpu" and preset != "cpu-small" else None
                report["models"].append(model_throughput(preset, kind, card, requested, steps, batch, encoder, args.crop))
                print(json.dumps(report["models"][-1]), file=sys.stderr)
        if shard_dir is None:
            continue
        report["loader"].append(loader_throughput(shard_dir, card, preset, args.loader_batches, args.workers))
        print(json.dumps(report["loader"][-1]), file=sys.stderr)
    return report


def experiment(args: argparse.Namespace) -> dict:
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    eval_dir = find_shard_dir(args.eval)
    report: dict = {"train_data": str(args.data), "eval_data": str(eval_dir), "eval_split": "val", "steps": args.steps,
                    "preset": args.preset, "runs": []}
    for kind in args.kinds.split(","):
        run_dir = out_dir / f"run-{kind}"
        started = time.perf_counter()
        overrides = {"train": {"eval_data": str(eval_dir), "eval_split": "val", "eval_images": args.eval_images,
                               "eval_every": args.eval_every, "checkpoint_every": 50, "log_every": 10,
                               "warmup_steps": max(10, args.steps // 10), "cpu_threads": args.threads}}
        result = train(args.data, run_dir, preset=args.preset, kind=kind, steps=args.steps,
                       resume=True, overrides=overrides)
        row = {"kind": kind, "seconds": time.perf_counter() - started, "step": result.step,
               **{k: result.metrics[k] for k in ("psnr", "ssim", "colourfulness", "colourfulness_truth", "dcf", "auc", "auc_rebalanced")}}
        report["runs"].append(row)
        report["gray"] = result.metrics["gray"]
        shutil.copyfile(result.metrics["grid"], out_dir / f"grid-{kind}.png")
        print(json.dumps(row), file=sys.stderr)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", choices=["throughput", "experiment"], default="throughput")
    parser.add_argument("--data", help="DATA root or shard folder (with dataset.json); throughput without it times the models only")
    parser.add_argument("--out", help="also write the JSON here")
    parser.add_argument("--device", default="cpu", help="throughput: cpu or cuda")
    parser.add_argument("--presets", default="cpu-small,gpu-base")
    parser.add_argument("--encoders", default="scratch", help="throughput: comma-separated, e.g. scratch,efficientnet-lite0 (pretrained ones frozen)")
    parser.add_argument("--crop", type=int, default=None, help="throughput: crop size (default: the preset's)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps (throughput) / training steps (experiment)")
    parser.add_argument("--loader-batches", type=int, default=20)
    parser.add_argument("--cpu-batch", type=int, default=None, help="batch size for presets other than cpu-small on a CPU")
    parser.add_argument("--workers", type=int, default=None, help="loader workers (default: the preset's)")
    parser.add_argument("--eval", help="experiment: shard folder whose val split is the test set")
    parser.add_argument("--eval-images", type=int, default=100)
    parser.add_argument("--eval-every", type=int, default=1000)
    parser.add_argument("--preset", default="cpu-small")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--kinds", default="regression,classification,gan")
    parser.add_argument("--out-dir", default="bench-out/train-experiment")
    args = parser.parse_args()
    if args.mode == "experiment" and not (args.data and args.eval):
        parser.error("experiment needs --data and --eval")
    report = experiment(args) if args.mode == "experiment" else throughput(args)
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
