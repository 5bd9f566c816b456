"""Writing Lab shards: counts, readability, the card, bad inputs, and a kill in the middle."""

from __future__ import annotations

import json
import shutil
import signal
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
import webdataset as wds

from preprocessing.colour.ab_gamut import bin_count
from preprocessing.shards.dataset_card import load_decoder, read_card, shard_paths
from preprocessing.shards.shard_build import build_shards
from preprocessing.shards.shard_plan import ShardSettings
from tests.preprocessing.shards.shard_inputs import (
    KILLABLE_SETTINGS,
    bomb_png,
    link_real_photos,
    start_killable_shard_writer,
    write_awkward_inputs,
)


@pytest.fixture
def mixed_inputs(tmp_path, caltech_dir) -> tuple[Path, int, dict[str, str]]:
    folder = tmp_path / "images"
    photos = link_real_photos(caltech_dir, folder, 30)
    expected_skips = write_awkward_inputs(folder, photos[0])
    bomb_png(folder / "bomb.png")
    expected_skips["bomb.png"] = "too-large"
    shutil.copyfile(photos[1], folder / "copy-of-photo-001.jpg")  # byte-identical duplicate
    normalised = 5  # cmyk, palette+transparency, gray+alpha, 16-bit, exif-rotated
    return folder, len(photos) + normalised, expected_skips


def _all_keys(paths: list[str]) -> list[str]:
    keys = []
    for path in paths:
        with tarfile.open(path) as archive:  # the plain tarfile module must read every shard
            keys += sorted({Path(name).name.split(".")[0] for name in archive.getnames()})
    return keys


def test_writer_counts_card_and_bad_inputs(tmp_path, mixed_inputs):
    folder, expected_samples, expected_skips = mixed_inputs
    settings = ShardSettings(short_side=64, val_fraction=0.2, part_size=12, maxcount=5)
    card_path = build_shards(folder, tmp_path / "shards", settings, workers=2)
    card = read_card(card_path)
    shard_dir = tmp_path / "shards"

    totals = card["totals"]
    assert totals["train"]["samples"] + totals["val"]["samples"] == expected_samples
    assert totals["val"]["samples"] > 0 and totals["train"]["samples"] > totals["val"]["samples"]
    assert all(shard["samples"] <= 5 for shard in card["shards"])
    assert sum(s["bytes"] for s in card["shards"]) == sum((shard_dir / s["name"]).stat().st_size for s in card["shards"])

    skipped = {Path(s["path"]).name: s["reason"] for s in card["skipped"]}
    for name, reason in expected_skips.items():
        assert skipped[name] == reason, card["skipped"]
    duplicates = [s for s in card["skipped"] if s["reason"] == "duplicate-bytes"]
    assert len(duplicates) == 1
    assert {Path(duplicates[0]["path"]).name, Path(duplicates[0]["detail"]).name} == {"copy-of-photo-001.jpg", "photo-001.jpg"}
    assert card["skipped_counts"]["corrupt"] == 1 and card["skipped_counts"]["truncated"] == 1

    paths = shard_paths(shard_dir, card, "train") + shard_paths(shard_dir, card, "val")
    keys = _all_keys(paths)
    assert len(keys) == len(set(keys)) == expected_samples

    decoder = load_decoder(card)
    seen = 0
    for sample in wds.WebDataset(paths, shardshuffle=False, empty_check=False):
        lightness, ab = decoder(sample)
        metadata = json.loads(sample["json"])
        assert min(lightness.shape) == 64 and ab.shape == (2, *lightness.shape)
        assert metadata["sha256"] == sample["__key__"]
        if Path(metadata["source"]).name == "exif-rotated.jpg":
            assert lightness.shape[0] > lightness.shape[1]  # stored 300x150, shown rotated
        seen += 1
    assert seen == expected_samples

    counts = np.array(card["ab_histogram"]["counts"])
    assert counts.shape == (bin_count(),) and counts.sum() > 0
    assert len(card["rebalancing"]["weights"]) == bin_count()
    assert card["decoder"] == "preprocessing.shards.lab_codec:decode_sample"
    assert card["split"]["val_fraction"] == 0.2


