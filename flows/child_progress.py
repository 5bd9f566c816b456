"""The child side of `run_isolated`'s progress: the stage's callback writes its count into shared
memory the parent reads. Kept free of Prefect so that a spawned child does not import it."""

from __future__ import annotations

_parent_count = None  # set in the child when it starts


def keep_parent_count(count) -> None:
    global _parent_count
    _parent_count = count


def count_for_parent(done: int, total: int) -> None:
    _parent_count.value = done
