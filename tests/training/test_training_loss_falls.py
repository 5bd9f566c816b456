"""Each model kind learns on real photos: its loss falls over a few dozen steps of the real loop."""

from __future__ import annotations

import pytest

from tests.model_inputs import tiny
from training.optimisation import warmup_cosine
from training.run_files import read_history
from training.train_loop import train

LOSS_PART = {"regression": "l1", "classification": "cross_entropy", "gan": "l1"}


@pytest.mark.parametrize("kind", ["regression", "classification", "gan"])
def test_loss_falls(tiny_data, tmp_path, kind):
    steps = 40
    result = train(tiny_data, tmp_path / "run", kind=kind, steps=steps, overrides=tiny(gan_warmup_fraction=0.25))
    history = [r for r in read_history(tmp_path / "run") if r["type"] == "train"]
    assert [r["step"] for r in history] == list(range(1, steps + 1))
    losses = [r[LOSS_PART[kind]] for r in history]
    first, last = sum(losses[:8]) / 8, sum(losses[-8:]) / 8
    assert last < 0.8 * first, f"{kind}: loss went {first:.4f} -> {last:.4f}"
    # The logged LR is the warmup + cosine curve, step by step.
    for record in history:
        assert record["lr"] == pytest.approx(3e-3 * warmup_cosine(record["step"] - 1, steps, 5))
    if kind == "gan":
        assert "d_loss" not in history[8] and "d_loss" in history[-1]  # L1-only warm start, then adversarial
    # The end of the run: an evaluation beside the gray baseline, a sample grid and the bundle.
    assert {"psnr", "ssim", "dcf", "auc", "auc_rebalanced"} <= set(result.metrics)
    assert result.metrics["gray"]["colourfulness"] < 1.0
    assert (tmp_path / "run" / "samples" / f"step-{steps:08d}.png").is_file()
    assert (result.bundle_dir / "weights.pt").is_file()
