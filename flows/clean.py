"""clean: a folder of images (local, or a prefix in an object store: listed once, each photo read by URL) -> DATA/clean/ (kept list, every drop with its reason, report, contact sheet).

Four steps, each a retried task that skips complete work: plan (fingerprint, byte duplicates),
analyse parts (validation, colour filter, pHash; each in a child process), decide (exact and
near-duplicate clusters through the persistent pHash index), contact sheet.
"""

from __future__ import annotations


from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.progress_reporting import StageProgress, share_callback
from flows.task_cache import cached_on_sources, plan_result, planned_with_cache
from flows.task_running import map_bounded, retrying, run_isolated
from preprocessing.cleaning.clean_decision import decide
from preprocessing.cleaning.clean_run import (
    CONTACT_SHEET,
    CleanPlan,
    analyse_part,
    plan_cleaning,
)
from preprocessing.cleaning.contact_sheet import sheet_from_report
from preprocessing.cleaning.image_analysis import CleaningSettings
from preprocessing.images.image_inventory import iter_image_files
from safe_files import data_root_storage as storage

CLEAN_SUBDIR = "clean"


@task(name="plan-cleaning", **retrying(), **cached_on_sources(lambda p: [p["images"]]))
def plan_cleaning_task(images: str, clean_dir: str, part_size: int, settings: CleaningSettings) -> dict[str, str]:
    files = list(iter_image_files(images))
    with StageProgress("clean: read files", "files", total=len(files)) as progress:
        plan = plan_cleaning(files, clean_dir, part_size, progress=progress.update, limits=settings.limits)
        progress.update(len(files))
    return plan_result(plan.save())


@task(name="analyse-clean-part", **retrying())
def analyse_part_task(plan_path: str, part: int, settings: CleaningSettings) -> str:
    return run_isolated(analyse_part, plan_path, part, settings, on_progress=share_callback(part))


@task(name="decide-clean", **retrying())
def decide_task(plan_path: str, settings: CleaningSettings) -> dict:
    report = decide(plan_path, settings)
    return {key: report[key] for key in ("inputs", "kept", "dropped", "dropped_by_reason", "near_pairs")}


@task(name="clean-contact-sheet", **retrying())
def contact_sheet_task(clean_dir: str) -> str:
    return str(sheet_from_report(clean_dir, storage.join(clean_dir, CONTACT_SHEET)))


@flow(name="clean", log_prints=True)
def clean(
    images: str, out: str = "data", workers: int = 2, part_size: int = 500,
    settings: CleaningSettings = CleaningSettings(),
) -> dict:
    """Clean and deduplicate the images under `images` into `out`/clean; returns the summary."""
    logger = get_run_logger()
    clean_dir = str(storage.join(out, CLEAN_SUBDIR))
    plan_path = planned_with_cache(plan_cleaning_task, images, clean_dir, part_size, settings)
    plan = CleanPlan.load(plan_path)
    logger.info("%d unique inputs, %d byte duplicates, %d parts to analyse", len(plan.files), len(plan.byte_duplicates), len(plan.parts))
    sizes = [len(part) for part in plan.parts]
    with StageProgress("clean: analyse", "images", total=sum(sizes)) as progress:
        landed = iter(range(len(sizes)))

        def on_part(_path: str) -> None:  # parts count image by image from their child processes, in full once landed (in order)
            part = next(landed)
            progress.update_share(part, sizes[part])

        map_bounded(analyse_part_task, [(plan_path, part, settings) for part in range(len(sizes))], workers, on_part)
    summary = decide_task(plan_path, settings)
    sheet = contact_sheet_task(clean_dir)
    rows = [{"reason": "kept", "images": summary["kept"]}] + [
        {"reason": reason, "images": count} for reason, count in summary["dropped_by_reason"].items()
    ]
    create_table_artifact(key="clean-summary", table=rows, description=f"cleaning of {images}; lists in {clean_dir}")
    create_markdown_artifact(
        key="clean-contact-sheet",
        markdown=f"Contact sheet (duplicate clusters: kept framed green; rejected images with their reason): `{sheet}`",
    )
    logger.info("kept %d of %d; dropped %s", summary["kept"], summary["inputs"], summary["dropped_by_reason"])
    return {**summary, "clean_dir": clean_dir, "contact_sheet": sheet}
