"""Lab shards written to s3:// (a real S3 server on 127.0.0.1) from a local folder of real photos: the same
dataset as on disk, and a SIGKILL mid-shard then a re-run: every shard whole, no sample twice or missing."""

from __future__ import annotations

import io
import signal
import tarfile
import time
from pathlib import Path

import pytest

from preprocessing.shards.dataset_card import read_card, shard_paths
from preprocessing.shards.shard_build import build_shards
from preprocessing.shards.shard_plan import ShardSettings
from safe_files import data_root_storage as storage
from tests.preprocessing.shards.shard_inputs import KILLABLE_SETTINGS, link_real_photos, start_killable_shard_writer


def _keys_of(url: str) -> list[str]:
    """Every sample key of one stored shard, read to its last byte with the plain tarfile module."""
    with tarfile.open(fileobj=io.BytesIO(storage.read_bytes(url))) as archive:
        names = archive.getnames()
    assert len(names) % 3 == 0  # whole samples only: key.l.png, key.ab.jpg, key.json
    return sorted({Path(name).name.split(".")[0] for name in names})


def _stored_tars(shard_dir: str) -> list[str]:
    return [storage.name_of(url) for url in storage.glob(shard_dir, "*.tar*")]


def test_shards_on_s3_match_the_same_build_on_disk(s3_bucket, tmp_path, caltech_dir):
    images = tmp_path / "images"
    link_real_photos(caltech_dir, images, 24)
    settings = ShardSettings(short_side=64, val_fraction=0.25, part_size=8, maxcount=5)
    shard_dir = f"{s3_bucket}/data/shards"
    card = read_card(build_shards(images, shard_dir, settings, workers=2))
    local = read_card(build_shards(images, tmp_path / "shards", settings, workers=1))
    assert card["totals"] == local["totals"] and card["shards"] == local["shards"]
    assert sorted(_stored_tars(shard_dir)) == sorted(s["name"] for s in card["shards"])  # no .partial, no extra
    keys = [key for split in ("train", "val") for url in shard_paths(shard_dir, card, split) for key in _keys_of(url)]
    assert len(keys) == len(set(keys)) == card["totals"]["train"]["samples"] + card["totals"]["val"]["samples"] == 24
    again = read_card(build_shards(images, shard_dir, settings, workers=1))  # a re-run returns the done parts
    assert again["shards"] == card["shards"]


def test_a_kill_mid_shard_on_s3_then_a_rerun_gives_every_sample_once(s3_bucket, tmp_path, caltech_dir):
    images = tmp_path / "images"
    link_real_photos(caltech_dir, images, 60)
    shard_dir = f"{s3_bucket}/data/shards"
    child = start_killable_shard_writer(images, shard_dir)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(storage.glob(shard_dir, "*.tar")) < 2:
        if child.poll() is not None:
            pytest.fail("the writer finished before it could be killed; give it more work")
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    stored = _stored_tars(shard_dir)
    assert 2 <= len(stored) < 15 and all(name.endswith(".tar") for name in stored)  # never a partial object
    assert not storage.exists(f"{shard_dir}/dataset.json")
    for name in stored:
        _keys_of(f"{shard_dir}/{name}")

    card = read_card(build_shards(images, shard_dir, KILLABLE_SETTINGS, workers=1))
    keys = [key for url in shard_paths(shard_dir, card, "train") for key in _keys_of(url)]
    assert len(keys) == len(set(keys)) == 60
    assert sorted(_stored_tars(shard_dir)) == sorted(s["name"] for s in card["shards"])
