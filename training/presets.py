"""Run configurations as plain data: a preset, then the model kind, then explicit overrides.

`cpu-small` trains in minutes on a laptop CPU (tiny U-Net, 64 px crops); `gpu-base` is the real
thing (64-wide U-Net with attention and global context, 256 px crops, bf16, channels_last).
"""

from __future__ import annotations

import copy
from typing import Any

MODEL_KINDS = ("regression", "classification", "gan")

PRESETS: dict[str, dict[str, Any]] = {
    "cpu-small": {
        "model": {"width": 16, "depth": 3, "blocks_per_level": 1, "norm": "batch"},
        "discriminator": {"width": 32, "layers": 3, "scales": 1},
        "train": {
            "steps": 2000, "batch_size": 16, "crop": 64, "lr": 2e-3, "weight_decay": 1e-4, "warmup_steps": 100,
            "grad_clip": 1.0, "ema_decay": 0.0, "regression_loss": "l1", "gan_l1_lambda": 100.0,
            "gan_warmup_fraction": 0.3, "workers": 1, "shuffle_buffer": 300, "epoch_batches": 500,
            "log_every": 10, "checkpoint_every": 100, "keep_checkpoints": 2, "eval_every": 500,
            "eval_images": 50, "grid_rows": 6, "precision": "fp32", "channels_last": False, "compile": False,
            "device": "auto", "cpu_threads": 0, "seed": 0, "eval_data": None, "eval_split": "val",
        },
    },
    "gpu-base": {
        "model": {"width": 64, "depth": 4, "blocks_per_level": 2, "norm": "batch", "attention": True, "global_context": True},
        "discriminator": {"width": 64, "layers": 3, "scales": 2},
        "train": {
            "steps": 100_000, "batch_size": 32, "crop": 256, "lr": 5e-4, "weight_decay": 1e-4, "warmup_steps": 2000,
            "grad_clip": 1.0, "ema_decay": 0.999, "regression_loss": "l1", "gan_l1_lambda": 100.0,
            "gan_warmup_fraction": 0.3, "workers": 8, "shuffle_buffer": 2000, "epoch_batches": 2000,
            "log_every": 50, "checkpoint_every": 1000, "keep_checkpoints": 3, "eval_every": 5000,
            "eval_images": 500, "grid_rows": 8, "precision": "bf16", "channels_last": True, "compile": False,
            "device": "auto", "cpu_threads": 0, "seed": 0, "eval_data": None, "eval_split": "val",
        },
    },
}


def run_config(preset: str = "cpu-small", kind: str = "regression", overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """{"preset", "kind", "model", "discriminator", "train"}; overrides merge per section."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    config = copy.deepcopy(PRESETS[preset])
    for section, values in (overrides or {}).items():
        if section not in config:
            raise ValueError(f"unknown config section {section!r}; known: {', '.join(config)}")
        unknown = set(values) - set(config[section]) if section == "train" else set()
        if unknown:
            raise ValueError(f"unknown train settings: {', '.join(sorted(unknown))}")
        config[section].update(values)
    return {"preset": preset, "kind": kind, **config}
