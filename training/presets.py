"""Run configurations as plain data: a preset, then the model kind, then explicit overrides.

`cpu-small` trains in minutes on a laptop CPU (tiny U-Net, 64 px crops); `gpu-base` is the real
thing (64-wide U-Net with attention and global context, 256 px crops, bf16, channels_last). With a
pretrained encoder (`model.encoder`), a preset gives the training schedule only: the architecture is
the encoder's decoder (model_factory.ENCODER_GENERATOR).
"""

from __future__ import annotations

import copy
from typing import Any

MODEL_KINDS = ("regression", "classification", "gan")

# Settings every preset shares (their defaults keep the scratch U-Net's behaviour):
#   encoder_frozen_steps   steps the pretrained encoder stays frozen; -1: the whole run
#   encoder_frozen_blocks  the stem and first N encoder blocks stay frozen even after that
#   encoder_lr_scale       the encoder's learning rate relative to the decoder's once unfrozen
#   short_side_range       [lo, hi]: each sample is resized to a random short side in this range
#                          before the crop (multi-scale training); None: as stored in the shards
#   source_weights         {substring of the source URL: weight}: such samples are drawn `weight`
#                          times as often (weight < 1 thins them); None: every sample once
#   rebalance_lambda       the class-rebalancing mix with the uniform prior (Zhang eq. 4: 1.0 = no
#                          rebalancing); None: the dataset card's weights (lambda 0.5)
SHARED_TRAIN_SETTINGS: dict[str, Any] = {
    "encoder_frozen_steps": -1, "encoder_frozen_blocks": 0, "encoder_lr_scale": 0.1,
    "short_side_range": None, "source_weights": None, "rebalance_lambda": None,
}

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
            **SHARED_TRAIN_SETTINGS,
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
            **SHARED_TRAIN_SETTINGS,
        },
    },
}


def run_config(preset: str = "cpu-small", kind: str = "regression", overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """{"preset", "kind", "model", "discriminator", "train"}; overrides merge per section."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    config = copy.deepcopy(PRESETS[preset])
    encoder = (overrides or {}).get("model", {}).get("encoder", "scratch")
    if encoder != "scratch":
        config["model"] = {}  # the preset's architecture is the scratch U-Net's; the decoder has its own defaults
    for section, values in (overrides or {}).items():
        if section not in config:
            raise ValueError(f"unknown config section {section!r}; known: {', '.join(config)}")
        unknown = set(values) - set(config[section]) if section == "train" else set()
        if unknown:
            raise ValueError(f"unknown train settings: {', '.join(sorted(unknown))}")
        config[section].update(values)
    return {"preset": preset, "kind": kind, **config}
