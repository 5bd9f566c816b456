"""Progress of a flow's long steps, for the Prefect UI and for whoever watches this process.

A `StageProgress` counts one step's work (images, training steps) as it happens. The flow publishes
it as a Prefect progress artifact where it chooses (a finished batch or part), and every count goes
at once to the listeners registered in this process: `tintype` registers its terminal display
(cli/progress_display.py); a deployment's worker registers none. Stage functions stay plain: a task
hands them `share_callback(key)`, which reports into the counter of the step it runs in (found
through a context variable that Prefect copies into the threads its tasks run in).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Callable, Hashable, Iterator, Protocol

from prefect.artifacts import create_progress_artifact, update_progress_artifact


class ProgressListener(Protocol):
    """Told about every step in this process; called from whichever thread counted (keep it quick)."""

    def stage_started(self, stage: "StageProgress") -> None: ...

    def stage_advanced(self, stage: "StageProgress") -> None: ...

    def stage_finished(self, stage: "StageProgress") -> None: ...


_listeners: list[ProgressListener] = []
_listeners_lock = threading.Lock()
_current: ContextVar["StageProgress | None"] = ContextVar("tintype_stage_progress", default=None)


@contextmanager
def listening(listener: ProgressListener) -> Iterator[ProgressListener]:
    """Register `listener` for every step that starts in this process until the block ends."""
    with _listeners_lock:
        _listeners.append(listener)
    try:
        yield listener
    finally:
        with _listeners_lock:
            _listeners.remove(listener)


def share_callback(key: Hashable) -> Callable[[int], None] | None:
    """`callback(done)` setting `key`'s share (what one batch or part has done so far) of the step
    whose `with` block this code runs in (in the flow or in one of its tasks); None outside any step."""
    stage = _current.get()
    return None if stage is None else partial(stage.update_share, key)


class StageProgress:
    """One step's count of `unit` done out of `total` (None: not known in advance, e.g. a crawl).

    `done` is the sum of the shares (`update_share`: what one batch or part has done so far, so a
    retried batch that reports again from zero is not counted twice) plus a base count (`update`).
    `done` at creation is where a resumed step starts, so a rate counts only this run's work.
    Used as a context manager it is the step `share_callback` reports to inside the block, and
    finishes at its end."""

    def __init__(self, name: str, unit: str, total: int | None = None, done: int = 0, artifact: str | None = None) -> None:
        self.name, self.unit, self.total = name, unit, total
        self.initial = done
        self.note = ""
        self.started = time.monotonic()
        self.ended: float | None = None
        self.finished = self.failed = False
        self._base = done
        self._shares: dict[Hashable, int] = {}
        self._lock = threading.Lock()
        self._token = None
        self._artifact = create_progress_artifact(progress=self.percent, description=artifact) if artifact else None
        self._tell("stage_started")

    @property
    def done(self) -> int:
        with self._lock:
            return self._base + sum(self._shares.values())

    @property
    def percent(self) -> float:
        return min(100.0, 100.0 * self.done / self.total) if self.total else 0.0

    @property
    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    @property
    def rate(self) -> float | None:
        """`unit` per second over this run of the step (its start included: loading a model is part of the cost)."""
        work, elapsed = self.done - self.initial, self.elapsed
        return work / elapsed if work > 0 and elapsed > 0 else None

    @property
    def eta(self) -> float | None:
        """Seconds left at that rate, when the total is known."""
        rate = self.rate
        return max(0, self.total - self.done) / rate if rate and self.total is not None else None

    def update(self, done: int, note: str | None = None) -> None:
        """The whole step's count (e.g. the training step reached)."""
        with self._lock:
            self._base, self._shares = done, {}
            self.note = self.note if note is None else note
        self._tell("stage_advanced")

    def update_share(self, key: Hashable, done: int) -> None:
        """What one contributor (a batch, a part, a site) has done so far."""
        with self._lock:
            self._shares[key] = done
        self._tell("stage_advanced")

    def publish(self) -> None:
        """Update the Prefect progress artifact (call it from the flow or task, at coarse points)."""
        if self._artifact is not None:
            update_progress_artifact(self._artifact, progress=self.percent)

    def finish(self, failed: bool = False) -> None:
        if self.finished:
            return
        if not failed and (self.total is None or self.done < self.total):
            self.total = self.done  # complete: what a crawl or a deduplicated list turned out to hold
        self.ended, self.finished, self.failed = time.monotonic(), True, failed
        if not failed:
            self.publish()
        self._tell("stage_finished")

    def __enter__(self) -> "StageProgress":
        self._token = _current.set(self)
        return self

    def __exit__(self, kind, error, traceback) -> None:
        _current.reset(self._token)
        self.finish(failed=kind is not None)

    def _tell(self, event: str) -> None:
        with _listeners_lock:
            listeners = list(_listeners)
        for listener in listeners:
            getattr(listener, event)(self)
