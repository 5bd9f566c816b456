"""Plan a shard build: fingerprint the inputs, split them by content hash, and cut each split into parts.

Deterministic train/val split from a content hash: the same image lands in the same split on
every machine and every re-run, whatever order the files arrive in.

Plan a shard build: fingerprint the inputs, split them, and cut each split into parts.

A part is the unit of parallel, retriable, resumable work: one worker writes it into its own
shards, named `{split}-{part:03d}{n:03d}.tar`, so that parts never share a file. The plan is saved as
JSON so that tasks pass a path and two numbers, never the image list.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from preprocessing.images.image_inventory import sha256_file
from preprocessing.shards.lab_codec import DEFAULT_CODEC, CodecName
from safe_files import data_root_storage as storage
from safe_files.atomic_output import read_json, write_json_atomic

SPLIT_RULE = "val if int(sha256_hex[:8], 16) / 2**32 < val_fraction else train (sha256 of the file bytes)"


def split_for(sha256_hex: str, val_fraction: float) -> str:
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}; give e.g. 0.05")
    return "val" if int(sha256_hex[:8], 16) / 2**32 < val_fraction else "train"


INDEX_DIR = "_index"
PLAN_FILE = "plan.json"
SPLITS = ("train", "val")


@dataclass(frozen=True)
class ShardSettings:
    """How the clean images become Lab samples and how the samples are cut into shards."""

    short_side: int = field(default=256, metadata={"description": "Short side of every sample in pixels.", "ge": 32})
    centre_crop: bool = field(default=False, metadata={"description": "Crop every sample to a square, short_side x short_side."})
    keep_small: bool = field(default=False, metadata={"description": "Keep photos whose short side is below short_side at their own size instead of enlarging them (no invented pixels, fewer bytes; training's random crop enlarges a smaller sample when it must)."})
    codec: CodecName = field(default=DEFAULT_CODEC, metadata={"description": "Lab encoding of the samples (docs/benchmarks.md compares them)."})
    val_fraction: float = field(default=0.05, metadata={"description": "Share of images in the validation split.", "gt": 0, "lt": 1})
    part_size: int = field(default=1000, metadata={"description": "Images per shard-writing task (a retry redoes at most one part).", "ge": 1})
    maxcount: int = field(default=1000, metadata={"description": "Samples per shard file.", "ge": 1})
    maxsize: int = field(default=256 * 1024 * 1024, metadata={"description": "Bytes per shard file.", "ge": 1})


@dataclass
class ShardPlan:
    shard_dir: str
    settings: ShardSettings
    parts: dict[str, list[list[list[str]]]]  # split -> parts -> [path, sha256]
    duplicates: list[dict[str, str]] = field(default_factory=list)
    inputs: int = 0

    @property
    def path(self) -> str | Path:
        return storage.join(self.shard_dir, INDEX_DIR, PLAN_FILE)

    def part_ids(self) -> list[tuple[str, int]]:
        return [(split, index) for split in SPLITS for index in range(len(self.parts.get(split, [])))]

    def save(self) -> str | Path:
        write_json_atomic(self.path, asdict(self))
        return self.path

    @classmethod
    def load(cls, path: str | Path) -> "ShardPlan":
        data = read_json(path)
        data["settings"] = ShardSettings(**data["settings"])
        return cls(**data)


def plan_shards(
    files: Iterable[str | Path],
    shard_dir: str | Path,
    settings: ShardSettings,
    progress: Callable[[int], None] | None = None,
) -> ShardPlan:
    """Hash every file, drop byte-identical copies, split by hash, sort by hash, cut into parts."""
    by_split: dict[str, list[list[str]]] = {split: [] for split in SPLITS}
    first_seen: dict[str, str] = {}
    duplicates: list[dict[str, str]] = []
    count = 0
    for count, path in enumerate(files, start=1):
        digest = sha256_file(path)
        if digest in first_seen:
            duplicates.append({"path": str(path), "sha256": digest, "reason": "duplicate-bytes", "detail": first_seen[digest]})
        else:
            first_seen[digest] = str(path)
            by_split[split_for(digest, settings.val_fraction)].append([str(path), digest])
        if progress and count % 500 == 0:
            progress(count)
    parts: dict[str, list[list[list[str]]]] = {}
    for split, items in by_split.items():
        items.sort(key=lambda item: item[1])
        parts[split] = [items[i : i + settings.part_size] for i in range(0, len(items), settings.part_size)]
    return ShardPlan(str(shard_dir), settings, parts, duplicates, count)


def split_rule(settings: ShardSettings) -> dict[str, object]:
    return {"rule": SPLIT_RULE, "val_fraction": settings.val_fraction}
