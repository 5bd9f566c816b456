"""Do the frozen ImageNet encoders' features tell warm from green on a gray photo? A study, not a setting.

    python models/default/encoder_probe.py [--encoders efficientnet-lite0,efficientnet-lite1,efficientnet-lite2]
        [--bundle models/default] [--photos ../shared/data/bsds500] [--out probe.json]

The warm-recall goal fails because sunlit dry grass, sand and straw (truth hue 70-100 degrees) come out
at 100-120, the green family (docs/experiments.md). Would a bigger frozen encoder help? For each
encoder, its stride-8, -16 and -32 features of L (bilinearly brought to the stride-8 grid) feed a
class-balanced logistic regression fitted on bsds500/train's coloured pixels (truth chroma >= 20,
warm family against green family, one pixel per 8 x 8 cell) and scored on val and test. A linear probe
is a lower bound on what a decoder can learn from those features, but a fair comparison between
encoders: if lite2's features separated the two families much better than lite0's, a lite2 decoder
would be worth its compute. The bundle's own decision on the same pixels (the family of its predicted
hue, whatever its chroma) is reported beside them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # runnable without PYTHONPATH, like the other studies

from preprocessing.colour.lab_numpy import srgb_to_lab  # noqa: E402
from training.bundle import load_bundle  # noqa: E402
from training.metrics import FAMILIES, TRUE_CHROMA_MIN, hue_family  # noqa: E402
from training.pretrained_encoder import EfficientNetLiteEncoder  # noqa: E402

CELL = 8  # one pixel per 8 x 8 cell: the stride-8 feature grid
WARM, GREEN = list(FAMILIES).index("warm"), list(FAMILIES).index("green")


def photos_lab(folder: Path, limit: int) -> list[np.ndarray]:
    """Lab of the first `limit` photos, cropped to a multiple of 32 (every stride lands on whole cells)."""
    labs = []
    for path in sorted(folder.glob("*.jpg"))[:limit]:
        lab = srgb_to_lab(np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0)
        labs.append(np.ascontiguousarray(lab[: lab.shape[0] // 32 * 32, : lab.shape[1] // 32 * 32]))
    return labs


def cell_labels(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(kept, is_warm) per stride-8 cell centre: kept = a truth pixel of the warm or green family."""
    centres = torch.from_numpy(lab[CELL // 2 :: CELL, CELL // 2 :: CELL]).reshape(-1, 3).T
    family = hue_family(centres[1:])
    kept = (centres[1:].norm(dim=0) >= TRUE_CHROMA_MIN) & ((family == WARM) | (family == GREEN))
    return kept.numpy(), (family == WARM).numpy()


@torch.no_grad()
def encoder_cells(encoder: EfficientNetLiteEncoder, lab: np.ndarray) -> np.ndarray:
    features = encoder(torch.from_numpy(lab[..., 0].copy())[None, None])
    grid = (lab.shape[0] // CELL, lab.shape[1] // CELL)
    maps = [F.interpolate(feature, size=grid, mode="bilinear", align_corners=False) for feature in features[2:]]
    return torch.cat(maps, 1)[0].flatten(1).T.numpy()


def probe_set(encoder: EfficientNetLiteEncoder, labs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    features, warm = [], []
    for lab in labs:
        kept, is_warm = cell_labels(lab)
        features.append(encoder_cells(encoder, lab)[kept])
        warm.append(is_warm[kept])
    return np.concatenate(features), np.concatenate(warm)


def fit_balanced_logistic(features: np.ndarray, warm: np.ndarray):
    """A class-balanced, lightly L2-regularised logistic regression (L-BFGS); returns a predictor."""
    x, y = torch.from_numpy(features), torch.from_numpy(warm.astype(np.float32))
    mean, scale = x.mean(0), x.std(0) + 1e-4
    x = (x - mean) / scale
    weights, bias = torch.zeros(x.shape[1], requires_grad=True), torch.zeros(1, requires_grad=True)
    share = y.mean()
    balance = torch.where(y > 0.5, 0.5 / share, 0.5 / (1 - share))
    optimiser = torch.optim.LBFGS([weights, bias], max_iter=200, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimiser.zero_grad()
        value = F.binary_cross_entropy_with_logits(x @ weights + bias, y, weight=balance) + 1e-3 * weights.square().sum()
        value.backward()
        return value

    optimiser.step(loss)
    return lambda other: (((torch.from_numpy(other) - mean) / scale) @ weights + bias).detach().numpy() > 0


def recalls(predicted_warm: np.ndarray, warm: np.ndarray) -> dict[str, float]:
    warm_recall = float((predicted_warm & warm).sum() / max(warm.sum(), 1))
    green_recall = float((~predicted_warm & ~warm).sum() / max((~warm).sum(), 1))
    return {"warm_recall": round(warm_recall, 3), "green_recall": round(green_recall, 3),
            "balanced_accuracy": round((warm_recall + green_recall) / 2, 3), "pixels": int(warm.size)}


def bundle_decisions(bundle_path: str, labs: list[np.ndarray]) -> dict[str, float]:
    model = load_bundle(bundle_path).model.eval()
    predicted, truth = [], []
    for lab in labs:
        kept, is_warm = cell_labels(lab)
        ab = model.predict_ab(torch.from_numpy(lab[..., 0].copy())[None, None])[0]
        centres = ab[:, CELL // 2 :: CELL, CELL // 2 :: CELL].reshape(2, -1)
        predicted.append((hue_family(centres) == WARM).numpy()[kept])
        truth.append(is_warm[kept])
    return recalls(np.concatenate(predicted), np.concatenate(truth))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoders", default="efficientnet-lite0,efficientnet-lite1,efficientnet-lite2")
    parser.add_argument("--bundle", default="models/default")
    parser.add_argument("--photos", default="../shared/data/bsds500", help="a folder with train/, val/ and test/")
    parser.add_argument("--limit", type=int, default=200, help="photos per split at most")
    parser.add_argument("--out")
    args = parser.parse_args()
    torch.set_num_threads(1)
    splits = {split: photos_lab(Path(args.photos) / split, args.limit) for split in ("train", "val", "test")}
    report: dict = {"bundle": {split: bundle_decisions(args.bundle, splits[split]) for split in ("val", "test")}}
    print(json.dumps({"bundle": report["bundle"]}), flush=True)
    for name in args.encoders.split(","):
        started = time.perf_counter()
        encoder = EfficientNetLiteEncoder(name)
        encoder.load_imagenet()
        encoder.eval()
        predict = fit_balanced_logistic(*probe_set(encoder, splits["train"]))
        row = {split: recalls(predict(features), warm)
               for split, (features, warm) in ((split, probe_set(encoder, splits[split])) for split in ("val", "test"))}
        report[name] = {**row, "seconds": round(time.perf_counter() - started, 1)}
        print(json.dumps({name: report[name]}), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
