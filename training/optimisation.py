"""How the weights move: the learning-rate schedule, the pretrained encoder's freezing and learning rate, and the EMA of the weights.

Linear warmup then cosine decay to a floor, as a multiplier of the base learning rate.

A pure function of the step, so a resumed run continues the exact curve (the scheduler's own state
is checkpointed too, but nothing hidden depends on it).

Training longer (a resume with a larger `steps`) cannot continue the first cosine: it has already
decayed to the floor. Each extension is a warm restart, recorded in the run config's `extensions`:
from its `from_step`, a linear warmup of `warmup_steps` (the run's warmup, at most a tenth of the
extension) from the learning rate of the last step trained back to the base rate, then a cosine to
the floor at `to_step`. The curve stays a pure function of the step and of the recorded extensions.

When and how fast a pretrained encoder learns: frozen for the first steps (or the whole run), then
fine-tuned at a fraction of the decoder's learning rate, its first blocks optionally frozen for good.

Settings (training/presets.py): encoder_frozen_steps (-1: frozen throughout), encoder_frozen_blocks,
encoder_lr_scale. A scratch U-Net has no encoder: these do nothing for it.

Exponential moving average of the generator's weights (evaluated and exported when enabled).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import nn


def warmup_cosine(step: int, total_steps: int, warmup_steps: int, floor: float = 0.05, warmup_from: float = 0.0) -> float:
    """The multiplier at (0-based) `step`: linear from `warmup_from` up to 1 over `warmup_steps`, then a
    cosine to `floor` at `total_steps`."""
    if warmup_steps > 0 and step < warmup_steps:
        return warmup_from + (1.0 - warmup_from) * (step + 1) / warmup_steps
    span = max(total_steps - warmup_steps, 1)
    progress = min(max(step - warmup_steps, 0) / span, 1.0)
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


WARM_RESTART = "warm-restart"


def warm_restart(from_step: int, to_step: int, previous_steps: int, warmup_steps: int) -> dict[str, Any]:
    """The record of one extension of a run, from `from_step` (where it resumed) to `to_step`."""
    return {"from_step": from_step, "to_step": to_step, "previous_steps": previous_steps, "schedule": WARM_RESTART,
            "warmup_steps": min(warmup_steps, max((to_step - from_step) // 10, 1))}


def first_planned_steps(steps: int, extensions: list[dict[str, Any]]) -> int:
    """The step count the run was started with (`steps` is the total after its extensions)."""
    return int(extensions[0]["previous_steps"]) if extensions else int(steps)


def scheduled_lr_factor(step: int, steps: int, warmup_steps: int, extensions: list[dict[str, Any]],
                        floor: float = 0.05) -> float:
    """The base learning rate's multiplier at (0-based) optimiser step `step` of a run whose total is
    now `steps`: warmup + cosine over the first plan, then the warm restart of the latest extension
    that started at or before `step`, its warmup starting from the rate of the step before it."""
    start, span, warmup, warmup_from = 0, first_planned_steps(steps, extensions), warmup_steps, 0.0
    for extension in extensions:  # in the order they were made: ascending from_step
        if extension["from_step"] > step:
            break
        restart = int(extension["from_step"])
        warmup_from = warmup_cosine(max(restart - 1, 0) - start, span, warmup, floor, warmup_from)
        start, span, warmup = restart, int(extension["to_step"]) - restart, int(extension["warmup_steps"])
    return warmup_cosine(step - start, span, warmup, floor, warmup_from)


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


class EmaWeights:
    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        # Short warm-up of the decay: early weights are noise, do not average them for long.
        decay = min(self.decay, (1 + step) / (10 + step))
        for ema, live in zip(self.model.state_dict().values(), model.state_dict().values()):
            if ema.dtype.is_floating_point:
                ema.lerp_(live.detach(), 1.0 - decay)
            else:
                ema.copy_(live)

    def state_dict(self) -> dict:
        return self.model.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state)
