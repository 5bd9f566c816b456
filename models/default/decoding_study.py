"""How far can decoding alone move a classification bundle's colours? A study, not a shipped setting.

    python models/default/decoding_study.py --bundle models/default --shards SHARDS [--split val] \
        [--sizes 320,0] [--decodings mean:0.38,family:0.38,prior:0.38:0.2] [--limit N] [--out study.json]

The network runs once per image and working size (0: the shard image's own size); every decoding then
reuses its logits, so a sweep costs one forward pass per image:

- `mean:T`: the annealed mean at temperature T, as the Colorizer decodes;
- `family:T`: the annealed mean restricted to the neutral bins (chroma < 8) and the hue family
  (training/metrics.py's warm, green, blue, purple) holding the most probability, so that a pixel torn
  between dry grass and lawn gets one of them instead of the yellow-green between them;
- `prior:T:alpha`: the logits plus alpha * log(the bundle's training-set ab histogram), undoing part of the
  class rebalancing (alpha > 0 favours the common, less saturated colours).

It also splits the warm family's misses (at the first size, plain `mean` at the bundle's temperature)
into "too gray", "green" and "other", and reports how the truth's warm pixels spread over hue
angles: docs/experiments.md reads the results.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from models.default.evaluate import shrink_to_working_size  # noqa: E402
from preprocessing.shards.dataset_card import read_card  # noqa: E402
from training.bundle import load_bundle  # noqa: E402
from training.evaluation import evaluate, gray_predictor  # noqa: E402
from training.metrics import FAMILIES, PREDICTED_CHROMA_MIN, TRUE_CHROMA_MIN, hue_family  # noqa: E402
from training.shard_loader import val_samples  # noqa: E402

WARM_HUE_EDGES = (-30, 0, 30, 50, 70, 85, 100)


class Decoder:
    """Logits (N, Q, h, w) -> ab (N, 2, h, w) by one of the decodings in the module docstring."""

    def __init__(self, centres: torch.Tensor, ab_histogram: list[float]) -> None:
        self.centres = centres
        self.family_of_bin = hue_family(centres.T)
        self.neutral_bins = centres.norm(dim=1) < PREDICTED_CHROMA_MIN
        counts = torch.tensor(ab_histogram, dtype=torch.float32) + 1
        self.log_prior = torch.log(counts / counts.sum())

    def __call__(self, logits: torch.Tensor, spec: str) -> torch.Tensor:
        kind, *numbers = spec.split(":")
        temperature = float(numbers[0])
        logits = logits.float()
        if kind == "prior":
            logits = logits + float(numbers[1]) * self.log_prior[None, :, None, None]
        probabilities = torch.softmax(logits / temperature, dim=1)
        if kind == "family":
            plain = torch.softmax(logits, dim=1)
            mass = torch.stack([plain[:, (self.family_of_bin == index) & ~self.neutral_bins].sum(1)
                                for index in range(len(FAMILIES))], dim=1)
            chosen = mass.argmax(1, keepdim=True)
            allowed = (self.family_of_bin[None, :, None, None] == chosen) | self.neutral_bins[None, :, None, None]
            probabilities = probabilities * allowed
            probabilities = probabilities / probabilities.sum(1, keepdim=True)
        elif kind not in ("mean", "prior"):
            raise ValueError(f"unknown decoding {spec!r}: mean:T, family:T or prior:T:alpha")
        return torch.einsum("nqhw,qc->nchw", probabilities, self.centres)


def forward_all(model, shards: str, card: dict, split: str, size: int, limit: int | None) -> list[tuple]:
    """One forward pass per image at the working size: (logits, padded shape, model input shape, full shape)."""
    cached = []
    for _, lightness, _ in val_samples(shards, card, split, limit):
        full = torch.from_numpy(lightness)[None, None]
        small = shrink_to_working_size(full, size)
        logits, padded = model.padded_forward(small)
        cached.append((logits, padded, tuple(small.shape[-2:]), tuple(full.shape[-2:])))
    return cached


def predictor(model, cached: list[tuple], decode: Decoder, spec: str):
    """A training.evaluation predictor that replays the cached logits in shard order."""
    replay = iter(cached)

    def predict(_: torch.Tensor) -> torch.Tensor:
        logits, padded, small, full = next(replay)
        ab = model.ab_at_size(decode(logits, spec), padded, small)
        return F.interpolate(ab, size=full, mode="bilinear", align_corners=False)

    return predict


def warm_misses(predict, shards: str, card: dict, split: str, limit: int | None) -> dict:
    """Where the truth's warm pixels go under `predict`: hit, too gray, green, other; and their hue spread."""
    counts = {"hit": 0, "too_gray": 0, "green": 0, "other": 0}
    true_angles: list[np.ndarray] = []
    for _, lightness, true_ab in val_samples(shards, card, split, limit):
        truth = torch.from_numpy(true_ab)
        ab = predict(torch.from_numpy(lightness)[None, None])[0]
        warm = (truth.norm(dim=0) >= TRUE_CHROMA_MIN) & (hue_family(truth) == 0)
        coloured = ab.norm(dim=0) >= PREDICTED_CHROMA_MIN
        family = hue_family(ab)
        counts["hit"] += int((warm & coloured & (family == 0)).sum())
        counts["too_gray"] += int((warm & ~coloured).sum())
        counts["green"] += int((warm & coloured & (family == 1)).sum())
        counts["other"] += int((warm & coloured & (family >= 2)).sum())
        true_angles.append(torch.rad2deg(torch.atan2(truth[1], truth[0]))[warm].numpy())
    total = max(sum(counts.values()), 1)
    spread = np.histogram(np.concatenate(true_angles), bins=WARM_HUE_EDGES)[0]
    return {"shares": {name: count / total for name, count in counts.items()},
            "truth_hue_edges": list(WARM_HUE_EDGES), "truth_hue_shares": (spread / max(spread.sum(), 1)).tolist()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", default="models/default")
    parser.add_argument("--shards", required=True)
    parser.add_argument("--split", default="val")
    parser.add_argument("--sizes", default="320,0", help="working sizes; 0: the shard image's own size")
    parser.add_argument("--decodings", default="mean:0.38,family:0.38,prior:0.38:0.2")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--out")
    args = parser.parse_args()
    torch.set_num_threads(2)
    bundle, card = load_bundle(args.bundle), read_card(args.shards)
    # the prior is the TRAINING set's histogram (the bundle's card), never the evaluated set's
    training_card = json.loads((Path(args.bundle) / "dataset.json").read_text())
    decode = Decoder(bundle.model.head.centres, training_card["ab_histogram"]["counts"])
    report: dict = {"bundle": bundle.version, "split": args.split,
                    "gray": evaluate(gray_predictor, args.shards, card, args.split, limit=args.limit), "runs": {}}
    for index, size in enumerate(int(value) for value in args.sizes.split(",")):
        cached = forward_all(bundle.model, args.shards, card, args.split, size, args.limit)
        for spec in args.decodings.split(","):
            metrics = evaluate(predictor(bundle.model, cached, decode, spec), args.shards, card, args.split, limit=args.limit)
            report["runs"][f"size={size or 'own'} {spec}"] = metrics
            print(json.dumps({"size": size or "own", "decoding": spec, **{k: round(v, 3) for k, v in metrics.items()
                              if k in ("psnr", "colourfulness", "recall_warm", "recall_green", "recall_blue")}}), flush=True)
        if index == 0:
            plain = f"mean:{bundle.model.head.temperature}"
            report["warm_misses"] = warm_misses(predictor(bundle.model, cached, decode, plain), args.shards, card, args.split, args.limit)
            print(json.dumps({"warm_misses": report["warm_misses"]}), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
