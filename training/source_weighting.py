"""Weigh the training sources: samples whose source matches a pattern are drawn more or less often.

A scraped dataset mixes sources of very different sizes and content (thousands of face crops, a few
hundred street scenes). `source_weights` maps a substring of a sample's source (its URL from the raw
store's manifest when the data root has one, else the path the shard sample records) to a weight:
a sample is repeated floor(w) times plus once more with probability frac(w), so 3.0 triples a
source and 0.4 keeps about two in five of its samples per pass. The first matching pattern wins;
unmatched samples keep weight 1. Repeats are spread by the shuffle buffer and cropped differently.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator

from training.crop_and_flip import worker_random

MANIFEST_GLOB = "raw/manifest/*.jsonl"  # the scrape stage's on-disk contract: url and sha256 per line


def _manifest_urls(shard_dir: Path) -> dict[str, str]:
    """sha256 -> source URL from the raw store beside the shards (DATA/raw), if there is one."""
    urls: dict[str, str] = {}
    root = shard_dir.parent if shard_dir.name == "shards" else shard_dir
    for part in sorted(root.glob(MANIFEST_GLOB)):
        with open(part, encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                if row.get("sha256") and row.get("url"):
                    urls.setdefault(row["sha256"], row["url"])
    return urls


def _weight_for(source: str, source_weights: dict[str, float]) -> float:
    for pattern, weight in source_weights.items():
        if pattern in source:
            return float(weight)
    return 1.0


class RepeatBySource:
    """A webdataset stage: each sample repeated by its source's weight. Picklable for loader workers."""

    def __init__(self, shard_dir: str | Path, source_weights: dict[str, float], seed: int) -> None:
        bad = {pattern: weight for pattern, weight in source_weights.items() if not float(weight) >= 0}
        if bad:
            raise ValueError(f"source weights must be >= 0, got {bad}")
        self.source_weights = dict(source_weights)
        self.urls = _manifest_urls(Path(shard_dir))
        self.seed = seed

    def weight(self, sample: dict[str, Any]) -> float:
        meta = json.loads(sample["json"])
        source = self.urls.get(meta.get("sha256", ""), meta.get("source", ""))
        return _weight_for(source, self.source_weights)

    def __call__(self, samples: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        rng = worker_random(f"repeat-{self.seed}")  # reproducible, and its own stream in each loader worker
        for sample in samples:
            weight = self.weight(sample)
            copies = int(weight) + (1 if rng.random() < weight - int(weight) else 0)
            for _ in range(copies):
                yield sample
