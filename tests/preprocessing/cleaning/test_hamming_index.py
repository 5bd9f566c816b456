"""The multi-index Hamming search against a brute force, incremental adds, and the on-disk index."""

from __future__ import annotations

import numpy as np
import pytest

from preprocessing.cleaning.hamming_index import HammingIndex, synthetic_codes
from preprocessing.cleaning.multi_index_tables import (
    ChunkTables,
    brute_force_pairs,
    choose_chunks,
)


def _codes_with_planted_pairs(count: int, planted: int, radius: int, seed: int) -> tuple[np.ndarray, set]:
    codes, rows = synthetic_codes(count, planted, radius, seed)
    return codes, {tuple(pair) for pair in rows.tolist()}


def _as_set(pairs: np.ndarray) -> set:
    return {tuple(row) for row in pairs.tolist()}


@pytest.mark.parametrize("chunks", [3, 4, 5, 9])
def test_every_chunking_finds_exactly_the_brute_force_pairs(chunks):
    codes, planted = _codes_with_planted_pairs(6000, 400, 8, seed=chunks)
    found = ChunkTables(codes, chunks).search(codes, 8, self_join=True)
    expected = brute_force_pairs(codes, 8)
    assert _as_set(found) == _as_set(expected)
    assert planted <= {(a, b) for a, b, _ in found.tolist()}
    assert np.all(found[:, 0] < found[:, 1])


def test_radius_other_than_the_index_default_is_exact():
    codes, _ = _codes_with_planted_pairs(3000, 300, 12, seed=3)
    for radius in (0, 3, 12):
        assert _as_set(ChunkTables(codes, 4).search(codes, radius, self_join=True)) == _as_set(brute_force_pairs(codes, radius))


def test_cost_model_picks_log2_n_bit_chunks_at_a_million():
    assert choose_chunks(8, 1_000_000, 1_000_000) == 3
    assert choose_chunks(8, 100, 100) >= 5  # small sets: short chunks, few probes


def test_incremental_batches_equal_one_shot_and_survive_reopen(tmp_path):
    codes, planted = _codes_with_planted_pairs(9000, 600, 8, seed=11)
    one_shot = HammingIndex(radius=8)
    one_shot.add(codes)
    folder = tmp_path / "index"
    index = HammingIndex(folder, radius=8)
    index.add(codes[:4000], [f"k{i}" for i in range(4000)])
    reopened = HammingIndex(folder, radius=8)  # a later run: nothing rebuilt but the in-memory tables
    assert len(reopened) == 4000
    new = reopened.add(codes[4000:], [f"k{i}" for i in range(4000, 9000)])
    assert np.all(new[:, 1] >= 4000)  # only pairs that involve the new batch are reported
    assert _as_set(reopened.pairs()) == _as_set(one_shot.pairs()) == _as_set(brute_force_pairs(codes, 8))
    assert planted <= {(a, b) for a, b, _ in reopened.pairs().tolist()}
    assert reopened.labels()[4321] == "k4321"
    queried = reopened.search(codes[:1] ^ np.uint64(0b111))
    assert 0 in queried[:, 1].tolist() and queried[queried[:, 1] == 0][0, 2] == 3


def test_segments_merge_without_changing_ids(tmp_path):
    codes, _ = _codes_with_planted_pairs(2000, 100, 8, seed=5)
    index = HammingIndex(tmp_path / "index", radius=8, max_segments=3)
    for start in range(0, 2000, 400):
        index.add(codes[start : start + 400])
    assert [len(segment) for segment in index.segments] == [1600, 400]  # merged like a binary counter
    assert sorted(p.name for p in (tmp_path / "index").glob("segment-*.npz")) == sorted(s.name for s in index.segments)
    assert _as_set(HammingIndex(tmp_path / "index", radius=8).pairs()) == _as_set(brute_force_pairs(codes, 8))


def test_a_segment_left_by_a_kill_is_ignored_and_cleared(tmp_path):
    codes, _ = _codes_with_planted_pairs(500, 20, 8, seed=9)
    folder = tmp_path / "index"
    HammingIndex(folder, radius=8).add(codes)
    (folder / "segment-000099.npz").write_bytes(b"half written")  # renamed, but its manifest never landed
    (folder / ".segment-000100.npz.abc.tmp").write_bytes(b"partial")
    index = HammingIndex(folder, radius=8)
    assert len(index) == 500
    index.add(codes[:1])
    assert not (folder / "segment-000099.npz").exists()
    assert not list(folder.glob(".segment-*.tmp"))


def test_wrong_radius_is_refused(tmp_path):
    HammingIndex(tmp_path / "i", radius=8).add(np.arange(10, dtype=np.uint64))
    with pytest.raises(ValueError, match="radius"):
        HammingIndex(tmp_path / "i", radius=6)
