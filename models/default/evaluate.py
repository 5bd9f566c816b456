"""Evaluate a model bundle on a shard set's split, at several annealed-mean temperatures, beside gray.

    python models/default/evaluate.py --bundle models/default/bundle --shards SHARDS [--split val] \
        [--temperatures 0.38,0.5,0.7] [--grid grid.png] [--out metrics.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from preprocessing.dataset_card import read_card
from training.bundle import load_bundle
from training.evaluation import evaluate, gray_predictor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--shards", required=True)
    parser.add_argument("--split", default="val")
    parser.add_argument("--temperatures", default="", help="comma-separated; empty: the bundle's own")
    parser.add_argument("--limit", type=int, help="at most this many images")
    parser.add_argument("--grid", help="sample grid PNG for the bundle's own temperature")
    parser.add_argument("--out")
    args = parser.parse_args()
    torch.set_num_threads(2)
    bundle = load_bundle(args.bundle)
    card = read_card(args.shards)
    report = {"bundle": bundle.version, "shards": args.shards, "split": args.split,
              "gray": evaluate(gray_predictor, args.shards, card, args.split, limit=args.limit), "model": {}}
    temperatures = [float(t) for t in args.temperatures.split(",") if t] or [None]
    for temperature in temperatures:
        predict = lambda lightness, t=temperature: bundle.model.predict_ab(lightness, temperature=t)  # noqa: E731
        grid = args.grid if temperature == temperatures[0] else None
        report["model"][str(temperature)] = evaluate(predict, args.shards, card, args.split, limit=args.limit, grid_path=grid)
        print(json.dumps({"temperature": temperature, **report["model"][str(temperature)]}), flush=True)
    print(json.dumps({"gray": report["gray"]}))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
