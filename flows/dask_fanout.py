"""Run a flow's task fan-out on Dask (prefect-dask): a LocalCluster on this machine, or the scheduler of
a real cluster in production. The flows stay as they are; only their task runner changes."""

from __future__ import annotations

from prefect import Flow

LOCAL = "local"


def dask_task_runner(scheduler: str = LOCAL, workers: int = 2):
    """`scheduler`: "local" (a LocalCluster of `workers` processes, one thread each) or "tcp://HOST:8786"."""
    import dask
    from prefect_dask import DaskTaskRunner

    if scheduler != LOCAL:
        return DaskTaskRunner(address=scheduler)
    # Our tasks start child processes (flows/isolated_process.py); Dask's daemonic workers may not.
    dask.config.set({"distributed.worker.daemon": False})
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                          "dashboard_address": None, "host": "127.0.0.1"})


def on_dask(flow: Flow, scheduler: str = LOCAL, workers: int = 2) -> Flow:
    """The same flow with its tasks submitted to Dask, e.g. `on_dask(build_dataset, "tcp://sched:8786")(images=...)`."""
    return flow.with_options(task_runner=dask_task_runner(scheduler, workers))
