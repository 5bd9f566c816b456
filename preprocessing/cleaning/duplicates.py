"""Near- and exact-duplicate clusters (union-find over close pairs) and which member of each to keep.

Disjoint sets over 0..n-1 (union by size, path halving): clusters from a list of close pairs.

Near- and exact-duplicate clusters among valid colour images, and which member of each to keep.

Pairs come from two sources: equal pixel sha256 (a re-encoded or re-tagged copy) and the pHash
index (within radius r). Union-find joins them into clusters (transitively: a chain of close pairs
is one cluster). The kept member is the largest image (pixels), then the most bytes (least
compressed), then the first in input order; every other member is dropped as a duplicate of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from preprocessing.cleaning.hamming_index import HammingIndex


class UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))
        self.size = [1] * size

    def find(self, item: int) -> int:
        parent = self.parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return
        if self.size[root_a] < self.size[root_b]:
            root_a, root_b = root_b, root_a
        self.parent[root_b] = root_a
        self.size[root_a] += self.size[root_b]

    def union_pairs(self, pairs: Iterable[tuple[int, int]] | np.ndarray) -> None:
        for a, b in np.asarray(pairs, dtype=np.int64).reshape(-1, 2).tolist():
            self.union(a, b)

    def clusters(self) -> list[list[int]]:
        """Every set with more than one member, members ascending."""
        groups: dict[int, list[int]] = {}
        for item in range(len(self.parent)):
            groups.setdefault(self.find(item), []).append(item)
        return [members for members in groups.values() if len(members) > 1]


def _quality_key(record: dict) -> tuple:
    return (record["width"] * record["height"], record["bytes"])  # ties: max() keeps the first in input order


def near_pairs(records: list[dict], index_dir: str | Path | None, radius: int) -> np.ndarray:
    """(i, j, distance) over positions in `records`, from the persistent index (adding new hashes)."""
    index = HammingIndex(index_dir, radius=radius)
    known = set(index.labels().tolist())
    new = [r for r in records if r["sha256"] not in known]
    if new:
        index.add(np.array([int(r["phash"], 16) for r in new], dtype=np.uint64), [r["sha256"] for r in new])
    position = {record["sha256"]: i for i, record in enumerate(records)}
    labels = index.labels()
    pairs = index.pairs()
    out = []
    for a, b, distance in pairs.tolist():
        i, j = position.get(labels[a]), position.get(labels[b])
        if i is not None and j is not None:  # both still among the inputs
            out.append((i, j, distance))
    return np.array(out, dtype=np.int64).reshape(-1, 3)


def select_duplicates(records: list[dict], pairs: np.ndarray) -> tuple[list[int], list[dict], list[list[int]]]:
    """Returns (kept positions, dropped records, clusters as positions with the kept one first)."""
    forest = UnionFind(len(records))
    by_pixels: dict[str, int] = {}
    for i, record in enumerate(records):
        first = by_pixels.setdefault(record["pixel_sha256"], i)
        if first != i:
            forest.union(first, i)
    distance_of: dict[tuple[int, int], int] = {}
    for i, j, distance in np.asarray(pairs, dtype=np.int64).reshape(-1, 3).tolist():
        forest.union(i, j)
        distance_of[(min(i, j), max(i, j))] = distance
    dropped_positions: set[int] = set()
    dropped: list[dict] = []
    clusters = []
    for members in forest.clusters():
        best = max(members, key=lambda i: _quality_key(records[i]))
        clusters.append([best] + [i for i in members if i != best])
        for i in members:
            if i == best:
                continue
            dropped_positions.add(i)
            same_pixels = records[i]["pixel_sha256"] == records[best]["pixel_sha256"]
            distance = distance_of.get((min(i, best), max(i, best)))
            dropped.append(
                {
                    **records[i],
                    "reason": "duplicate-pixels" if same_pixels else "near-duplicate",
                    "detail": "same decoded pixels" if same_pixels else (
                        f"pHash distance {distance}" if distance is not None else "joined through other members of its cluster"
                    ),
                    "duplicate_of": records[best]["path"],
                }
            )
    kept = [i for i in range(len(records)) if i not in dropped_positions]
    return kept, dropped, clusters
