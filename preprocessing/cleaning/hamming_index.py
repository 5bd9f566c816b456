"""An incremental, on-disk index of 64-bit perceptual hashes that finds every pair within radius r.

The index is a list of immutable segments (like an LSM tree). `add(batch)` searches the batch
against every existing segment's multi-index tables and against itself, then stores the batch as a
new segment together with the pairs just found: nothing already indexed is rebuilt or searched
again, and `pairs()` is always the complete set of close pairs among everything ever added.
Segments are merged geometrically (the two newest while the older is less than twice the newer),
so there are O(log n) of them; ids never change.

On disk (`folder/`): `manifest.json` (format, radius, segments with their first id and size) and
one `segment-NNNNNN.npz` per segment (codes uint64, labels, pairs (a, b, distance) int64). Segment
files are written to a temporary name and renamed before the manifest that names them is replaced,
so a kill at any point leaves the previous, consistent index; a segment file that no manifest
names is garbage from such a kill and is deleted on open. Tables are rebuilt in memory on open
(a sort per chunk: ~0.5 s per million codes).

Random 64-bit hash codes with known near pairs: the ground truth for measuring a Hamming index.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from preprocessing.cleaning.multi_index_tables import ChunkTables, choose_chunks
from safe_files import data_root_storage as storage
from safe_files.atomic_output import (
    atomic_path,
    leftover_temporaries,
    read_json,
    write_json_atomic,
)

INDEX_FORMAT = "tintype-hamming-index"
INDEX_VERSION = 1
MANIFEST = "manifest.json"
DEFAULT_RADIUS = 8
DEFAULT_MAX_SEGMENTS = 12


@dataclass
class _Segment:
    name: str
    first_id: int
    labels: np.ndarray  # str, one per code
    pairs: np.ndarray  # (k, 3) int64: ids a < b and their distance, found when this segment was added
    tables: ChunkTables

    @property
    def codes(self) -> np.ndarray:
        return self.tables.codes

    def __len__(self) -> int:
        return len(self.tables)


def _as_codes(hashes: np.ndarray | Sequence[int]) -> np.ndarray:
    codes = np.asarray(hashes)
    if codes.dtype != np.uint64:
        codes = np.array([int(h) for h in codes.ravel()], dtype=np.uint64) if codes.dtype == object else codes.astype(np.uint64)
    return np.ascontiguousarray(codes.ravel())


class HammingIndex:
    """All pairs of 64-bit codes within `radius`, kept up to date as batches arrive.

    `folder=None` keeps it in memory only; with a folder every `add` is persisted before it returns.
    """

    def __init__(self, folder: str | Path | None = None, radius: int = DEFAULT_RADIUS, max_segments: int = DEFAULT_MAX_SEGMENTS) -> None:
        self.folder = None if folder is None else storage.location(folder)
        self.radius = radius
        self.max_segments = max_segments
        self.segments: list[_Segment] = []
        self._next_segment = 0
        if self.folder is not None and storage.exists(storage.join(self.folder, MANIFEST)):
            self._load()

    # -- queries -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return sum(len(segment) for segment in self.segments)

    def search(self, hashes: np.ndarray | Sequence[int], radius: int | None = None) -> np.ndarray:
        """(query row, id, distance) of every indexed code within `radius` of each query; adds nothing."""
        queries = _as_codes(hashes)
        radius = self.radius if radius is None else radius
        found = []
        for segment in self.segments:
            pairs = segment.tables.search(queries, radius)
            pairs[:, 1] += segment.first_id
            found.append(pairs)
        return np.concatenate(found) if found else np.empty((0, 3), dtype=np.int64)

    def pairs(self) -> np.ndarray:
        """Every pair (a, b, distance), a < b, among all codes ever added."""
        found = [segment.pairs for segment in self.segments]
        return np.concatenate(found) if found else np.empty((0, 3), dtype=np.int64)

    def labels(self) -> np.ndarray:
        found = [segment.labels for segment in self.segments]
        return np.concatenate(found) if found else np.empty(0, dtype=str)

    def codes(self) -> np.ndarray:
        found = [segment.codes for segment in self.segments]
        return np.concatenate(found) if found else np.empty(0, dtype=np.uint64)

    # -- updates -----------------------------------------------------------------------------
    def add(self, hashes: np.ndarray | Sequence[int], labels: Sequence[str] | None = None) -> np.ndarray:
        """Index a batch; returns the new pairs (a, b, distance), a < b, that involve the batch.

        Ids are assigned in order: the batch gets len(self) ... len(self) + len(batch) - 1.
        """
        codes = _as_codes(hashes)
        first_id = len(self)
        labels_array = np.asarray(list(labels) if labels is not None else [str(first_id + i) for i in range(len(codes))], dtype=str)
        if len(labels_array) != len(codes):
            raise ValueError(f"{len(codes)} hashes but {len(labels_array)} labels")
        if not len(codes):
            return np.empty((0, 3), dtype=np.int64)
        found = []
        for segment in self.segments:  # the batch against what is already indexed
            pairs = segment.tables.search(codes, self.radius)
            if len(pairs):
                found.append(np.stack([pairs[:, 1] + segment.first_id, pairs[:, 0] + first_id, pairs[:, 2]], axis=1))
        tables = ChunkTables(codes, choose_chunks(self.radius, len(codes), len(codes)))
        within = tables.search(codes, self.radius, self_join=True)  # the batch against itself
        within[:, :2] += first_id
        found.append(within)
        new_pairs = np.concatenate(found)
        segment = _Segment(self._segment_name(), first_id, labels_array, new_pairs, tables)
        self._write_segment(segment)
        self.segments.append(segment)
        # Geometric compaction (a binary counter): merge the two newest segments while the older is
        # less than twice the newer. Segments stay O(log n) in number, so a batch is searched against
        # few, large tables; each code is re-tabled O(log n) times in all.
        while len(self.segments) > 1 and (
            len(self.segments[-2]) < 2 * len(self.segments[-1]) or len(self.segments) > self.max_segments
        ):
            self._merge_newest_two()
        self._write_manifest()
        return new_pairs

    # -- persistence ---------------------------------------------------------------------------
    def _segment_name(self) -> str:
        name = f"segment-{self._next_segment:06d}.npz"
        self._next_segment += 1
        return name

    def _write_segment(self, segment: _Segment) -> None:
        if self.folder is None:
            return
        with atomic_path(storage.join(self.folder, segment.name)) as temporary, open(temporary, "wb") as handle:
            np.savez(handle, codes=segment.codes, labels=segment.labels, pairs=segment.pairs)

    def _write_manifest(self) -> None:
        if self.folder is None:
            return
        write_json_atomic(
            storage.join(self.folder, MANIFEST),
            {
                "format": INDEX_FORMAT,
                "format_version": INDEX_VERSION,
                "radius": self.radius,
                "count": len(self),
                "next_segment": self._next_segment,
                "segments": [
                    {"name": s.name, "first_id": s.first_id, "count": len(s), "pairs": len(s.pairs), "chunks": s.tables.chunks}
                    for s in self.segments
                ],
            },
        )
        named = {segment.name for segment in self.segments}
        for stale in storage.glob(self.folder, "segment-*.npz"):
            if storage.name_of(stale) not in named:
                storage.remove(stale)

    def _load(self) -> None:
        manifest = read_json(storage.join(self.folder, MANIFEST))
        if manifest.get("format") != INDEX_FORMAT or manifest.get("format_version") != INDEX_VERSION:
            raise ValueError(f"{self.folder}: not a {INDEX_FORMAT} v{INDEX_VERSION} index")
        if manifest["radius"] != self.radius:
            raise ValueError(f"{self.folder}: built for radius {manifest['radius']}, asked for {self.radius}")
        self._next_segment = manifest["next_segment"]
        for entry in manifest["segments"]:
            with storage.open_for_reading(storage.join(self.folder, entry["name"])) as handle, \
                    np.load(handle, allow_pickle=False) as stored:
                tables = ChunkTables(stored["codes"], entry["chunks"])
                self.segments.append(_Segment(entry["name"], entry["first_id"], stored["labels"], stored["pairs"], tables))
        if not storage.is_remote(self.folder):  # an upload leaves no temporary on a store
            for leftover in leftover_temporaries(self.folder, "segment-*"):
                leftover.unlink()

    def _merge_newest_two(self) -> None:
        older, newer = self.segments[-2:]  # adjacent id ranges: older.first_id + len(older) == newer.first_id
        codes = np.concatenate([older.codes, newer.codes])
        merged = _Segment(
            self._segment_name(), older.first_id, np.concatenate([older.labels, newer.labels]),
            np.concatenate([older.pairs, newer.pairs]),
            ChunkTables(codes, choose_chunks(self.radius, len(codes), len(codes))),
        )
        self._write_segment(merged)
        self.segments[-2:] = [merged]


def synthetic_codes(count: int, planted: int, radius: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Uniform random codes with `planted` disjoint pairs at distances 0..radius; pairs sorted per row."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, np.iinfo(np.uint64).max, size=count, dtype=np.uint64, endpoint=True)
    rows = rng.permutation(count)[: 2 * planted].reshape(planted, 2)
    for k, (a, b) in enumerate(rows.tolist()):
        flips = rng.choice(64, size=k % (radius + 1), replace=False)
        codes[b] = codes[a] ^ np.uint64(sum(1 << int(bit) for bit in flips))
    return codes, np.sort(rows, axis=1)
