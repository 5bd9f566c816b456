"""The working size: the resolution the model sees (the knob DeOldify calls a render factor).

The model runs on a copy whose LONGER side is `size` pixels (aspect kept, both sides rounded to a
multiple of 16, the granularity every generator accepts). Its ab is then upsampled to the original
size and joined to the original, full-resolution L, so the working size trades colour detail and
speed, never sharpness. The default, 256, is the resolution the training shards are built at.

A bundle may name its own working size (`"working_size"` in its config.json): the fast CPU model in
models/fast runs at 160, where it stays within 3x of the decode+encode floor on 2 cores. An explicit
size (`--working-size`, the flows' `settings.working_size`) always wins.
"""

from __future__ import annotations

DEFAULT_WORKING_SIZE = 256
GRANULE = 16


def bundle_working_size(config: dict) -> int:
    """The working size a bundle asks for, else the default."""
    return int(config.get("working_size") or DEFAULT_WORKING_SIZE)


def round_to_granule(value: float) -> int:
    return max(GRANULE, int(round(value / GRANULE)) * GRANULE)


def working_shape(width: int, height: int, size: int = DEFAULT_WORKING_SIZE) -> tuple[int, int]:
    """(height, width) of the model's input for a width x height picture; never upscales past 16-granularity."""
    long_side = max(width, height)
    target = min(size, round_to_granule(long_side))  # a small picture is not blown up
    scale = target / long_side
    return round_to_granule(height * scale), round_to_granule(width * scale)
