"""Run configurations as plain data: a preset, then the model kind, then explicit overrides.

`cpu-small` trains in minutes on a laptop CPU (tiny U-Net, 64 px crops); `gpu-base` is the real
thing (64-wide U-Net with attention and global context, 256 px crops, bf16, channels_last). With a
pretrained encoder (`model.encoder`), a preset gives the training schedule only: the architecture is
the encoder's decoder (model_factory.ENCODER_GENERATOR).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

PresetName = Literal["cpu-small", "gpu-base"]
ModelKind = Literal["regression", "classification", "gan"]
EncoderName = Literal["scratch", "efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2"]
MODEL_KINDS: tuple[str, ...] = get_args(ModelKind)

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
#   init_from              a model bundle folder whose generator weights a fresh run starts from (same
#                          architecture and ab bins: fine-tuning the shipped model on an archive's own
#                          photos); None: a new network (a pretrained encoder from its package)
SHARED_TRAIN_SETTINGS: dict[str, Any] = {
    "encoder_frozen_steps": -1, "encoder_frozen_blocks": 0, "encoder_lr_scale": 0.1,
    "short_side_range": None, "source_weights": None, "rebalance_lambda": None, "init_from": None,
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


@dataclass(frozen=True)
class TrainingSettings:
    """Which colorizer is trained and for how long. An empty field takes the preset's value (on a
    resume, the run's own: a resume keeps the run's preset, kind and encoder; a larger steps trains it longer)."""

    preset: PresetName | None = field(default=None, metadata={"description": (
        "cpu-small (a tiny U-Net, minutes on a CPU) or gpu-base (50 M parameters, bf16) (empty: cpu-small).")})
    kind: ModelKind | None = field(default=None, metadata={"description": (
        "Model kind: L1 regression, rebalanced classification over the ab bins, or a PatchGAN (empty: regression).")})
    encoder: EncoderName | None = field(default=None, metadata={"description": (
        "scratch: the U-Net learns everything from this dataset; efficientnet-lite0/1/2: an ImageNet-pretrained encoder "
        "(weights shipped in a registry package) under a U-Net decoder, frozen unless overrides set "
        "train.encoder_frozen_steps (empty: scratch).")})
    steps: int | None = field(default=None, metadata={"description": (
        "Total optimiser steps; a resume trains on to it (a warm restart of the LR when it exceeds the run's plan) "
        "or, when the run is already there, trains nothing (empty: the preset's; on a resume, the run's)."), "ge": 1})
    batch_size: int | None = field(default=None, metadata={"description": "Images per optimiser step (empty: the preset's).", "ge": 1})
    eval_every: int | None = field(default=None, metadata={"description": (
        "Evaluate (metrics and a sample grid) every this many steps (empty: the preset's)."), "ge": 1})
    overrides: dict[str, dict[str, Any]] | None = field(default=None, metadata={"description": (
        'Any other setting by config section, e.g. {"train": {"lr": 0.001}, "model": {"attention": true}} '
        "(training/presets.py lists every key).")})

    def train_arguments(self) -> dict[str, Any]:
        """Keyword arguments of training.train_loop.train: preset, kind, steps and the config overrides,
        `overrides` with encoder, batch_size and eval_every folded in (each wins over the same key there)."""
        merged = {section: dict(values) for section, values in (self.overrides or {}).items()}
        train = {name: getattr(self, name) for name in ("batch_size", "eval_every") if getattr(self, name) is not None}
        if train:
            merged["train"] = {**merged.get("train", {}), **train}
        if self.encoder is not None:
            merged["model"] = {**merged.get("model", {}), "encoder": self.encoder}
        return {"preset": self.preset, "kind": self.kind, "steps": self.steps, "overrides": merged or None}


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
