"""Disjoint sets over 0..n-1 (union by size, path halving): clusters from a list of close pairs."""

from __future__ import annotations

from typing import Iterable

import numpy as np


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
