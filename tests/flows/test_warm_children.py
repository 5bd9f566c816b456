"""run_isolated's warm children: reused across calls, progress per call, and a crashed child replaced."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pytest

from flows.task_running import run_isolated


def count_slowly(steps: int, progress=None) -> int:
    for done in range(1, steps + 1):
        time.sleep(0.15)
        progress(done, steps)
    return os.getpid()


def test_children_are_reused_and_report_their_own_progress():
    first = run_isolated(os.getpid)
    assert first != os.getpid()
    seen: dict[int, list[int]] = {5: [], 9: []}
    with ThreadPoolExecutor(2) as threads:  # two calls at once, each with its own count
        futures = [threads.submit(run_isolated, count_slowly, steps, on_progress=seen[steps].append) for steps in seen]
        pids = {future.result() for future in futures}
    assert first in pids or len(pids) == 2  # no fresh process per call beyond the pool's own
    for steps, counts in seen.items():
        assert counts and counts == sorted(counts) and max(counts) <= steps
    started = time.perf_counter()
    run_isolated(os.getpid)
    assert time.perf_counter() - started < 0.5  # warm: no spawn, no imports


def test_a_crashed_child_fails_its_call_and_the_next_call_gets_a_fresh_one():
    before = run_isolated(os.getpid)
    with pytest.raises(BrokenProcessPool):
        run_isolated(os._exit, 3)  # a crash in native code looks like this to the pool
    after = run_isolated(os.getpid)
    assert after != before and after != os.getpid()


def test_a_call_runs_in_the_callers_current_folder_and_environment(tmp_path, monkeypatch):
    run_isolated(os.getpid)  # the child starts here, before the caller moves
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TINTYPE_WARM_CHILD_CHECK", "moved")
    assert run_isolated(os.getcwd) == str(tmp_path)
    assert run_isolated(os.getenv, "TINTYPE_WARM_CHILD_CHECK") == "moved"
