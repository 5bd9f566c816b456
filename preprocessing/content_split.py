"""Deterministic train/val split from a content hash: the same image lands in the same split on
every machine and every re-run, whatever order the files arrive in."""

from __future__ import annotations

SPLIT_RULE = "val if int(sha256_hex[:8], 16) / 2**32 < val_fraction else train (sha256 of the file bytes)"


def split_for(sha256_hex: str, val_fraction: float) -> str:
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    return "val" if int(sha256_hex[:8], 16) / 2**32 < val_fraction else "train"
