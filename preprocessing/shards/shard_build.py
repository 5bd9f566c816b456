"""Build a whole shard set in one call, parts in parallel worker processes.

The Prefect flow runs the same three steps as tasks (plan, parts, card); this function is for tests,
benchmarks and notebooks.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable

from preprocessing.images.image_inventory import iter_image_files
from preprocessing.shards.dataset_card import build_card, write_card
from preprocessing.shards.shard_part import PartResult, save_plan, write_part
from preprocessing.shards.shard_plan import ShardSettings, plan_shards


def build_shards(
    images_dir: str | Path,
    shard_dir: str | Path,
    settings: ShardSettings | None = None,
    workers: int = 2,
    on_part_done: Callable[[PartResult], None] | None = None,
) -> Path:
    settings = settings or ShardSettings()
    plan = plan_shards(iter_image_files(images_dir), shard_dir, settings)
    plan_path = save_plan(plan)
    results: list[PartResult] = []
    if workers <= 1:
        for split, part in plan.part_ids():
            results.append(write_part(plan_path, split, part))
    else:
        # spawn: a fork of a process with threads (Prefect, torch) can deadlock.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(write_part, plan_path, split, part) for split, part in plan.part_ids()]
            for future in futures:
                results.append(future.result())
                if on_part_done:
                    on_part_done(results[-1])
    return write_card(shard_dir, build_card(plan, results))
