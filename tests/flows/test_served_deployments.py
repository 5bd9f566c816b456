"""`tintype serve` as a user meets it: deployments from prefect.yaml, a run with no --param but the
output folder, the run Completed in the Prefect UI (headless Chromium) with its artifact, a worker
killed in the middle of build-dataset, and Ctrl-C. The tests share one server and run in file order."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tarfile
import time

import pytest

from flows.prefect_services import PROJECT_ROOT
from preprocessing.cleaning.clean_decision import read_kept_paths
from preprocessing.shards.dataset_card import read_card
from tests.flows.served_prefect import (
    CHROMIUM,
    ServedPrefect,
    chromium,
    visible_text,
)
from tests.preprocessing.shards.shard_inputs import link_real_photos

DOCS_SCREENSHOT = PROJECT_ROOT / "docs" / "prefect-ui-flow-run.png"


def test_serve_deploys_everything_with_typed_parameters(served: ServedPrefect):
    deployments = served.api("POST", "/deployments/filter", {})
    names = {(d["name"], d["entrypoint"].rsplit(":", 1)[-1]) for d in deployments}
    assert names >= {("default", "build_dataset"), ("default", "train_colorizer"), ("inbox", "colorize_archive"),
                     ("default", "pipeline")}
    by_flow = {d["entrypoint"].rsplit(":", 1)[-1]: d for d in deployments}
    assert all(d["work_pool_name"] == "tintype" for d in deployments)
    inbox_schedule = by_flow["colorize_archive"]["schedules"][0]
    assert inbox_schedule["schedule"]["cron"] == "*/30 * * * *"
    assert not inbox_schedule["active"] and "schedules paused: inbox" in "".join(served.output)  # --pause-schedules
    scheduled = served.api("POST", "/flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}})
    assert not scheduled  # the runs it had scheduled ahead were dropped with it
    assert by_flow["colorize_archive"]["parameters"]["inbox"] is True
    # The pipeline's parameters are pydantic models: the UI renders forms with these descriptions.
    schema = by_flow["pipeline"]["parameter_openapi_schema"]
    dataset = schema["definitions"]["DatasetParameters"]["properties"]
    assert "built-in sample gallery" in dataset["images"]["description"]
    assert by_flow["pipeline"]["parameters"]["dataset"]["shards"]["short_side"] == 128  # the sample's, in the run form
    shards = by_flow["build_dataset"]["parameter_openapi_schema"]["definitions"]["ShardSettings"]["properties"]
    assert "a retry redoes at most one part" in shards["part_size"]["description"]
    pull = by_flow["build_dataset"]["pull_steps"][0]["prefect.deployments.steps.set_working_directory"]
    assert pull["directory"] == str(PROJECT_ROOT)  # prefect.yaml's {{ $TINTYPE_ROOT }}, resolved at deploy time
    limits = {limit["name"]: limit["limit"] for limit in served.api("POST", "/v2/concurrency_limits/filter", {})}
    assert limits.get("gpu") == 1
    assert served.api("GET", "/work_pools/tintype")["type"] == "process"
    automations = {a["name"]: a for a in served.api("POST", "/automations/filter", {})}
    zombie = automations["tintype: crash zombie flow runs"]
    assert zombie["enabled"] and zombie["trigger"]["posture"] == "Proactive" and zombie["trigger"]["within"] == 90


def test_deployment_run_completes_and_the_ui_shows_it(served: ServedPrefect, tmp_path):
    out = tmp_path / "data"
    # As the README has it, but with the output in a temporary folder; the images default to the sample.
    run_id, done = served.run_deployment("build-dataset/default", {"out": str(out)})
    assert done.returncode == 0 and "Completed" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
    card = read_card(out / "shards" / "dataset.json")
    assert card["totals"]["train"]["samples"] + card["totals"]["val"]["samples"] == 48  # the built-in sample
    assert served.flow_run(run_id)["state"]["type"] == "COMPLETED"
    artifacts = {a["key"]: a for a in served.artifacts_of(run_id)}
    assert {"build-dataset-summary", "dataset-card"} <= set(artifacts)

    if not CHROMIUM:
        pytest.skip("chromium is not installed (apt-get install -y chromium): the UI was not opened")
    page = visible_text(chromium(f"{served.ui}/runs/flow-run/{run_id}", "--dump-dom"))
    assert "Completed" in page and "build-dataset" in page and "tintype" in page, page[:2000]
    artifact_page = visible_text(chromium(f"{served.ui}/artifacts/artifact/{artifacts['build-dataset-summary']['id']}",
                                          "--dump-dom"))
    assert "build-dataset-summary" in artifact_page and "samples written" in artifact_page, artifact_page[:2000]
    assert "48" in artifact_page.split("samples written", 1)[1]
    shot = tmp_path / "flow-run.png"
    chromium(f"{served.ui}/runs/flow-run/{run_id}", "--window-size=1280,800", f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    if os.environ.get("TINTYPE_UPDATE_SCREENSHOT"):
        DOCS_SCREENSHOT.write_bytes(shot.read_bytes())


def _kill_tree(pid: int) -> None:
    import psutil

    root = psutil.Process(pid)
    family = root.children(recursive=True) + [root]
    for process in family:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=30)


def test_killed_worker_mid_build_then_rerun_finishes_the_dataset(served: ServedPrefect, tmp_path, caltech_dir):
    images, out = tmp_path / "images", tmp_path / "data"
    link_real_photos(caltech_dir, images, 40)
    assert served.prefect("work-pool", "create", "killable", "--type", "process").returncode == 0
    deployed = served.prefect("deploy", "flows/build_dataset.py:build_dataset", "--name", "killable", "--pool", "killable")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    params = {"images": str(images), "out": str(out), "shards": {"short_side": 64, "part_size": 5}, "workers": 2}
    log = open(tmp_path / "worker.log", "wb")

    def start_worker() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "prefect", "worker", "start", "--pool", "killable"],
                                env=served.env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)

    worker = start_worker()
    first = subprocess.Popen([sys.executable, "-m", "prefect", "deployment", "run", "build-dataset/killable",
                              *[arg for k, v in params.items() for arg in ("--param", f"{k}={v if isinstance(v, str) else json.dumps(v)}")]],
                             env=served.env, stdout=subprocess.PIPE, text=True)
    first_id = first.communicate(timeout=120)[0].split("UUID:")[1].split()[0]
    shards = out / "shards"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list(shards.glob("*.tar"))) < 2:  # some parts written, not all
        assert not (shards / "dataset.json").exists(), "the build finished before it could be killed"
        time.sleep(0.2)
    assert len(list(shards.glob("*.tar"))) >= 2, (tmp_path / "worker.log").read_text()[-3000:]
    _kill_tree(worker.pid)  # the worker, the flow run process and its shard writers: a lost machine
    assert not (shards / "dataset.json").exists()
    assert served.flow_run(first_id)["state"]["type"] == "RUNNING"  # left Running: nobody is left to say otherwise

    # Its heartbeats stop: the automation `tintype serve` created marks it Crashed (90 s after the last one).
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and served.flow_run(first_id)["state"]["type"] == "RUNNING":
        time.sleep(3)
    state = served.flow_run(first_id)["state"]
    assert state["type"] == "CRASHED" and "heartbeat" in (state["message"] or ""), state
    worker = start_worker()
    try:
        run_id, done = served.run_deployment("build-dataset/killable", params)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    finally:
        worker.terminate()
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:  # a loaded machine can outlast the worker's graceful stop
            _kill_tree(worker.pid)
    card = read_card(shards / "dataset.json")
    kept = read_kept_paths(out / "clean")
    keys: list[str] = []
    for shard in card["shards"]:
        with tarfile.open(shards / shard["name"]) as archive:  # a truncated tar raises here
            members = archive.getmembers()
            for member in members:
                assert len(archive.extractfile(member).read()) == member.size
        shard_keys = {m.name.split(".", 1)[0] for m in members}
        assert len(shard_keys) == shard["samples"]
        keys += shard_keys
    assert len(keys) == len(set(keys)), "a sample was written twice"
    assert len(keys) == card["totals"]["train"]["samples"] + card["totals"]["val"]["samples"] == len(kept) >= 30
    assert not list(shards.rglob("*.partial")) and not list(shards.glob("*.tmp"))
    assert sorted(p.name for p in shards.glob("*.tar")) == sorted(s["name"] for s in card["shards"])


def test_ctrl_c_stops_worker_and_server(served: ServedPrefect):
    served.process.send_signal(signal.SIGINT)
    assert served.process.wait(90) == 0
    time.sleep(1)
    assert "stopped." in "".join(served.output)
    with pytest.raises(OSError):
        served.api("GET", "/health")
