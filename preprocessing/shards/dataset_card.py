"""`dataset.json`: what the shards hold and how to read them. Training trusts nothing else."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from preprocessing.colour.ab_gamut import (
    GRID_STEP,
    REBALANCE_LAMBDA,
    REBALANCE_SIGMA,
    AbHistogram,
    bin_centres,
    rebalancing_weights,
)
from preprocessing.shards.lab_codec import (
    CODEC_KEYS,
    DECODER_PATH,
    ENCODING_VERSION,
    decode_sample,
)
from preprocessing.shards.shard_part import PartResult
from preprocessing.shards.shard_plan import ShardPlan, split_rule
from safe_files import data_root_storage as storage
from safe_files.atomic_output import read_json, write_json_atomic
from safe_files.identity import identity_of

CARD_NAME = "dataset.json"
CARD_FORMAT = "tintype-lab-shards"
CARD_VERSION = 1


def build_card(plan: ShardPlan, results: Iterable[PartResult], extra_skipped: Iterable[dict] = ()) -> dict[str, Any]:
    results = sorted(results, key=lambda r: (r.split, r.part))
    shards = [dict(shard, split=r.split) for r in results for shard in r.shards]
    skipped = list(plan.duplicates) + list(extra_skipped) + [s for r in results for s in r.skipped]
    train_histogram = AbHistogram()
    for result in results:
        if result.split == "train":
            train_histogram.merge(AbHistogram(result.histogram))
    probabilities = train_histogram.probabilities()
    settings = plan.settings
    totals = {
        split: {
            "shards": sum(1 for s in shards if s["split"] == split),
            "samples": sum(s["samples"] for s in shards if s["split"] == split),
            "bytes": sum(s["bytes"] for s in shards if s["split"] == split),
        }
        for split in ("train", "val")
    }
    return {
        "format": CARD_FORMAT,
        "format_version": CARD_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "encoding": {
            "codec": settings.codec,
            "version": ENCODING_VERSION,
            "sample_keys": ["__key__", *CODEC_KEYS[settings.codec], "json"],
            "quantisation": "L = L8 * 100 / 255, a = a8 - 128, b = b8 - 128 (8-bit planes)",
            # `keep_small` is recorded only when on: a card of the samples every earlier build made stays the same
            "resize": {"short_side": settings.short_side, "centre_crop": settings.centre_crop,
                       **({"keep_small": True} if settings.keep_small else {})},
        },
        "decoder": DECODER_PATH,
        "split": split_rule(settings),
        "inputs": plan.inputs,
        "totals": totals,
        "shards": shards,
        "skipped_counts": dict(Counter(s["reason"] for s in skipped)),
        "skipped": skipped,
        "ab_bins": {"grid_step": GRID_STEP, "count": int(bin_centres().shape[0]), "centres": bin_centres().tolist()},
        "ab_histogram": {"split": "train", "counts": train_histogram.counts.tolist()},
        "rebalancing": {
            "lambda": REBALANCE_LAMBDA,
            "sigma": REBALANCE_SIGMA,
            "weights": np.round(rebalancing_weights(probabilities), 6).tolist(),
        },
    }


def write_card(shard_dir: str | Path, card: dict[str, Any]) -> str | Path:
    path = storage.join(shard_dir, CARD_NAME)
    write_json_atomic(path, card)
    return path


def dataset_identity(card: dict[str, Any]) -> str:
    """What a training run was fed: a digest of the card's encoding, split rule and shard list (names,
    sample counts, bytes), not of when it was written; another size, codec or kept set changes it."""
    return identity_of({key: card.get(key) for key in ("encoding", "split", "shards")})


def read_card(shard_dir_or_card: str | Path) -> dict[str, Any]:
    location = shard_dir_or_card
    if storage.is_remote(location):
        return read_json(location if str(location).endswith(".json") else storage.join(location, CARD_NAME))
    path = storage.local_path(location)
    return read_json(path / CARD_NAME if path.is_dir() else path)


# Where cards written by earlier layouts name the same decoder (before preprocessing/ had sub-packages).
FORMER_DECODER_PATHS = ("preprocessing.lab_codec:decode_sample",)


def load_decoder(card: dict[str, Any]) -> Callable[[dict], tuple[np.ndarray, np.ndarray]]:
    """The decoder the card names: ours, under its current or a former module path. A card is data,
    so it never gets to import an arbitrary module."""
    named = card["decoder"]
    if named != DECODER_PATH and named not in FORMER_DECODER_PATHS:
        raise ValueError(f"the dataset card names decoder {named!r}, which this tintype does not know; "
                         "rebuild the shards with `tintype build-dataset` (or its shards step)")
    return decode_sample


def shard_paths(shard_dir: str | Path, card: dict[str, Any], split: str) -> list[str]:
    return [str(storage.join(shard_dir, s["name"])) for s in card["shards"] if s["split"] == split]
