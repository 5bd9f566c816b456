"""Submit many task runs with at most `limit` in flight (Prefect's thread pool is unbounded)."""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, Iterable

from prefect import Task


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
