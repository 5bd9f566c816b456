"""The train-colorizer flow on a real Prefect server: `tintype train`, its artifacts, the `gpu`
concurrency limit, and a retry that resumes from the last checkpoint."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterType,
    TaskRunFilter,
    TaskRunFilterName,
    TaskRunFilterState,
    TaskRunFilterStateName,
)

import flows.train_colorizer as train_flow
from cli.main import main
from tests.model_inputs import tiny
from training.presets import TrainingSettings
from training.run_files import read_history


def set_arguments(overrides: dict) -> list[str]:
    return [f"--set={section}.{key}={json.dumps(value)}" for section, values in overrides.items() for key, value in values.items()]


def test_tintype_train_runs_the_flow(prefect_server, tiny_data, tmp_path, capsys):
    run = tmp_path / "run"
    code = main(["train", "--data", str(tiny_data), "--out", str(run), "--kind", "classification", "--steps", "8",
                 *set_arguments(tiny(eval_every=4))])
    assert code == 0
    assert "bundle:" in capsys.readouterr().out
    assert (run / "bundle" / "config.json").is_file()
    assert json.loads((run / "bundle" / "config.json").read_text())["kind"] == "classification"
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step-00000004.png", "step-00000008.png"]

    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name("gpu")
        assert limit.limit == 1 and limit.active_slots == 0  # created if missing, released after training
        tables = client.read_artifacts(artifact_filter=ArtifactFilter(type=ArtifactFilterType(any_=["table"])))
        metric_tables = [a for a in tables if a.key == "train-colorizer-metrics"]
        assert metric_tables, "no metrics table artifact"
        tables_rows = [json.loads(a.data) if isinstance(a.data, str) else a.data for a in metric_tables]
        final = [rows for rows in tables_rows if {row["model"] for row in rows} == {"step 8", "gray baseline (ab = 0)"}]
        assert final and all(0 < row["psnr"] < 100 and 0 <= row["auc"] <= 1 for row in final[0])
        gray_row = next(row for row in final[0] if row["model"].startswith("gray"))
        assert gray_row["recall_green"] in (0.0, None)  # hue-family recall beside the others; ab = 0 paints nothing
        markdown = client.read_artifacts(artifact_filter=ArtifactFilter(type=ArtifactFilterType(any_=["markdown"])))
        assert any(a.key == "train-colorizer-samples" and "data:image/png;base64," in a.data for a in markdown)
        progress = client.read_artifacts(artifact_filter=ArtifactFilter(type=ArtifactFilterType(any_=["progress"])))
        assert any(str(run) in (a.description or "") and float(a.data) == 100.0 for a in progress)


def test_a_retry_resumes_from_the_last_checkpoint(prefect_server, tiny_data, tmp_path, monkeypatch):
    # The val shard the evaluation reads is missing at first: the first evaluation (step 10, just
    # after the step-10 checkpoint) fails, the task is retried, and by then the shard is back.
    eval_data = tmp_path / "eval"
    eval_data.mkdir()
    shutil.copyfile(tiny_data / "shards" / "dataset.json", eval_data / "dataset.json")
    val_shards = sorted((tiny_data / "shards").glob("val-*.tar"))
    slow_retry = train_flow.train_model_task.with_options(retry_delay_seconds=6, retry_jitter_factor=None)
    monkeypatch.setattr(train_flow, "train_model_task", slow_retry)
    run = tmp_path / "run"
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(train_flow.train_colorizer(
        data=str(tiny_data), out=str(run),
        settings=TrainingSettings(steps=20, overrides=tiny(eval_every=10, eval_data=str(eval_data))))))
    worker.start()
    checkpoint = run / "checkpoints" / "step-00000010.pt"
    deadline = time.monotonic() + 180
    while not checkpoint.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert checkpoint.exists()
    waiting_filter = TaskRunFilter(name=TaskRunFilterName(like_="train-model"),
                                   state=TaskRunFilterState(name=TaskRunFilterStateName(any_=["AwaitingRetry"])))
    with get_client(sync_client=True) as client:
        seen = time.monotonic()
        while time.monotonic() - seen < 4 and not client.read_task_runs(task_run_filter=waiting_filter):
            time.sleep(0.1)
    for shard in val_shards:
        shutil.copyfile(shard, eval_data / shard.name)
    worker.join(timeout=300)
    assert outcome, "the flow did not finish"
    result = outcome[0]
    assert result["resumed_from"] == 10 and result["step"] == 20
    assert [r["step"] for r in read_history(run) if r["type"] == "train"] == list(range(1, 21))
    assert Path(result["bundle_dir"], "weights.pt").is_file()


def test_loader_workers_end_cleanly_under_prefect(prefect_server, tiny_data, tmp_path):
    # Workers forked from a process running Prefect inherited its queue services' exit hook, which
    # fails in the child: every run ended with "DataLoader worker ... exited unexpectedly with exit
    # code 1". The loader now starts its workers from a fresh forkserver process.
    import os
    import subprocess
    import sys

    from prefect.settings import PREFECT_API_URL

    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value())
    command = [sys.executable, "-m", "cli", "train", "--data", str(tiny_data), "--out", str(tmp_path / "run"),
               "--steps", "6", *set_arguments(tiny(workers=2, eval_every=6))]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "exited unexpectedly" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr[-3000:]


def test_tintype_train_takes_the_pretrained_encoder(prefect_server, tiny_data, tmp_path, capsys):
    """`tintype train --encoder efficientnet-lite0`: the flow trains the encoder model (frozen, as the
    default recipe does) and exports a bundle that records it and the weights it started from."""
    run = tmp_path / "run"
    settings = tiny(eval_every=2, crop=64)
    settings.pop("model")  # the scratch U-Net's knobs; the decoder has its own defaults
    code = main(["train", "--data", str(tiny_data), "--out", str(run), "--kind", "classification",
                 "--encoder", "efficientnet-lite0", "--steps", "2", "--set=model.width=8", *set_arguments(settings)])
    assert code == 0
    out = capsys.readouterr().out
    assert "recall_green:" in out and "bundle:" in out
    config = json.loads((run / "bundle" / "config.json").read_text())
    assert config["encoder"] == "efficientnet-lite0" and config["width"] == 8 and "depth" not in config
    assert len(config["encoder_weights"]["sha256"]) == 64


def test_a_resume_with_more_steps_trains_longer_through_the_flow_and_tintype(prefect_server, tiny_data, tmp_path):
    """The flow (what a deployment with resume: true runs) and the `tintype` console script: a larger
    steps extends the run, a smaller one trains nothing, says so and exits 0."""
    import os
    import subprocess
    import sys

    from prefect.settings import PREFECT_API_URL

    run = tmp_path / "run"
    overrides = tiny(eval_every=10)
    first = train_flow.train_colorizer(data=str(tiny_data), out=str(run), settings=TrainingSettings(steps=10, overrides=overrides))
    assert first["step"] == 10
    longer = train_flow.train_colorizer(data=str(tiny_data), out=str(run), resume=True,
                                        settings=TrainingSettings(steps=20, overrides=overrides))
    assert (longer["resumed_from"], longer["step"], longer["nothing_to_train"]) == (10, 20, False)

    tintype = [str(Path(sys.executable).parent / "tintype"), "train", "--data", str(tiny_data), "--out", str(run)]
    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value())
    extended = subprocess.run([*tintype, "--steps", "30", "--resume", *set_arguments(overrides)],
                              env=env, capture_output=True, text=True, timeout=600)
    assert extended.returncode == 0, extended.stderr[-3000:]
    assert "trained 30 steps" in extended.stdout
    history = [r for r in read_history(run) if r["type"] == "train"]
    assert [r["step"] for r in history] == list(range(1, 31))
    assert history[10]["lr"] > 5 * history[9]["lr"] and history[20]["lr"] > 5 * history[19]["lr"]  # two warm restarts
    config = json.loads((run / "run_config.json").read_text())
    assert [(e["from_step"], e["to_step"]) for e in config["extensions"]] == [(10, 20), (20, 30)]
    assert json.loads((run / "bundle" / "metrics.json").read_text())["trained_steps"] == 30

    shorter = subprocess.run([*tintype, "--steps", "20", "--resume"], env=env, capture_output=True, text=True, timeout=600)
    assert shorter.returncode == 0, shorter.stderr[-3000:]
    assert f"{run} already at step 30 >= --steps 20: nothing to train; bundle at {run / 'bundle'}" in shorter.stdout
    assert [r["step"] for r in read_history(run) if r["type"] == "train"] == list(range(1, 31))
