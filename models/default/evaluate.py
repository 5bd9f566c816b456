"""Evaluate a model bundle on a shard set's split, over annealed-mean temperatures and saturations,
beside the gray baseline.

    python models/default/evaluate.py --bundle models/default --shards SHARDS [--split val] \
        [--temperatures 0.38,0.75] [--saturations 1.0,0.7] [--working-size N] [--limit N] [--grid grid.png] \
        [--out metrics.json]

Saturation scales the predicted ab, exactly as the Colorizer's saturation knob does. `--working-size N`
runs the model as the Colorizer does: on L shrunk to N px on its longer side, its ab upsampled back
and joined to the full L (0, the default: the model sees the shard image as it is).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import torch.nn.functional as F

from inference.working_size import working_shape
from preprocessing.shards.dataset_card import read_card
from training.bundle import load_bundle
from training.evaluation import evaluate, gray_predictor


def shrink_to_working_size(lightness: torch.Tensor, size: int) -> torch.Tensor:
    """L (N, 1, H, W) shrunk as the Colorizer shrinks it: longer side `size` (0: as it is)."""
    if not size:
        return lightness
    height, width = lightness.shape[-2:]
    return F.interpolate(lightness, size=working_shape(width, height, size), mode="bilinear", align_corners=False, antialias=True)


def _numbers(text: str) -> list[float | None]:
    return [float(value) for value in text.split(",") if value] or [None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--shards", required=True)
    parser.add_argument("--split", default="val")
    parser.add_argument("--temperatures", default="", help="comma-separated; empty: the bundle's own")
    parser.add_argument("--saturations", default="1.0", help="comma-separated ab scale factors")
    parser.add_argument("--limit", type=int, help="at most this many images")
    parser.add_argument("--working-size", type=int, default=0, help="the Colorizer's working size (0: the image's own)")
    parser.add_argument("--grid", help="sample grid PNG for the first setting")
    parser.add_argument("--out")
    args = parser.parse_args()
    torch.set_num_threads(2)
    bundle = load_bundle(args.bundle)
    card = read_card(args.shards)
    gray = evaluate(gray_predictor, args.shards, card, args.split, limit=args.limit)
    print(json.dumps({"setting": "gray", **gray}), flush=True)
    report = {"bundle": bundle.version, "shards": args.shards, "working_size": args.working_size or None, "split": args.split, "gray": gray, "model": {}}
    first = True
    for temperature in _numbers(args.temperatures):
        for saturation in _numbers(args.saturations):
            scale = 1.0 if saturation is None else saturation

            def predict(lightness: torch.Tensor, t=temperature, s=scale) -> torch.Tensor:
                if not args.working_size:
                    return bundle.model.predict_ab(lightness, temperature=t) * s
                height, width = lightness.shape[-2:]
                ab = bundle.model.predict_ab(shrink_to_working_size(lightness, args.working_size), temperature=t)
                return F.interpolate(ab, size=(height, width), mode="bilinear", align_corners=False) * s

            setting = f"T={temperature},s={scale}"
            grid = args.grid if first else None
            first = False
            report["model"][setting] = evaluate(predict, args.shards, card, args.split, limit=args.limit, grid_path=grid)
            print(json.dumps({"setting": setting, **report["model"][setting]}), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
