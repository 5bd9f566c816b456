"""Clean a folder in one call (plan, parts in worker processes, decision, contact sheet).

The Prefect flow runs the same steps as tasks; this function is for tests, benchmarks, notebooks.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterable

from preprocessing.cleaning.clean_decision import decide
from preprocessing.cleaning.clean_run import CONTACT_SHEET, analyse_part, plan_cleaning
from preprocessing.cleaning.contact_sheet import sheet_from_report
from preprocessing.cleaning.image_analysis import CleaningSettings
from safe_files import data_root_storage as storage


def clean_images(
    files: Iterable[Path], clean_dir: str | Path, settings: CleaningSettings = CleaningSettings(),
    workers: int = 2, part_size: int = 500,
) -> dict:
    plan = plan_cleaning(files, clean_dir, part_size, limits=settings.limits)
    plan_path = plan.save()
    if workers <= 1 or len(plan.parts) <= 1:
        for part in range(len(plan.parts)):
            analyse_part(plan_path, part, settings)
    else:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for future in [pool.submit(analyse_part, plan_path, part, settings) for part in range(len(plan.parts))]:
                future.result()
    report = decide(plan_path, settings)
    sheet_from_report(clean_dir, storage.join(clean_dir, CONTACT_SHEET))
    return report
