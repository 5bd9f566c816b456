"""Linear warmup then cosine decay to a floor, as a multiplier of the base learning rate.

A pure function of the step, so a resumed run continues the exact curve (the scheduler's own state
is checkpointed too, but nothing hidden depends on it).
"""

from __future__ import annotations

import math


def warmup_cosine(step: int, total_steps: int, warmup_steps: int, floor: float = 0.05) -> float:
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(total_steps - warmup_steps, 1)
    progress = min(max(step - warmup_steps, 0) / span, 1.0)
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
