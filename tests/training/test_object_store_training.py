"""Training from shards on s3:// (streamed) into a run folder on s3:// against a real S3 server on
127.0.0.1; a later resume on a machine with no local copy continues from the stored checkpoint."""

from __future__ import annotations

import json
import shutil

from preprocessing.shards.shard_build import build_shards
from preprocessing.shards.shard_plan import ShardSettings
from safe_files import data_root_storage as storage
from tests.model_inputs import tiny
from tests.preprocessing.shards.shard_inputs import link_real_photos
from training.train_loop import train


def _stored_history(run: str) -> list[dict]:
    return [json.loads(line) for line in storage.read_bytes(f"{run}/metrics.jsonl").decode().splitlines()]


def test_train_reads_shards_from_s3_and_stores_the_run_there(s3_bucket, tmp_path, caltech_dir):
    images = tmp_path / "images"
    link_real_photos(caltech_dir, images, 40)
    data, run = f"{s3_bucket}/data", f"{s3_bucket}/runs/r1"
    build_shards(images, f"{data}/shards", ShardSettings(short_side=48, val_fraction=0.15, maxcount=10), workers=1)

    overrides = tiny(checkpoint_every=4, eval_every=4, eval_images=4)
    first = train(data, run, preset="cpu-small", steps=4, overrides=overrides)
    assert first.step == 4 and first.stored_at == run
    stored = {name for _url, name, _size in storage.walk_names(run)}
    assert {"run_config.json", "metrics.jsonl", "checkpoints/step-00000004.pt", "bundle/version.txt",
            "bundle/weights.pt", "bundle/config.json", "bundle/dataset.json", "bundle/metrics.json"} <= stored
    assert storage.read_bytes(f"{run}/bundle/version.txt") == (first.bundle_dir / "version.txt").read_bytes()

    shutil.rmtree(first.run_dir)  # another machine: nothing local, the store is the truth
    second = train(data, run, steps=8, resume=True, overrides=overrides)
    assert second.resumed_from == 4 and second.step == 8
    stored = {name for _url, name, _size in storage.walk_names(run)}
    assert "checkpoints/step-00000008.pt" in stored
    steps = [r["step"] for r in _stored_history(run) if r["type"] == "train"]
    assert steps == sorted(set(steps)) and steps[-1] == 8  # one line per step, none twice
