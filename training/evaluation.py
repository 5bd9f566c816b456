"""Evaluate a colorizer on the val shards: PSNR, SSIM, colourfulness and dCF, AuC (raw and
rebalanced), hue-family recall (warm, green, blue, purple), and a sample grid (a PNG of rows
`input L | prediction | truth`, for a person to look at after each evaluation). The gray baseline (ab = 0) goes through the very same code.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from PIL import Image

from preprocessing.colour.colourfulness import colourfulness
from preprocessing.colour.lab_torch import l_ab_to_srgb
from safe_files.atomic_output import write_bytes_atomic
from training.metrics import (
    AbAucAccumulator,
    HueRecallAccumulator,
    psnr_uint8,
    ssim_uint8,
)
from training.shard_loader import val_samples

GAP = 2


def write_sample_grid(rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]], path: str | Path, cell: int = 128) -> Path:
    """rows of three uint8 (H, W, 3) images -> one PNG, each image scaled to height `cell`."""
    scaled_rows = []
    for row in rows:
        images = [Image.fromarray(image) for image in row]
        images = [im.resize((max(1, round(im.width * cell / im.height)), cell), Image.Resampling.BICUBIC) for im in images]
        scaled_rows.append(images)
    width = max(sum(im.width for im in row) + GAP * (len(row) - 1) for row in scaled_rows)
    canvas = Image.new("RGB", (width, len(scaled_rows) * (cell + GAP) - GAP), "white")
    for index, row in enumerate(scaled_rows):
        x = 0
        for image in row:
            canvas.paste(image, (x, index * (cell + GAP)))
            x += image.width + GAP
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", optimize=True)
    write_bytes_atomic(path, buffer.getvalue())
    return Path(path)


Predictor = Callable[[torch.Tensor], torch.Tensor]  # L (1, 1, H, W) -> ab (1, 2, H, W)


def gray_predictor(lightness: torch.Tensor) -> torch.Tensor:
    return torch.zeros(lightness.shape[0], 2, *lightness.shape[-2:], dtype=lightness.dtype, device=lightness.device)


def to_rgb8(lightness: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """L (1, 1, H, W), ab (1, 2, H, W) -> uint8 (3, H, W) on the CPU."""
    rgb = l_ab_to_srgb(lightness.float(), ab.float())[0]
    return torch.round(rgb.clamp(0, 1) * 255).to(torch.uint8).cpu()


def evaluate(
    predict: Predictor,
    shard_dir: str | Path,
    card: dict[str, Any],
    split: str = "val",
    device: str | torch.device = "cpu",
    limit: int | None = None,
    grid_path: str | Path | None = None,
    grid_rows: int = 6,
) -> dict[str, float]:
    """Mean per-image metrics over the split (at most `limit` images)."""
    sums = {"psnr": 0.0, "ssim": 0.0, "colourfulness": 0.0, "colourfulness_truth": 0.0}
    auc = AbAucAccumulator(int(card["ab_bins"]["count"]))
    hue_recall = HueRecallAccumulator()
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    images = 0
    for _, lightness, true_ab in val_samples(shard_dir, card, split, limit):
        l_tensor = torch.from_numpy(lightness)[None, None].to(device)
        ab_truth = torch.from_numpy(true_ab)[None].to(device)
        with torch.no_grad():
            ab_pred = predict(l_tensor).float()
        predicted_rgb, truth_rgb = to_rgb8(l_tensor, ab_pred), to_rgb8(l_tensor, ab_truth)
        sums["psnr"] += psnr_uint8(predicted_rgb, truth_rgb)
        sums["ssim"] += ssim_uint8(predicted_rgb, truth_rgb)
        sums["colourfulness"] += colourfulness(predicted_rgb)
        sums["colourfulness_truth"] += colourfulness(truth_rgb)
        predicted_cpu, truth_cpu = ab_pred[0].cpu(), ab_truth[0].cpu()
        auc.update(predicted_cpu, truth_cpu)
        hue_recall.update(predicted_cpu, truth_cpu)
        if grid_path is not None and len(rows) < grid_rows:
            gray = np.repeat(np.rint(lightness * 2.55).clip(0, 255).astype(np.uint8)[..., None], 3, axis=2)
            rows.append((gray, predicted_rgb.permute(1, 2, 0).numpy(), truth_rgb.permute(1, 2, 0).numpy()))
        images += 1
    if images == 0:
        raise ValueError(f"no {split} samples to evaluate in {shard_dir}; rebuild the dataset with more images")
    metrics = {name: value / images for name, value in sums.items()}
    metrics["dcf"] = metrics["colourfulness"] - metrics["colourfulness_truth"]
    metrics.update(auc.result())
    metrics.update(hue_recall.result())
    metrics["images"] = images
    if grid_path is not None:
        write_sample_grid(rows, grid_path)
    return metrics
