"""build-dataset: a folder of images -> DATA/clean/ (clean, unique colour photos) -> Lab WebDataset shards
+ dataset card in DATA/shards/."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, create_table_artifact, update_progress_artifact

from flows.bounded_submit import map_bounded
from flows.clean import clean as clean_flow
from flows.data_root import local_data_root
from flows.isolated_process import run_isolated
from flows.retry_policy import retrying
from flows.sample_inputs import SAMPLE_GALLERY, sample_gallery_task
from flows.scrape import scrape as scrape_flow
from preprocessing.clean_decision import read_kept_paths
from preprocessing.dataset_card import build_card, read_card, write_card
from preprocessing.image_inventory import iter_image_files
from preprocessing.lab_codec import DEFAULT_CODEC
from preprocessing.shard_part import PartResult, write_part
from preprocessing.shard_plan import ShardPlan, ShardSettings, plan_shards

SHARDS_SUBDIR = "shards"


@task(name="plan-shards", **retrying())
def plan_shards_task(images: str, shard_dir: str, settings: dict, clean_dir: str | None = None) -> str:
    files = read_kept_paths(clean_dir) if clean_dir else iter_image_files(images)  # only clean, unique images
    plan = plan_shards(files, shard_dir, ShardSettings(**settings))
    return str(plan.save())


@task(name="write-shard-part", **retrying())
def write_part_task(plan_path: str, split: str, part: int) -> dict:
    result = run_isolated(write_part, plan_path, split, part)
    return asdict(result)


@task(name="write-dataset-card", **retrying())
def write_card_task(plan_path: str, results: list[dict]) -> str:
    plan = ShardPlan.load(plan_path)
    return str(write_card(plan.shard_dir, build_card(plan, [PartResult(**r) for r in results])))


@flow(name="build-dataset", log_prints=True)
def build_dataset(
    images: str | None = None,
    out: str = "data",
    size: int = 256,
    val_fraction: float = 0.05,
    workers: int = 2,
    centre_crop: bool = False,
    codec: str = DEFAULT_CODEC,
    part_size: int = 1000,
    seeds: list[str] | None = None,
    url_list: str | None = None,
    scrape_options: dict | None = None,
) -> str:
    """Convert the images under `images` to Lab shards in `out`/shards; returns the card's path.

    Args:
        images: folder of colour photos (recursive); empty with no scrape source: the built-in sample gallery
        out: data root (a path or file:// URL): raw/, clean/, shards/ go under it
        size: short side of every sample in pixels
        val_fraction: share of images in the validation split
        workers: parts processed at once (bounded fan-out)
        centre_crop: crop every sample to size x size
        codec: Lab encoding of the samples
        part_size: images per shard-writing task (a retry redoes at most one part)
        seeds: gallery pages to crawl instead of a folder
        url_list: a file of image URLs to download instead of a folder
        scrape_options: scrape settings (max_images, allow_private, ...), see the scrape flow
    """
    logger = get_run_logger()
    started = time.perf_counter()
    out = local_data_root(out)  # a path or a file:// URL
    if seeds or url_list:  # scrape first; the raw store is then the image folder of the next step
        if images:
            raise ValueError("give --images DIR or a scrape source (--seed / --url-list), not both")
        images = scrape_flow(seeds=seeds, url_list=url_list, out=out, **(scrape_options or {}))["raw_dir"]
    elif not images:  # no source at all (a deployment run with no --param): the built-in sample gallery
        images = sample_gallery_task(str(Path(out) / SAMPLE_GALLERY))
    clean_dir = clean_flow(images=images, out=out, workers=workers)["clean_dir"]  # DATA/clean/kept.jsonl
    shard_dir = str(Path(out) / SHARDS_SUBDIR)
    settings = ShardSettings(
        short_side=size, centre_crop=centre_crop, codec=codec, val_fraction=val_fraction, part_size=part_size
    )
    plan_path = plan_shards_task(images, shard_dir, asdict(settings), clean_dir)
    plan = ShardPlan.load(plan_path)
    part_ids = plan.part_ids()
    logger.info("%d images in, %d parts to write with %d workers", plan.inputs, len(part_ids), workers)

    progress_id = create_progress_artifact(progress=0.0, description="shard parts written")
    done = []

    def on_part(result: dict) -> None:
        done.append(result)
        update_progress_artifact(progress_id, progress=100.0 * len(done) / max(len(part_ids), 1))

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
