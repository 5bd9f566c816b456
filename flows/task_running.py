"""How flow tasks run: one retry policy, bounded submission, stage calls in warm child processes, and Dask fan-out.

One retry policy for tasks that touch disk, network or GPU: exponential backoff with jitter, and no
retry of a refusal (it would only delay the one-line error by the backoff).

Submit many task runs with at most `limit` in flight (Prefect's thread pool is unbounded).

Run a stage function in a warm child process.

Tasks run in Prefect's thread pool; CPU-bound image work would serialise on the GIL there. Spawned
children give real parallelism, and a crash in native code (a hostile image) kills a child, not the
flow. The children are kept warm for the life of the process (one per usable core, each replaced
after CALLS_PER_CHILD calls): a fresh child per call cost about a second of imports per part. The
child's progress callback writes a count into its call's slot of shared memory, which the parent
reads every PROGRESS_POLL_S while it waits.

Run a flow's task fan-out on Dask (prefect-dask): a LocalCluster on this machine, or the scheduler of
a real cluster in production. The flows stay as they are; only their task runner changes.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterable, TypeVar

from prefect import Flow, Task
from prefect.tasks import exponential_backoff

from flows.child_progress import SlotCount, call_as_caller, start_child
from safe_files.data_root_storage import StorageRefused


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
    a ValueError (a wrong setting, a dataset or model that does not fit), an output that already exists,
    or an object store's missing bucket or object or denied access (StorageRefused)."""
    try:
        state.result()
    except (FileExistsError, ValueError, StorageRefused):
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
# A warm child serves this many calls, then is replaced (bounds what a leak in native code can hold).
CALLS_PER_CHILD = 64


class _WarmPool:
    """Spawned children kept for the life of this process, at most one per usable core: the first
    call pays the start-up (Python, NumPy, Pillow, numba's cached kernels), later calls none. A
    child that dies (a crash in native code) breaks the pool: its calls fail (the task retries) and
    the next call starts a fresh pool."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.size = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
        self.pool: ProcessPoolExecutor | None = None
        self.counts = None
        self.free: list[int] = []

    def _start(self, warm_ups: tuple[Callable[[], Any], ...]) -> ProcessPoolExecutor:
        """(under the lock) the pool, made when there is none; each child runs `warm_ups` as it starts."""
        if self.pool is None:
            spawn = multiprocessing.get_context("spawn")
            slots = 4 * self.size  # calls in flight (beyond the children: queued)
            self.counts = spawn.RawArray("q", slots)  # shared memory, handed to each child at its start
            self.free = list(range(slots))
            self.pool = ProcessPoolExecutor(self.size, mp_context=spawn, initializer=start_child,
                                            initargs=(self.counts, warm_ups), max_tasks_per_child=CALLS_PER_CHILD)
        return self.pool

    def start_early(self, warm_ups: tuple[Callable[[], Any], ...]) -> None:
        """Start every child now (they import and warm up while this process does other work)."""
        with self.lock:
            if self.pool is not None:
                return
            pool = self._start(warm_ups)
        for _ in range(self.size):
            pool.submit(int)  # a no-op call: the pool starts a child for each while none is idle

    def acquire(self) -> tuple[ProcessPoolExecutor, Any, int]:
        with self.lock:
            self._start(())
            if not self.free:
                raise RuntimeError(f"more than {len(self.counts)} isolated calls in flight; bound the fan-out (map_bounded)")
            slot = self.free.pop()
            self.counts[slot] = 0
            return self.pool, self.counts, slot

    def release(self, pool: ProcessPoolExecutor, slot: int, broken: bool) -> None:
        with self.lock:
            if pool is not self.pool:
                return  # a pool already replaced: its slots went with it
            self.free.append(slot)
            if broken:
                self.pool = None
                pool.shutdown(wait=False, cancel_futures=True)


_WARM = _WarmPool()


def start_children_early(*warm_ups: Callable[[], Any]) -> None:
    """Start the warm children now, each running `warm_ups` (module-level functions: imports, numba
    kernels loaded) as it starts: a flow calls this before a step that waits on the network, so the
    children's start-up overlaps it instead of delaying the first CPU-bound step. No-op when started."""
    _WARM.start_early(tuple(warm_ups))


def run_isolated(
    function: Callable[..., Result], *args: Any, on_progress: Callable[[int], None] | None = None, **kwargs: Any
) -> Result:
    """`function(*args, **kwargs)` in a warm spawned child. With `on_progress`, the function gets a
    `progress(done, total)` keyword argument, and `on_progress(done)` is called here as the count moves."""
    pool, counts, slot = _WARM.acquire()
    broken = False
    try:
        if on_progress is not None:
            kwargs = {**kwargs, "progress": SlotCount(slot)}
        future = pool.submit(call_as_caller, os.getcwd(), dict(os.environ), function, args, kwargs)
        seen = 0
        while True:
            try:
                return future.result(timeout=PROGRESS_POLL_S)
            except TimeoutError:  # still working: pass on how far it got
                if on_progress is not None and counts[slot] != seen:
                    seen = counts[slot]
                    on_progress(seen)
    except BrokenProcessPool:
        broken = True
        raise
    finally:
        _WARM.release(pool, slot, broken)


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
