"""Multi-index hashing (Norouzi, Punjani & Fleet 2012): all 64-bit codes within Hamming radius r.

Split every code into m disjoint chunks. If two codes differ in at most r bits, then (pigeonhole)
at least one chunk differs in at most s = r // m bits. So for each chunk we keep an exact-match
table (codes sorted by that chunk's value, with a direct-address offset array), probe it with the
query's chunk XOR every mask of at most s bits, and verify the candidates with a popcount of the
full 64 bits. No pair within r can be missed; everything is vectorised over all queries at once.

The choice of m is the whole game. m = r + 1 (s = 0, pure exact matching) is right for small sets,
but at a million codes its 7-bit chunks put ~8,000 codes in every bucket: billions of false
candidates. `choose_chunks` picks m from a cost model (probes + expected random candidates), which
lands on chunks of about log2(n) bits, as the paper recommends: m = 3 (21-22 bits, s = 2) at 1M.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from math import comb

import numpy as np

CODE_BITS = 64
MAX_CHUNK_BITS = 22  # a direct-address table of 2**22 int32 offsets is 16 MiB per chunk


def chunk_bounds(chunks: int) -> tuple[tuple[int, int], ...]:
    """(shift, bits) of each chunk; the first `64 % chunks` chunks get one extra bit."""
    base, extra = divmod(CODE_BITS, chunks)
    bounds, shift = [], 0
    for index in range(chunks):
        bits = base + (1 if index < extra else 0)
        bounds.append((shift, bits))
        shift += bits
    return tuple(bounds)


def _probes(bits: int, max_weight: int) -> int:
    return sum(comb(bits, weight) for weight in range(max_weight + 1))


def estimated_cost(chunks: int, radius: int, queries: int, indexed: int) -> float:
    """Probes plus expected random candidates (uniform codes), plus building the tables."""
    bits = CODE_BITS // chunks
    probes = _probes(bits, radius // chunks)
    return chunks * (probes * (queries + queries * indexed / 2.0**bits) + 2.0**bits + indexed)


def choose_chunks(radius: int, queries: int, indexed: int) -> int:
    """The number of chunks with the lowest estimated cost for this radius and these sizes."""
    smallest = -(-CODE_BITS // MAX_CHUNK_BITS)  # chunks must fit a direct-address table
    candidates = range(smallest, max(smallest, radius + 1) + 1)
    return min(candidates, key=lambda m: estimated_cost(m, radius, max(queries, 1), max(indexed, 1)))


@lru_cache(maxsize=64)
def flip_masks(bits: int, max_weight: int) -> np.ndarray:
    """Every `bits`-bit mask with at most `max_weight` bits set, lightest first."""
    masks = [0]
    for weight in range(1, max_weight + 1):
        for positions in combinations(range(bits), weight):
            masks.append(sum(1 << p for p in positions))
    return np.array(masks, dtype=np.int32)


def chunk_values(codes: np.ndarray, shift: int, bits: int) -> np.ndarray:
    return ((codes >> np.uint64(shift)) & np.uint64((1 << bits) - 1)).astype(np.int32)


def _empty_pairs() -> np.ndarray:
    return np.empty((0, 3), dtype=np.int64)


@dataclass
class _ChunkTable:
    shift: int
    bits: int
    order: np.ndarray  # row numbers sorted by chunk value
    offsets: np.ndarray  # offsets[v] .. offsets[v + 1]: the rows in `order` whose chunk equals v
    sorted_codes: np.ndarray  # codes[order]: candidates are verified by streaming through this


class ChunkTables:
    """Exact-match tables over the chunks of a fixed array of codes (one index segment)."""

    def __init__(self, codes: np.ndarray, chunks: int) -> None:
        self.codes = np.ascontiguousarray(codes, dtype=np.uint64)
        self.chunks = chunks
        self.tables: list[_ChunkTable] = []
        offset_type = np.int32 if len(self.codes) < 2**31 else np.int64
        for shift, bits in chunk_bounds(chunks):
            values = chunk_values(self.codes, shift, bits)
            order = np.argsort(values, kind="stable").astype(offset_type)
            offsets = np.zeros((1 << bits) + 1, dtype=offset_type)
            np.cumsum(np.bincount(values, minlength=1 << bits), out=offsets[1:])
            self.tables.append(_ChunkTable(shift, bits, order, offsets, self.codes[order]))

    def __len__(self) -> int:
        return len(self.codes)

    def search(self, queries: np.ndarray, radius: int, self_join: bool = False, batch: int = 1 << 20) -> np.ndarray:
        """Rows (query, code, distance) with popcount(query ^ code) <= radius, each pair once.

        `self_join=True` means `queries` are these very codes: pairs are reported once as (i, j), i < j.
        """
        queries = np.ascontiguousarray(queries, dtype=np.uint64)
        found = [
            self._search_batch(queries[start : start + batch], start, radius, self_join)
            for start in range(0, len(queries), batch)
        ]
        found = [block for block in found if len(block)]
        if not found:
            return _empty_pairs()
        pairs = np.concatenate(found)
        if self_join:  # a pair met from its higher row comes back as (j, i): put it as (i, j)
            pairs[:, :2] = np.sort(pairs[:, :2], axis=1)
        # A pair close in several chunks is found once per such chunk: keep one.
        key = pairs[:, 0] * max(len(self.codes), 1) + pairs[:, 1]
        _, first = np.unique(key, return_index=True)
        return pairs[np.sort(first)]

    def _search_batch(self, queries: np.ndarray, first_row: int, radius: int, self_join: bool) -> np.ndarray:
        if not len(queries) or not len(self.codes):
            return _empty_pairs()
        probe_weight = radius // self.chunks
        rows = np.arange(first_row, first_row + len(queries), dtype=self.tables[0].order.dtype)
        found = []
        for table in self.tables:
            # Queries in chunk-value order: the probes then walk the offset table and the sorted
            # codes almost sequentially, which keeps a million-code search in cache, not in DRAM.
            values = chunk_values(queries, table.shift, table.bits)
            query_order = np.argsort(values, kind="stable")
            values, table_rows, query_codes = values[query_order], rows[query_order], queries[query_order]
            masks = flip_masks(table.bits, probe_weight)
            for top_bit in range(-1, table.bits):
                # masks grouped by their highest set bit (-1: the zero mask)
                group = masks[(masks >> top_bit == 1) if top_bit >= 0 else (masks == 0)]
                if not len(group):
                    continue
                group_rows, group_values, group_codes = table_rows, values, query_codes
                if self_join and top_bit >= 0:
                    # v and v ^ mask are both codes of this table: probe only from the side whose
                    # top bit is clear, so every pair is met once and half the work is skipped.
                    lower = (values >> top_bit) & 1 == 0
                    group_rows, group_values, group_codes = table_rows[lower], values[lower], query_codes[lower]
                for mask in group:
                    pairs = self._probe(table, group_codes, group_rows, group_values ^ mask, radius, self_join and top_bit < 0)
                    if len(pairs):
                        found.append(pairs)
        return np.concatenate(found) if found else _empty_pairs()

    @staticmethod
    def _probe(
        table: _ChunkTable, query_codes: np.ndarray, rows: np.ndarray, probe: np.ndarray, radius: int, ordered_only: bool
    ) -> np.ndarray:
        low = table.offsets[probe]
        counts = table.offsets[probe + 1] - low
        ends = np.cumsum(counts)
        total = int(ends[-1]) if len(ends) else 0
        if not total:
            return _empty_pairs()
        # positions low[k] .. low[k] + counts[k] - 1 for every probe k, flattened
        positions = np.arange(total, dtype=low.dtype) + np.repeat(low - (ends - counts).astype(low.dtype), counts)
        distance = np.bitwise_count(np.repeat(query_codes, counts) ^ table.sorted_codes[positions])
        close = np.flatnonzero(distance <= radius)
        if not len(close):
            return _empty_pairs()
        query_rows = np.repeat(rows, counts)[close].astype(np.int64)
        candidates = table.order[positions[close]].astype(np.int64)
        distance = distance[close].astype(np.int64)
        if ordered_only:  # zero mask in a self-join: (i, j) and (j, i) are both met; keep i < j
            keep = query_rows < candidates
            query_rows, candidates, distance = query_rows[keep], candidates[keep], distance[keep]
        return np.stack([query_rows, candidates, distance], axis=1)


def brute_force_pairs(codes: np.ndarray, radius: int, block: int = 2048) -> np.ndarray:
    """All (i, j, distance), i < j, within `radius`: the quadratic NumPy baseline."""
    codes = np.ascontiguousarray(codes, dtype=np.uint64)
    found = []
    for start in range(0, len(codes), block):
        rows = codes[start : start + block]
        distance = np.bitwise_count(rows[:, None] ^ codes[None, :])
        i, j = np.nonzero(distance <= radius)
        i = i + start
        keep = i < j
        found.append(np.stack([i[keep], j[keep], distance[i[keep] - start, j[keep]].astype(np.int64)], axis=1))
    return np.concatenate(found).astype(np.int64) if found else _empty_pairs()
