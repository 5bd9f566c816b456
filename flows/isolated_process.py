"""Run a stage function in a fresh child process.

Tasks run in Prefect's thread pool; CPU-bound image work would serialise on the GIL there. A
spawned child per call gives real parallelism, and a crash in native code (a hostile image) kills
the child, not the flow.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, TypeVar

Result = TypeVar("Result")


def run_isolated(function: Callable[..., Result], *args: Any, **kwargs: Any) -> Result:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args, **kwargs).result()
