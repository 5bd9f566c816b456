"""The build-dataset flow and its CLI under a real Prefect server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from cli.main import main
from preprocessing.cleaning.clean_decision import read_dropped, read_kept_paths
from preprocessing.shards.dataset_card import read_card
from tests.preprocessing.shards.shard_inputs import link_real_photos


def _latest_artifact(key: str):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async def fetch():
        async with get_client() as client:
            return await client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))

    return asyncio.run(fetch())


def test_cli_runs_the_flow_and_publishes_a_summary(prefect_server, tmp_path, caltech_dir, capsys):
    images = tmp_path / "images"
    link_real_photos(caltech_dir, images, 16)
    (images / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    code = main(["build-dataset", "--images", str(images), "--out", str(tmp_path / "data"), "--short-side", "64",
                 "--val-fraction", "0.25", "--workers", "2"])
    assert code == 0
    card_path = tmp_path / "data" / "shards" / "dataset.json"
    assert str(card_path) in capsys.readouterr().out
    card = read_card(card_path)
    kept = read_kept_paths(tmp_path / "data" / "clean")
    dropped = {Path(row["path"]).name: row["reason"] for row in read_dropped(tmp_path / "data" / "clean")}
    assert dropped["broken.jpg"] == "corrupt"
    assert len(kept) + len(dropped) == 17
    assert card["totals"]["train"]["samples"] + card["totals"]["val"]["samples"] == len(kept) >= 10

    artifacts = _latest_artifact("build-dataset-summary")
    assert artifacts, "the flow must publish its summary table"
    table = artifacts[0].data
    assert "images/s" in str(table) and "samples written" in str(table)

    # A second run finds every part complete and rewrites nothing.
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "data" / "shards").glob("*.tar")}
    assert main(["build-dataset", "--images", str(images), "--out", str(tmp_path / "data"), "--short-side", "64",
                 "--val-fraction", "0.25"]) == 0
    after = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "data" / "shards").glob("*.tar")}
    assert before == after

    # The strict colour filter setting reaches the cleaning step; the shards follow what it keeps.
    assert main(["build-dataset", "--images", str(images), "--out", str(tmp_path / "data"), "--short-side", "64",
                 "--val-fraction", "0.25", "--colour-filter", "strict"]) == 0
    report = json.loads((tmp_path / "data" / "clean" / "report.json").read_text())
    assert report["settings"]["colour"]["colour_filter"] == "strict"
    strict_kept = read_kept_paths(tmp_path / "data" / "clean")
    assert set(strict_kept) <= set(kept)
    card = read_card(card_path)
    assert card["totals"]["train"]["samples"] + card["totals"]["val"]["samples"] == len(strict_kept)
