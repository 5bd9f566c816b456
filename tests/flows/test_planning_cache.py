"""Planning tasks are cached on inputs + source + a stat fingerprint of what they read: an unchanged
re-run is a cache hit (state "Cached" in the UI), a changed folder or a deleted plan recomputes."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from preprocessing.cleaning.clean_run import CleanPlan
from tests.preprocessing.shards.shard_inputs import link_real_photos


def _plan_states(flow_run_id) -> list[str]:
    async def read() -> list[str]:
        async with get_client() as client:
            runs = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            return [r.state.name for r in sorted(runs, key=lambda r: r.start_time or r.created) if r.name.startswith("plan-cleaning")]

    return asyncio.run(read())


def test_unchanged_folder_hits_the_cache_and_a_change_misses(prefect_server, tmp_path, caltech_dir):
    from flows.clean import clean

    images = tmp_path / "images"
    link_real_photos(caltech_dir, images, 5)
    out = tmp_path / "data"

    def run() -> tuple[list[str], CleanPlan]:
        state = clean(images=str(images), out=str(out), return_state=True)
        assert state.is_completed(), state
        plan = CleanPlan.load(Path(out / "clean" / "_work" / "plan.json"))
        return _plan_states(state.state_details.flow_run_id), plan

    first, plan = run()
    assert first == ["Completed"] and len(plan.files) == 5
    again, plan = run()
    assert again == ["Cached"] and len(plan.files) == 5  # nothing re-hashed

    shutil.copy(sorted(caltech_dir.rglob("*.jpg"))[1], images / "added.jpg")  # the folder changed
    changed, plan = run()
    assert changed == ["Completed"] and len(plan.files) == 6

    (out / "clean" / "_work" / "plan.json").unlink()  # the cached result names a file that has gone
    recomputed, plan = run()
    assert recomputed == ["Cached", "Completed"] and len(plan.files) == 6
