"""pipeline: build-dataset -> train-colorizer -> colorize-archive, each a subflow (its own run in the UI).

With no source it runs on the built-in sample; every stage setting defaults to its stage's own
default (the deployment pipeline/default and `tintype demo` give the sample's short settings,
flows/flow_inputs.py). Every subflow skips finished work, so a re-run after a crash or a kill resumes: the shards are kept, the training
resumes at its last checkpoint, the ledger colorizes only what is missing.
"""

from __future__ import annotations


from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.build_dataset import build_dataset
from flows.colorize_archive import colorize_archive
from flows.flow_inputs import SAMPLE_ARCHIVE, data_root, sample_archive_task, sample_folder
from flows.pipeline_parameters import (
    ColorizeParameters,
    DatasetParameters,
    TrainingParameters,
)
from flows.task_running import on_dask
from flows.train_colorizer import train_colorizer


@flow(name="pipeline", log_prints=True)
def pipeline(
    dataset: DatasetParameters = DatasetParameters(),
    training: TrainingParameters = TrainingParameters(),
    colorize: ColorizeParameters = ColorizeParameters(),
) -> dict:
    """Photos -> Lab shards -> a trained colorizer -> a colorized archive; returns where each result is."""
    logger = get_run_logger()
    dataset = dataset.model_copy(update={"out": data_root(dataset.out)})  # a path, or an object-store URL
    build = on_dask(build_dataset, dataset.dask_scheduler, dataset.workers) if dataset.dask_scheduler else build_dataset
    card = build(
        images=dataset.images, seeds=dataset.seeds, url_list=dataset.url_list, out=dataset.out, workers=dataset.workers,
        scrape=dataset.scrape, cleaning=dataset.cleaning, shards=dataset.shards,
    )
    trained = train_colorizer(  # resume: a re-run continues the run, trains it longer or returns its bundle
        data=dataset.out, out=training.out, settings=training.settings, resume=True,
    )
    archive = colorize.input or sample_archive_task(sample_folder(dataset.out, SAMPLE_ARCHIVE))
    totals = colorize_archive(input=archive, output=colorize.output, model=trained["bundle_dir"], settings=colorize.settings,
                              device=colorize.device)
    result = {"dataset_card": card, "bundle": trained["bundle_dir"], "archive": archive,
              "colorized": colorize.output, "contact_sheet": totals.get("contact_sheet"), "colorized_images": totals["done"],
              "settled_images": totals["settled"]}
    rows = "\n".join(f"| {name} | `{value}` |" for name, value in result.items())
    create_markdown_artifact(key="pipeline-summary", markdown=f"### Pipeline results\n\n| what | where |\n|---|---|\n{rows}\n",
                             description="where every result of this pipeline run is")
    logger.info("pipeline done: %s", result)
    return result
