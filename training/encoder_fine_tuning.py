"""When and how fast a pretrained encoder learns: frozen for the first steps (or the whole run), then
fine-tuned at a fraction of the decoder's learning rate, its first blocks optionally frozen for good.

Settings (training/presets.py): encoder_frozen_steps (-1: frozen throughout), encoder_frozen_blocks,
encoder_lr_scale. A scratch U-Net has no encoder: these do nothing for it.
"""

from __future__ import annotations

from typing import Any

from torch import nn


def _encoder(model: nn.Module) -> nn.Module | None:
    return getattr(model, "encoder", None)


def parameter_groups(model: nn.Module, lr: float, encoder_lr_scale: float) -> list[dict[str, Any]]:
    """Decoder and heads at `lr`; the encoder (when there is one) at lr * encoder_lr_scale."""
    encoder = _encoder(model)
    if encoder is None:
        return [{"params": list(model.parameters()), "lr": lr}]
    if encoder_lr_scale < 0:
        raise ValueError(f"encoder_lr_scale must be >= 0, got {encoder_lr_scale}")
    encoder_ids = {id(p) for p in encoder.parameters()}
    rest = [p for p in model.parameters() if id(p) not in encoder_ids]
    return [{"params": rest, "lr": lr}, {"params": list(encoder.parameters()), "lr": lr * encoder_lr_scale}]


def apply_encoder_schedule(model: nn.Module, step: int, settings: dict[str, Any]) -> int | None:
    """Freeze or unfreeze the encoder as the schedule says for `step`. Returns the later step at which
    it changes (the unfreezing), None when it never changes again, so the loop acts only then."""
    encoder = _encoder(model)
    if encoder is None:
        return None
    frozen_steps = int(settings["encoder_frozen_steps"])
    if frozen_steps < 0 or step < frozen_steps:
        encoder.freeze(True)
        return frozen_steps if frozen_steps >= 0 else None
    encoder.freeze(True, leading_blocks=int(settings["encoder_frozen_blocks"]))
    return None
