"""The flows with every data root in a bucket on a real S3 server on 127.0.0.1 (and a real Prefect server):
build-dataset from a folder of real photos into s3://, train-colorizer reading those shards streamed and
storing its run in s3://, colorize-archive from an s3:// zip into s3://; then build-dataset's parts on a
Dask LocalCluster with the data root in the bucket. (A scrape into a bucket and photos in one:
tests/flows/test_object_store_build_inputs.py.)"""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from inference.colorize_settings import ColorizeSettings
from preprocessing.shards.dataset_card import read_card, shard_paths
from preprocessing.shards.shard_plan import ShardSettings
from safe_files import data_root_storage as storage
from tests.model_inputs import archive_sample, tiny
from tests.preprocessing.shards.shard_inputs import link_real_photos
from training.presets import TrainingSettings

SHARDS = ShardSettings(short_side=48, val_fraction=0.2, part_size=8, maxcount=6)


def _sample_keys(card_url: str) -> list[str]:
    import tarfile
    from pathlib import PurePosixPath

    card = read_card(card_url)
    shard_dir = card_url.rsplit("/", 1)[0]
    keys = []
    for split in ("train", "val"):
        for url in shard_paths(shard_dir, card, split):
            with tarfile.open(fileobj=io.BytesIO(storage.read_bytes(url))) as archive:
                keys += sorted({PurePosixPath(name).name.split(".")[0] for name in archive.getnames()})
    return keys


def test_dataset_training_and_colorizing_with_every_root_in_a_bucket(prefect_server, s3_bucket, tmp_path, caltech_dir):
    from flows.build_dataset import build_dataset
    from flows.colorize_archive import colorize_archive
    from flows.train_colorizer import train_colorizer

    images = tmp_path / "images"
    link_real_photos(caltech_dir, images, 32)
    data = f"{s3_bucket}/data"
    card_url = build_dataset(images=str(images), out=data, shards=SHARDS, workers=2)
    assert card_url == f"{data}/shards/dataset.json"
    for name in ("kept.jsonl", "dropped.jsonl", "report.json", "contact-sheet.png"):
        assert storage.is_file(f"{data}/clean/{name}"), name
    keys = _sample_keys(card_url)
    card = read_card(card_url)
    assert len(keys) == len(set(keys)) == card["totals"]["train"]["samples"] + card["totals"]["val"]["samples"] >= 28
    again = build_dataset(images=str(images), out=data, shards=SHARDS, workers=2)  # a re-run: done parts returned
    assert read_card(again)["shards"] == card["shards"]

    run = f"{s3_bucket}/runs/r1"
    trained = train_colorizer(data=data, out=run, settings=TrainingSettings(steps=4, overrides=tiny(eval_every=4, checkpoint_every=4)))
    assert trained["run_dir"] == run and trained["step"] == 4
    assert storage.is_file(f"{run}/bundle/version.txt") and storage.is_file(f"{run}/checkpoints/step-00000004.pt")

    archive = tmp_path / "prints.zip"
    photos = archive_sample(6)
    with zipfile.ZipFile(archive, "w") as packed:
        for photo in photos:
            packed.write(photo, photo.name)
    storage.upload_whole(archive, f"{s3_bucket}/in/prints.zip")
    out = f"{s3_bucket}/colorized"
    totals = colorize_archive(input=f"{s3_bucket}/in/prints.zip", output=out, model=trained["bundle_dir"],
                              settings=ColorizeSettings(working_size=128))
    assert totals["done"] == len(photos) and totals["failed"] == 0
    assert totals["ledger"] == f"{out}/.tintype/ledger.json"
    for photo in photos:
        with Image.open(io.BytesIO(storage.read_bytes(f"{out}/{photo.stem}{photo.suffix.lower()}"))) as image:
            image.load()
    rerun = colorize_archive(input=f"{s3_bucket}/in/prints.zip", output=out, model=trained["bundle_dir"],
                             settings=ColorizeSettings(working_size=128))
    assert rerun["done"] == 0 and rerun["settled"] == len(photos)


def test_build_dataset_on_a_dask_cluster_into_a_bucket(prefect_server, s3_bucket, tmp_path, caltech_dir):
    pytest.importorskip("prefect_dask", reason="prefect-dask is not installed (pip install -c constraints.txt -e '.[dask]')")
    import dask
    from distributed import LocalCluster

    from flows.build_dataset import build_dataset
    from flows.task_running import on_dask

    images = tmp_path / "images"
    link_real_photos(caltech_dir, images, 24)
    parameters = dict(images=str(images), shards=SHARDS, workers=2)
    dask.config.set({"distributed.worker.daemon": False})  # as flows/task_running.py does for "local"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1") as cluster:
        card_url = on_dask(build_dataset, cluster.scheduler_address)(out=f"{s3_bucket}/dask", **parameters)
        ran_on_dask = set(cluster.scheduler.task_prefixes)
    assert "write_part_task" in ran_on_dask, ran_on_dask  # the shard parts really ran on the cluster's workers
    local = read_card(build_dataset(out=str(tmp_path / "threads"), **parameters))
    card = read_card(card_url)
    assert card["totals"] == local["totals"] and [s["name"] for s in card["shards"]] == [s["name"] for s in local["shards"]]
    keys = _sample_keys(card_url)
    assert len(keys) == len(set(keys)) == card["totals"]["train"]["samples"] + card["totals"]["val"]["samples"]


def test_a_bucket_that_does_not_exist_is_one_clear_error_not_retried(prefect_server, s3_bucket, tmp_path, caltech_dir):
    import time

    from flows.build_dataset import build_dataset
    from safe_files.data_root_storage import StorageRefused

    images = tmp_path / "images"
    link_real_photos(caltech_dir, images, 4)
    started = time.monotonic()
    with pytest.raises(StorageRefused, match="cannot write s3://tintype-no-such-bucket/data/clean/.*not found"):
        build_dataset(images=str(images), out="s3://tintype-no-such-bucket/data")
    assert time.monotonic() - started < 60
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName
    from prefect.client.schemas.sorting import TaskRunSort

    with get_client(sync_client=True) as client:
        [latest] = client.read_task_runs(task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_="plan-cleaning")),
                                         sort=TaskRunSort.EXPECTED_START_TIME_DESC, limit=1)
    assert latest.state.is_failed() and latest.run_count == 1  # refused at once, never retried
