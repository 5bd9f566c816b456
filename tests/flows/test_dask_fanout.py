"""build-dataset's shard fan-out on a Dask LocalCluster (prefect-dask), its data root given as a file://
URL: the same dataset as the thread runner with a plain path. (A bucket root: tests/flows/test_object_store_flows.py.)"""

from __future__ import annotations

import pytest

from preprocessing.shards.dataset_card import read_card
from tests.preprocessing.shards.shard_inputs import link_real_photos

pytest.importorskip("prefect_dask", reason="prefect-dask is not installed (pip install -c constraints.txt -e '.[dask]')")


def test_build_dataset_on_a_local_dask_cluster(prefect_server, tmp_path, caltech_dir):
    from flows.build_dataset import build_dataset
    from flows.task_running import on_dask
    from preprocessing.shards.shard_plan import ShardSettings

    images = tmp_path / "images"
    link_real_photos(caltech_dir, images, 24)
    parameters = dict(images=str(images), shards=ShardSettings(short_side=64, val_fraction=0.25, part_size=4), workers=2)
    import dask
    from distributed import LocalCluster

    dask.config.set({"distributed.worker.daemon": False})  # as flows/task_running.py does for "local"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as cluster:  # stands in for a production scheduler address
        on_dask(build_dataset, cluster.scheduler_address)(out=(tmp_path / "dask").as_uri(), **parameters)
        ran_on_dask = set(cluster.scheduler.task_prefixes)  # task names the Dask scheduler has seen
    assert "write_part_task" in ran_on_dask, ran_on_dask  # the shard parts really ran on the cluster
    build_dataset(out=str(tmp_path / "threads"), **parameters)
    dask_card = read_card(tmp_path / "dask" / "shards" / "dataset.json")
    thread_card = read_card(tmp_path / "threads" / "shards" / "dataset.json")
    assert dask_card["totals"] == thread_card["totals"]
    assert dask_card["totals"]["train"]["samples"] + dask_card["totals"]["val"]["samples"] >= 20
    assert [s["name"] for s in dask_card["shards"]] == [s["name"] for s in thread_card["shards"]]
    assert len(dask_card["shards"]) >= 6  # 24 images in parts of 4: the fan-out really fanned out


def test_data_roots_are_local_paths_or_store_urls(tmp_path):
    from flows.flow_inputs import data_root

    assert data_root(str(tmp_path)) == str(tmp_path)
    assert data_root(tmp_path.as_uri()) == str(tmp_path)
    assert data_root("s3://bucket/root/") == "s3://bucket/root"
