"""build-dataset: a folder of images -> DATA/clean/ (clean, unique colour photos) -> Lab WebDataset shards
+ dataset card in DATA/shards/."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Annotated

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from pydantic import Field

from flows.clean import clean as clean_flow
from flows.flow_inputs import SAMPLE_GALLERY, data_root, sample_folder, sample_gallery_task
from flows.progress_reporting import StageProgress, share_callback
from flows.scrape import scrape as scrape_flow
from flows.task_cache import cached_on_sources, plan_result, planned_with_cache
from flows.task_running import map_bounded, retrying, run_isolated, start_children_early
from preprocessing.cleaning.clean_decision import read_kept_paths
from preprocessing.cleaning.clean_run import KEPT_FILE
from preprocessing.cleaning.colour_filter import shipped_classifier
from preprocessing.cleaning.image_analysis import CleaningSettings
from preprocessing.images.image_inventory import iter_image_files
from preprocessing.shards.dataset_card import build_card, read_card, write_card
from preprocessing.shards.shard_part import PartResult, save_plan, write_part
from preprocessing.shards.shard_part import warm_up as shard_warm_up
from preprocessing.shards.shard_plan import ShardPlan, ShardSettings, plan_shards
from safe_files import data_root_storage as storage
from scraping.scrape_settings import ScrapeSettings

SHARDS_SUBDIR = "shards"


@task(name="plan-shards", **retrying(), **cached_on_sources(lambda p: [str(storage.join(p["clean_dir"], KEPT_FILE)) if p["clean_dir"] else p["images"]]))
def plan_shards_task(images: str, shard_dir: str, settings: ShardSettings, clean_dir: str | None = None) -> dict[str, str]:
    files = list(read_kept_paths(clean_dir) if clean_dir else iter_image_files(images))  # only clean, unique images
    with StageProgress("shards: read files", "files", total=len(files)) as progress:
        plan = plan_shards(files, shard_dir, settings, progress=progress.update)
        progress.update(len(files))
    return plan_result(save_plan(plan))


@task(name="write-shard-part", **retrying())
def write_part_task(plan_path: str, split: str, part: int) -> dict:
    result = run_isolated(write_part, plan_path, split, part, on_progress=share_callback((split, part)))
    return asdict(result)


@task(name="write-dataset-card", **retrying())
def write_card_task(plan_path: str, results: list[dict]) -> str:
    plan = ShardPlan.load(plan_path)
    return str(write_card(plan.shard_dir, build_card(plan, [PartResult(**r) for r in results])))


@flow(name="build-dataset", log_prints=True)
def build_dataset(
    images: str | None = Field(None, description="Folder of colour photos (recursive): a path or an object-store URL such as s3://bucket/photos. Empty with no scrape source: the built-in sample gallery, written on demand into DATA/sample-gallery."),
    out: str = Field("data", description="Data root (a path, a file:// URL or an object-store URL such as s3://bucket/data): raw/, clean/, shards/ go under it. Relative paths are under the worker's working directory."),
    workers: Annotated[int, Field(ge=1)] = Field(2, description="Clean/shard parts processed at once (bounded fan-out)."),
    seeds: list[str] | None = Field(None, description="Gallery pages to crawl instead of a folder (scrape step)."),
    url_list: str | None = Field(None, description="A file of image URLs (.txt/.csv/.jsonl/.parquet) to download instead of a folder."),
    scrape: ScrapeSettings = ScrapeSettings(),
    cleaning: CleaningSettings = CleaningSettings(),
    shards: ShardSettings = ShardSettings(),
) -> str:
    """Convert the images under `images` (or scraped from `seeds` / `url_list`) to Lab shards in `out`/shards;
    returns the dataset card's path."""
    logger = get_run_logger()
    started = time.perf_counter()
    out = data_root(out)  # a path, or an object-store URL
    # The clean and shard steps' worker processes start (imports, the Lab kernel) while the scrape
    # waits on the network, instead of before the first part.
    start_children_early(shipped_classifier, shard_warm_up)
    if seeds or url_list:  # scrape first; the raw store is then the image folder of the next step
        if images:
            raise ValueError("give --images DIR or a scrape source (--seed / --url-list), not both")
        images = scrape_flow(seeds=seeds, url_list=url_list, out=out, settings=scrape)["raw_dir"]
    elif not images:  # no source at all (a deployment run with no --param): the built-in sample gallery
        images = sample_gallery_task(sample_folder(out, SAMPLE_GALLERY))
    clean_dir = clean_flow(images=images, out=out, workers=workers, settings=cleaning)["clean_dir"]  # DATA/clean/kept.jsonl
    shard_dir = str(storage.join(out, SHARDS_SUBDIR))
    plan_path = planned_with_cache(plan_shards_task, images, shard_dir, shards, clean_dir)
    plan = ShardPlan.load(plan_path)
    part_ids = plan.part_ids()
    logger.info("%d images in, %d parts to write with %d workers", plan.inputs, len(part_ids), workers)

    total = sum(len(plan.parts[split][part]) for split, part in part_ids)
    with StageProgress("shards: write", "images", total=total, artifact="images written to shards") as progress:

        def on_part(result: dict) -> None:  # parts count image by image from their child processes, in full here
            progress.update_share((result["split"], result["part"]), result["images_in"])
            progress.publish()

        results = map_bounded(write_part_task, [(plan_path, s, p) for s, p in part_ids], workers, on_part)
    card_path = write_card_task(plan_path, results)
    _publish_summary(plan, results, time.perf_counter() - started, card_path)
    long_lists = ("shards", "skipped", "ab_bins", "ab_histogram", "rebalancing")  # in the file, too long for a page
    card_text = json.dumps({k: v for k, v in read_card(card_path).items() if k not in long_lists}, indent=1)
    create_markdown_artifact(key="dataset-card", description="the dataset card",
                             markdown=f"Dataset card `{card_path}` (without {', '.join(long_lists)}):\n\n```json\n{card_text}\n```")
    return card_path


def _publish_summary(plan: ShardPlan, results: list[dict], seconds: float, card_path: str) -> None:
    rows = []
    for split in ("train", "val"):
        mine = [r for r in results if r["split"] == split]
        rows.append(
            {
                "split": split,
                "images in": sum(r["images_in"] for r in mine),
                "samples written": sum(s["samples"] for r in mine for s in r["shards"]),
                "shards": sum(len(r["shards"]) for r in mine),
                "bytes": sum(s["bytes"] for r in mine for s in r["shards"]),
                "skipped": sum(len(r["skipped"]) for r in mine),
            }
        )
    rows.append(
        {
            "split": "all",
            "images in": plan.inputs,
            "samples written": sum(r["samples written"] for r in rows),
            "shards": sum(r["shards"] for r in rows),
            "bytes": sum(r["bytes"] for r in rows),
            "skipped": sum(r["skipped"] for r in rows) + len(plan.duplicates),
        }
    )
    rows[-1]["images/s"] = round(plan.inputs / seconds, 2) if seconds else None
    create_table_artifact(
        key="build-dataset-summary", table=rows, description=f"Lab shards written; card at {card_path}"
    )
