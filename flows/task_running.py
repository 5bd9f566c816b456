"""How flow tasks run: one retry policy, bounded submission, a fresh child process per stage call, and Dask fan-out.

One retry policy for tasks that touch disk, network or GPU: exponential backoff with jitter, and no
retry of a refusal (it would only delay the one-line error by the backoff).

Submit many task runs with at most `limit` in flight (Prefect's thread pool is unbounded).

Run a stage function in a fresh child process.

Tasks run in Prefect's thread pool; CPU-bound image work would serialise on the GIL there. A
spawned child per call gives real parallelism, and a crash in native code (a hostile image) kills
the child, not the flow. The child's progress callback writes a count into shared memory, which the
parent reads every PROGRESS_POLL_S while it waits.

Run a flow's task fan-out on Dask (prefect-dask): a LocalCluster on this machine, or the scheduler of
a real cluster in production. The flows stay as they are; only their task runner changes.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterable, TypeVar

from prefect import Flow, Task
from prefect.tasks import exponential_backoff

from flows.child_progress import count_for_parent, keep_parent_count


def retrying(retries: int = 3, base_delay_seconds: float = 2.0) -> dict[str, Any]:
    """Keyword arguments for `@task(...)`."""
    return {
        "retries": retries,
        "retry_delay_seconds": exponential_backoff(backoff_factor=base_delay_seconds),
        "retry_jitter_factor": 0.5,
        "retry_condition_fn": worth_retrying,
    }


def worth_retrying(task: Task, task_run: Any, state: Any) -> bool:
    """Retry transient failures (I/O, network, CUDA, a lost node), not a refusal that would come back:
    a ValueError (a wrong setting, a dataset or model that does not fit) or an output that already exists."""
    try:
        state.result()
    except (FileExistsError, ValueError):
        return False
    except Exception:
        return True
    return True


def map_bounded(
    task: Task, argument_tuples: Iterable[tuple[Any, ...]], limit: int, on_result: Callable[[Any], None] | None = None
) -> list[Any]:
    """Run `task(*args)` for every tuple, `limit` at a time; results in submission order."""
    in_flight: deque = deque()
    results: list[Any] = []

    def settle_oldest() -> None:
        result = in_flight.popleft().result()
        results.append(result)
        if on_result:
            on_result(result)

    for arguments in argument_tuples:
        if len(in_flight) >= max(1, limit):
            settle_oldest()
        in_flight.append(task.submit(*arguments))
    while in_flight:
        settle_oldest()
    return results


Result = TypeVar("Result")
PROGRESS_POLL_S = 0.5


def run_isolated(
    function: Callable[..., Result], *args: Any, on_progress: Callable[[int], None] | None = None, **kwargs: Any
) -> Result:
    """`function(*args, **kwargs)` in a spawned child. With `on_progress`, the function gets a
    `progress(done, total)` keyword argument, and `on_progress(done)` is called here as the count moves."""
    spawn = multiprocessing.get_context("spawn")
    if on_progress is None:
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            return pool.submit(function, *args, **kwargs).result()
    count = spawn.RawValue("q", 0)  # shared memory, handed to the child when it starts
    with ProcessPoolExecutor(1, mp_context=spawn, initializer=keep_parent_count, initargs=(count,)) as pool:
        future = pool.submit(function, *args, progress=count_for_parent, **kwargs)
        seen = 0
        while True:
            try:
                return future.result(timeout=PROGRESS_POLL_S)
            except TimeoutError:  # still working: pass on how far it got
                if count.value != seen:
                    seen = count.value
                    on_progress(seen)


LOCAL = "local"


def dask_task_runner(scheduler: str = LOCAL, workers: int = 2):
    """`scheduler`: "local" (a LocalCluster of `workers` processes, one thread each) or "tcp://HOST:8786"."""
    import dask
    from prefect_dask import DaskTaskRunner

    if scheduler != LOCAL:
        return DaskTaskRunner(address=scheduler)
    # Our tasks start child processes (flows/task_running.py); Dask's daemonic workers may not.
    dask.config.set({"distributed.worker.daemon": False})
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                          "dashboard_address": None, "host": "127.0.0.1"})


def on_dask(flow: Flow, scheduler: str = LOCAL, workers: int = 2) -> Flow:
    """The same flow with its tasks submitted to Dask, e.g. `on_dask(build_dataset, "tcp://sched:8786")(images=...)`."""
    return flow.with_options(task_runner=dask_task_runner(scheduler, workers))