def test_split_is_deterministic_by_content(tmp_path, caltech_dir):
    folder = tmp_path / "images"
    link_real_photos(caltech_dir, folder, 20)
    settings = ShardSettings(short_side=32, val_fraction=0.3)
    first = read_card(build_shards(folder, tmp_path / "a", settings, workers=1))
    for link in folder.iterdir():  # new names, same bytes: same split
        link.rename(folder / f"renamed-{link.name}")
    second = read_card(build_shards(folder, tmp_path / "b", settings, workers=1))
    assert first["totals"]["val"]["samples"] == second["totals"]["val"]["samples"]
    val_keys = lambda root, card: set(_all_keys(shard_paths(root, card, "val")))  # noqa: E731
    assert val_keys(tmp_path / "a", first) == val_keys(tmp_path / "b", second)


def test_kill_mid_shard_leaves_no_truncated_shard_and_rerun_completes(tmp_path, caltech_dir):
    folder = tmp_path / "images"
    link_real_photos(caltech_dir, folder, 60)
    shard_dir = tmp_path / "shards"
    child = start_killable_shard_writer(folder, shard_dir)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        complete = list(shard_dir.glob("*.tar"))
        partial = list(shard_dir.glob("*.tar.partial"))
        if len(complete) >= 2 and partial and partial[0].stat().st_size > 0:
            break
        if child.poll() is not None:
            pytest.fail("the writer finished before it could be killed; give it more work")
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert list(shard_dir.glob("*.tar.partial")), "expected to kill it in the middle of a shard"
    assert not (shard_dir / "dataset.json").exists()
    for complete in shard_dir.glob("*.tar"):
        with tarfile.open(complete) as archive:
            assert len(archive.getnames()) % 3 == 0  # whole samples only

    card = read_card(build_shards(folder, shard_dir, KILLABLE_SETTINGS, workers=1))
    assert not list(shard_dir.glob("*.partial"))
    keys = _all_keys(shard_paths(shard_dir, card, "train"))
    assert len(keys) == len(set(keys)) == 60
    assert sorted(p.name for p in shard_dir.glob("*.tar")) == sorted(s["name"] for s in card["shards"])


def test_a_changed_plan_in_the_same_folder_rewrites_its_parts(tmp_path, caltech_dir):
    # another --short-side, or fewer images kept by the cleaning, into the same data root: the shards must
    # follow the new plan, never be returned as done from the old one
    import io

    from PIL import Image

    from preprocessing.images.image_inventory import sha256_file

    folder = tmp_path / "images"
    photos = link_real_photos(caltech_dir, folder, 24)
    shard_dir = tmp_path / "shards"

    def short_sides(card) -> set[int]:
        sides = set()
        for shard in card["shards"]:
            for sample in wds.WebDataset(str(shard_dir / shard["name"]), shardshuffle=False):
                lightness = next(value for key, value in sample.items() if key.endswith(".png"))
                sides.add(min(Image.open(io.BytesIO(lightness)).size))
        return sides

    small = ShardSettings(short_side=32, val_fraction=0.0, part_size=8, maxcount=4)
    first = read_card(build_shards(folder, shard_dir, small, workers=1))
    assert short_sides(first) == {32} and len(first["shards"]) == 6

    larger = ShardSettings(short_side=48, val_fraction=0.0, part_size=8, maxcount=4)
    second = read_card(build_shards(folder, shard_dir, larger, workers=1))
    assert short_sides(second) == {48} and second["totals"]["train"]["samples"] == 24

    for photo in photos[8:]:  # 8 images left: one part instead of three
        photo.unlink()
    third = read_card(build_shards(folder, shard_dir, larger, workers=1))
    assert third["totals"]["train"]["samples"] == 8
    assert sorted(p.name for p in shard_dir.glob("*.tar")) == sorted(s["name"] for s in third["shards"])
    assert not list((shard_dir / "_index").glob("train-001*")) and not list((shard_dir / "_index").glob("train-002*"))
    assert sorted(_all_keys(shard_paths(shard_dir, third, "train"))) == sorted(sha256_file(p) for p in photos[:8])
