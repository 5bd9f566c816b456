"""colorize-archive: an image, folder, .zip, .tar(.gz) or list file -> colorized mirror + ledger.

Tasks: plan (list members into batches) -> colorize-batch per batch (retriable; a failing image is
recorded in the ledger, never fatal) -> finalize (ledger compaction, zip packing) -> summary
artifacts (a table, and before/after previews). In inbox mode the input is a watched folder and
only entries not yet finished under this model version are planned.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from pydantic import Field

from flows.flow_inputs import SAMPLE_ARCHIVE, sample_archive_task
from flows.progress_reporting import StageProgress, share_callback
from flows.task_cache import cached_on_sources, plan_result, planned_with_cache
from flows.task_running import map_bounded, retrying
from inference.archive_members import input_sources
from inference.colorize_run import (
    ColorizePlan,
    check_no_overlap,
    colorize_planned_batch,
    filter_plan_for_inbox,
    finalize_run,
    mark_inbox_entries,
    plan_run,
    write_contact_sheet,
)
from inference.colorize_settings import ColorizeSettings
from inference.model_loading import bundle_argument
from inference.previews import preview_markdown

FAILURES_SHOWN = 50
SAMPLE_ARCHIVE_DEFAULT = f"data/{SAMPLE_ARCHIVE}"  # what a run with no input colorizes (as the pipeline's default)


@task(name="plan-colorize", **retrying(), **cached_on_sources(lambda p: input_sources(p["source"])))
def plan_task(source: str, output: str, batch_images: int) -> dict[str, str]:
    return plan_result(plan_run(source, output, batch_images))


@task(name="filter-inbox", **retrying())
def filter_inbox_task(plan_path: str, bundle: str, settings: ColorizeSettings) -> str:
    return str(filter_plan_for_inbox(plan_path, bundle, settings))


@task(name="colorize-batch", **retrying())
def colorize_batch_task(plan_path: str, index: int, bundle: str, settings: ColorizeSettings, device: str, model_batch: int) -> dict:
    share, settled = share_callback(index), itertools.count(1)
    on_image = (lambda _entry: share(next(settled))) if share else None  # every input settled (colorized, skipped or failed) counts
    report = colorize_planned_batch(plan_path, index, bundle, settings, device, model_batch, on_image=on_image)
    summary = asdict(report)
    summary["failures"] = summary["failures"][:FAILURES_SHOWN]
    return summary


@task(name="finalize-colorize", **retrying())
def finalize_task(output: str) -> str:
    return str(finalize_run(output))


@task(name="contact-sheet", **retrying(retries=1))
def contact_sheet_task(plan_path: str) -> str | None:
    sheet = write_contact_sheet(plan_path)
    return str(sheet) if sheet else None


@flow(name="colorize-archive", log_prints=True)
def colorize_archive(
    input: str | None = Field(None, description="What to colorize: an image, a folder, a .zip, a .tar(.gz) or a list file (one path per line), as a path or an object-store URL (s3://bucket/archive.zip); in inbox mode the watched folder. Empty: the built-in black-and-white sample, written on demand into data/sample-archive."),
    output: str = Field("colorized/archive", description="Output folder or .zip, a path or an object-store URL (s3://bucket/colorized): mirrors the input's layout; the ledger lives beside the outputs. Relative paths are under the worker's working directory."),
    model: str | None = Field(None, description="Model bundle folder (e.g. runs/default/bundle) or its object-store URL (s3://bucket/runs/r1/bundle, downloaded once per version into a local cache), or a shipped model: default (quality) or fast (CPU speed). Empty: the shipped default model ($TINTYPE_MODEL overrides)."),
    settings: ColorizeSettings = ColorizeSettings(),
    device: Literal["cpu", "cuda"] = Field("cpu", description="Where the model runs."),
    inbox: bool = Field(False, description="Inbox mode for schedules: plan only what the ledger has not finished under this model version."),
    batch_images: Annotated[int, Field(ge=1)] = Field(64, description="Images per colorize-batch task (a retry redoes at most one batch)."),
    model_batch: Annotated[int, Field(ge=1)] = Field(4, description="Images per model call."),
) -> dict:
    """Colorize INPUT into OUTPUT with the bundle MODEL; returns the run's counts."""
    logger = get_run_logger()
    started = time.perf_counter()
    input = input or sample_archive_task(SAMPLE_ARCHIVE_DEFAULT)
    model = bundle_argument(model)  # a bundle URL stays one: each task loads it through its worker's cache
    check_no_overlap(input, output)  # a user error: fail now, not after retries
    plan_path = planned_with_cache(plan_task, input, output, batch_images)
    if inbox:
        plan_path = filter_inbox_task(plan_path, model, settings)
    plan = ColorizePlan.load(plan_path)
    logger.info("%d images listed in %d batches", plan.images, len(plan.batches))

    finished: list[dict] = []
    with StageProgress("colorize", "images", total=sum(map(len, plan.batches)), artifact="images colorized") as progress:

        def on_batch(summary: dict) -> None:  # batches settle in order; a batch's inputs are all settled now
            progress.update_share(len(finished), len(plan.batches[len(finished)]))
            finished.append(summary)
            progress.publish()

        # One batch at a time: the model already uses every core; decode/encode overlap inside a batch.
        arguments = [(plan_path, index, model, settings, device, model_batch) for index in range(len(plan.batches))]
        summaries = map_bounded(colorize_batch_task, arguments, 1, on_batch)
    ledger_path = finalize_task(output)
    if inbox:
        mark_inbox_entries(plan_path, model, settings)
    sheet = contact_sheet_task(plan_path)
    totals = _publish(summaries, time.perf_counter() - started, ledger_path, sheet)
    return totals


def _publish(summaries: list[dict], seconds: float, ledger_path: str, sheet: str | None) -> dict:
    totals = {name: sum(s[name] for s in summaries) for name in ("done", "skipped", "failed", "settled", "megapixels")}
    totals["seconds"] = round(seconds, 2)
    totals["images/s"] = round(totals["done"] / seconds, 3) if seconds else None
    totals["s/MP"] = round(seconds / totals["megapixels"], 3) if totals["megapixels"] else None
    rows = [{"measure": key, "value": value} for key, value in totals.items()]
    create_table_artifact(key="colorize-summary", table=rows, description=f"Colorization run; ledger at {ledger_path}")
    failures = [f for s in summaries for f in s["failures"]][:FAILURES_SHOWN]
    if failures:
        create_table_artifact(key="colorize-failures", table=failures, description="Inputs that failed (all are in the ledger)")
    if sheet:
        create_markdown_artifact(key="colorize-previews", markdown=preview_markdown(Path(sheet)), description="before / after")
    totals["ledger"] = ledger_path
    totals["contact_sheet"] = sheet
    return totals
