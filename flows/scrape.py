"""scrape: seed pages or a URL list -> content-addressed images and manifest parts in DATA/raw/.

Crawl mode: one task per site (its seeds share a frontier). URL-list mode: the list is split into
batch files, one task each. Tasks are retriable and idempotent (the raw store's manifest makes a
re-run skip what is done). With --max-images the batches run one after another, each given what
is left of the budget, so the cap is exact; otherwise `workers` batches run at once, each with its
own thread pool, all sharing one per-host rate limiter.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from flows.progress_reporting import StageProgress, share_callback
from flows.task_running import map_bounded, retrying
from safe_files import data_root_storage as storage
from scraping.crawl_frontier import group_seeds_by_site, site_of
from scraping.scrape_runner import crawl_seeds, scrape_url_list
from scraping.scrape_settings import ScrapeSettings
from scraping.url_lists import read_url_list, write_url_batches

RAW_SUBDIR = "raw"


@task(name="plan-url-batches", **retrying())
def plan_url_batches_task(url_list: str, raw_dir: str, batch_size: int) -> list[str]:
    return [str(path) for path in write_url_batches(url_list, raw_dir, batch_size)]


def _log_progress(batch: str):
    logger, share = get_run_logger(), share_callback(batch)

    def report(counts: dict) -> None:
        logger.info("%s: %d stored, %d failed, %d skipped, %d pages", batch, counts["images_ok"], counts["images_failed"],
                    counts["images_skipped"], counts["pages"])
        if share:  # every image URL settled, whatever its outcome
            share(counts["images_ok"] + counts["images_failed"] + counts["images_skipped"])

    return report


@task(name="scrape-url-batch", **retrying())
def scrape_url_batch_task(raw_dir: str, batch_path: str, settings: ScrapeSettings) -> dict:
    batch = Path(storage.name_of(batch_path)).stem
    entries = read_url_list(batch_path)
    return scrape_url_list(raw_dir, entries, settings, batch, _log_progress(batch)).to_dict()


@task(name="crawl-site", **retrying())
def crawl_site_task(raw_dir: str, seeds: list[str], settings: ScrapeSettings) -> dict:
    batch = "crawl-" + site_of(seeds[0]).replace(".", "-").replace(":", "-")
    return crawl_seeds(raw_dir, seeds, settings, batch, _log_progress(batch)).to_dict()


@flow(name="scrape", log_prints=True)
def scrape(
    seeds: list[str] | None = None,
    url_list: str | None = None,
    out: str = "data",
    workers: int = 2,
    batch_size: int = 10_000,
    settings: ScrapeSettings = ScrapeSettings(),
) -> dict:
    """Fetch images into `out`/raw; returns the totals and the raw folder's path."""
    if bool(seeds) == bool(url_list):
        raise ValueError("give seed pages or a URL list (exactly one of the two)")
    logger = get_run_logger()
    started = time.perf_counter()
    raw_dir = str(storage.join(out, RAW_SUBDIR))  # a folder, or a prefix in a bucket (scraping/raw_store.py)
    if url_list:
        scrape_task, heads = scrape_url_batch_task, plan_url_batches_task(url_list, raw_dir, batch_size)
    else:
        scrape_task, heads = crawl_site_task, group_seeds_by_site(list(seeds or []))
    logger.info(
        "%d batches; politeness: robots=%s, %.2f s between requests per host, %d at once per host",
        len(heads), settings.respect_robots, settings.min_host_delay_s, settings.max_per_host,
    )
    progress_id = create_progress_artifact(progress=0.0, description="scrape batches done")
    results: list[dict] = []

    def on_batch(result: dict) -> None:
        results.append(result)
        update_progress_artifact(progress_id, progress=100.0 * len(results) / max(len(heads), 1))

    def arguments() -> Iterator[tuple]:
        # Lazy: with a cap, each batch is submitted after the previous settled, with what is left.
        for head in heads:
            budget = settings.max_images
            if budget is not None:
                budget -= sum(r["images_ok"] + r["images_already_ok"] for r in results)
                if budget <= 0:
                    return
            yield raw_dir, head, replace(settings, max_images=budget)

    # The total is known for a URL list (its lines); a crawl finds its images as it goes.
    total = sum(storage.read_bytes(head).count(b"\n") for head in heads) if url_list else None
    with StageProgress("scrape", "images", total=total):
        map_bounded(scrape_task, arguments(), 1 if settings.max_images is not None else workers, on_batch)
    totals = _totals(results, time.perf_counter() - started)
    totals["raw_dir"] = raw_dir
    create_table_artifact(key="scrape-summary", table=[totals], description=f"images and manifest in {raw_dir}")
    logger.info("scrape: %s", totals)
    return totals


def _totals(results: list[dict], seconds: float) -> dict:
    keys = ("images_ok", "images_already_ok", "images_skipped", "images_failed", "pages", "bytes")
    totals: dict[str, Any] = {key: sum(r[key] for r in results) for key in keys}
    outcomes: dict[str, int] = {}
    for result in results:
        for code, count in result["outcomes"].items():
            outcomes[code] = outcomes.get(code, 0) + count
    totals["outcomes"] = dict(sorted(outcomes.items()))
    totals["seconds"] = round(seconds, 2)
    totals["images_per_s"] = round(totals["images_ok"] / seconds, 2) if seconds else None
    return totals
