"""train-colorizer: Lab shards -> a trained model bundle in RUN/bundle.

One retriable task runs the whole loop; a retry (or a re-run with resume) continues from the newest
checkpoint, so a crash costs at most `checkpoint_every` steps. A re-run with resume and a larger
settings.steps trains the run longer (a warm restart of the LR, recorded in its run_config.json); one
whose steps are already reached trains nothing and returns the bundle. Every training holds one slot of the
global concurrency limit `gpu` (created with 1 slot if missing), so two trainings never share a GPU.
"""

from __future__ import annotations

import base64
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.runtime import task_run
from pydantic import Field

from flows.progress_reporting import StageProgress
from flows.sample_settings import SAMPLE_SHARDS
from flows.task_running import retrying
from preprocessing.shards.dataset_card import CARD_NAME
from safe_files import data_root_storage as storage
from training.presets import TrainingSettings
from training.train_loop import train

GPU_LIMIT = "gpu"
SAMPLE_DATA_ROOT = "data"  # the default data root: where build-dataset/default writes the built-in sample
METRIC_COLUMNS = ("psnr", "ssim", "colourfulness", "dcf", "auc", "auc_rebalanced",
                  "recall_warm", "recall_green", "recall_blue", "recall_purple")


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)  # a hue family absent from the val images has no recall


def ensure_gpu_limit(slots: int = 1) -> None:
    """Create the `gpu` global concurrency limit if this Prefect server does not have it yet."""
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(GPU_LIMIT)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=GPU_LIMIT, limit=slots))
            except ObjectAlreadyExists:
                pass  # another training created it in the meantime


def _metrics_table(record: dict) -> list[dict]:
    gray = record["gray"]
    return [
        {"model": f"step {record['step']}", **{k: _rounded(record.get(k)) for k in METRIC_COLUMNS}},
        {"model": "gray baseline (ab = 0)", **{k: _rounded(gray.get(k)) for k in METRIC_COLUMNS}},
    ]


def _publish_grid(grid_path: str, step: int) -> None:
    encoded = base64.b64encode(Path(grid_path).read_bytes()).decode()
    create_markdown_artifact(
        key="train-colorizer-samples",
        markdown=f"### Samples at step {step} (input L | prediction | truth)\n\n`{grid_path}`\n\n"
        f"![samples](data:image/png;base64,{encoded})\n",
        description="latest sample grid",
    )


@task(name="train-model", **retrying(retries=2, base_delay_seconds=2.0))
def train_model_task(data: str, out: str, settings: TrainingSettings, resume: bool) -> dict:
    logger = get_run_logger()
    resume = resume or task_run.run_count > 1  # a retry continues the run it interrupted
    progress_id = create_progress_artifact(progress=0.0, description=f"training steps done ({out})")

    steps: list[StageProgress] = []  # for a terminal, from the first record on (a resumed run's rate counts its own steps)

    def on_progress(record: dict) -> None:
        update_progress_artifact(progress_id, progress=100.0 * record["step"] / record["steps"])
        logger.info("step %d/%d loss %.4f lr %.2e", record["step"], record["steps"], record["loss"], record["lr"])
        if not steps:
            steps.append(StageProgress("train", "steps", total=record["steps"], done=record["step"]))
        steps[0].update(record["step"], note=f"loss {record['loss']:.4f}")

    def on_evaluation(record: dict) -> None:
        create_table_artifact(key="train-colorizer-metrics", table=_metrics_table(record),
                              description=f"val metrics at step {record['step']} ({out})")
        _publish_grid(record["grid"], record["step"])

    ensure_gpu_limit()
    with concurrency(GPU_LIMIT, occupy=1):
        try:
            result = train(data, out, resume=resume, progress=on_progress, on_evaluation=on_evaluation,
                           **settings.train_arguments())
        except BaseException:
            for stage in steps:
                stage.finish(failed=True)
            raise
    for stage in steps:
        stage.finish()
    if result.nothing_to_train:
        logger.info("%s already at step %d >= steps %d: nothing to train; bundle at %s",
                    out, result.step, settings.steps or result.step, result.bundle_dir)
    metrics = {k: result.metrics[k] for k in METRIC_COLUMNS if k in result.metrics}
    # run_dir: where the run is kept (its object-store URL, for a run stored there); bundle_dir: a local
    # folder the colorize step can load (for a stored run, this machine's working copy of it).
    return {"run_dir": result.stored_at or str(result.run_dir), "bundle_dir": str(result.bundle_dir), "step": result.step,
            "resumed_from": result.resumed_from, "nothing_to_train": result.nothing_to_train, "metrics": metrics}


@flow(name="train-colorizer", log_prints=True)
def train_colorizer(
    data: str = Field(SAMPLE_DATA_ROOT, description="Data root whose shards/ (and dataset card) the training reads, as build-dataset wrote it. The default, data, gets the built-in sample dataset first if it has none."),
    out: str = Field("runs/default", description="Run folder, a path or an object-store URL (s3://bucket/runs/r1): checkpoints, metrics.jsonl, samples/, bundle/ (what colorize-archive takes as its model)."),
    settings: TrainingSettings = TrainingSettings(),
    resume: bool = Field(False, description="Continue the run in OUT from its newest checkpoint (a re-run with this on only finishes what is missing; with a larger settings.steps it trains the run longer)."),
) -> dict:
    """Train a colorizer on DATA's shards into OUT (checkpoints, metrics.jsonl, samples/, bundle/)."""
    if data == SAMPLE_DATA_ROOT and not _has_dataset(data):  # a fresh machine's run with no --param
        get_run_logger().warning("no dataset in %s/: building the built-in sample dataset there first "
                                 "(pass data=YOUR_DATA_ROOT to train on your own shards)", data)
        from flows.build_dataset import build_dataset

        build_dataset(out=data, shards=SAMPLE_SHARDS)  # as prefect.yaml's build-dataset/default
    return train_model_task(data, out, settings, resume)


def _has_dataset(data: str) -> bool:
    return any(storage.is_file(storage.join(root, CARD_NAME)) for root in (storage.join(data, "shards"), data))
