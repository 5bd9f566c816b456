"""az:// data roots through adlfs against a real Azure Blob server (azurite) on 127.0.0.1: shards built
from real photos into a container, their card read back, training streaming them into a run folder in
the same container, and a resume on a machine with no local copy (skips when adlfs or azurite is absent)."""

from __future__ import annotations

import json
import shutil

from preprocessing.shards.dataset_card import read_card
from preprocessing.shards.shard_build import build_shards
from preprocessing.shards.shard_plan import ShardSettings
from safe_files import data_root_storage as storage
from tests.azure_store import az_container, azurite_endpoint  # noqa: F401 (fixtures)
from tests.model_inputs import tiny
from tests.preprocessing.shards.shard_inputs import link_real_photos
from training.train_loop import train


def test_shards_and_a_training_run_in_an_azure_container(az_container, tmp_path, caltech_dir):
    images = tmp_path / "images"
    link_real_photos(caltech_dir, images, 24)
    data, run = f"{az_container}/data", f"{az_container}/runs/r1"
    build_shards(images, f"{data}/shards", ShardSettings(short_side=48, val_fraction=0.15, maxcount=10), workers=1)

    card = read_card(f"{data}/shards")
    shards = storage.glob(f"{data}/shards", "*.tar")
    assert sum(entry["samples"] for entry in card["shards"]) + len(card["skipped"]) == 24
    assert sorted(storage.name_of(url) for url in shards) == sorted(entry["name"] for entry in card["shards"])
    assert all(str(url).startswith("az://") for url in shards)
    assert all(storage.size_of(url) == entry["bytes"] for url, entry in
               zip(shards, sorted(card["shards"], key=lambda entry: entry["name"])))

    overrides = tiny(checkpoint_every=2, keep_checkpoints=1, eval_every=2, eval_images=4)
    first = train(data, run, preset="cpu-small", steps=2, overrides=overrides)
    assert first.stored_at == run and first.step == 2
    shutil.rmtree(first.run_dir)  # another machine: the container is the truth
    second = train(data, run, steps=4, resume=True, overrides=overrides)
    assert second.resumed_from == 2 and second.step == 4

    stored = {name for _url, name, _size in storage.walk_names(run)}
    assert {"run_config.json", "metrics.jsonl", "bundle/weights.pt", "bundle/version.txt"} <= stored
    assert sorted(name for name in stored if name.startswith("checkpoints/")) == ["checkpoints/step-00000004.pt"]
    history = [json.loads(line) for line in storage.read_bytes(f"{run}/metrics.jsonl").decode().splitlines()]
    assert [r["step"] for r in history if r["type"] == "train"] == [1, 2, 3, 4]
