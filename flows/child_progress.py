"""The child side of `run_isolated`: each call runs in the caller's working directory and environment,
and the stage's progress callback writes its count into shared memory the parent reads. Kept free of
Prefect so that a spawned child does not import it.

The pool's children are warm (reused across calls), so the shared memory is an array with one slot
per call in flight; each call is handed the index of its own slot."""

from __future__ import annotations

_parent_counts = None  # set in the child when it starts


def start_child(counts, warm_ups=()) -> None:
    """A pool child's initializer: keep the shared counts, then run the warm-up functions."""
    global _parent_counts
    _parent_counts = counts
    for warm_up in warm_ups:
        warm_up()


class SlotCount:
    """`progress(done, total)` for one call: writes `done` into the call's slot."""

    def __init__(self, slot: int) -> None:
        self.slot = slot

    def __call__(self, done: int, total: int) -> None:
        _parent_counts[self.slot] = done


def call_as_caller(cwd: str, environ: dict[str, str], function, args, kwargs):
    """Run `function` in the caller's working directory and environment, as a freshly spawned child
    would (a warm child was started earlier, perhaps before the caller changed either)."""
    import os

    if os.getcwd() != cwd:
        os.chdir(cwd)
    if os.environ != environ:
        os.environ.clear()
        os.environ.update(environ)
    return function(*args, **kwargs)
