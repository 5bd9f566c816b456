"""Prefect result caching for planning tasks whose re-run on unchanged input is pure waste.

plan-cleaning and plan-shards sha256 every input file, plan-colorize lists (and, for a .tar.gz,
decompresses) a whole archive: minutes at a million files, for a plan identical to the last one.
Their cache key is the task's inputs + its source code + a stat fingerprint (relative path, size,
mtime) of the files they read, so an added, removed or rewritten file, or a code change, misses.
A hit is only used while the plan file it names still holds what the task wrote (`planned_with_cache`
checks the file's identity, recorded with the path under the key `sha256`): plans live at a fixed
place in the output folder, so a later run with other inputs or settings overwrites the file a cache
entry names (clean X, clean Y, clean X again would otherwise get Y's plan back); such a hit, or a
deleted file, runs the task again and refreshes the cache. Results (small path strings) persist under
PREFECT_HOME/storage; a worker on another machine simply misses and recomputes (docs/scaling.md).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Iterator

from prefect.cache_policies import INPUTS, TASK_SOURCE, CacheKeyFnPolicy
from prefect.context import TaskRunContext

from safe_files import data_root_storage as storage
from safe_files.identity import identity_of_bytes, identity_of_chunks, same_identity

CACHE_EXPIRATION = timedelta(days=30)


def stat_fingerprint(paths: list[str | Path]) -> str:
    """The identity of (relative path, size, mtime_ns) of every file under `paths` (files or folders)."""
    return identity_of_chunks(_stat_lines(paths))


def _stat_lines(paths: list[str | Path]) -> Iterator[str]:
    listings = storage.FolderListings()  # remote inputs: one listing per folder they sit in
    for root in paths:
        if storage.is_remote(root):
            yield from _remote_stat_lines(str(root).rstrip("/"), listings)
            continue
        root = storage.local_path(root)
        yield str(root.resolve())
        if root.is_file():
            stat = root.stat()
            yield f"|{stat.st_size}|{stat.st_mtime_ns}"
            continue
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(folder, name)
                try:
                    stat = os.stat(path)
                except OSError:  # vanished while walking: part of the key as missing
                    yield f"{path}|gone"
                    continue
                yield f"{os.path.relpath(path, root)}|{stat.st_size}|{stat.st_mtime_ns}\n"


def _remote_stat_lines(root: str, listings: storage.FolderListings) -> Iterator[str]:
    """An object-store input's URL, size and modified time, or every object's below a folder (a list
    file naming 100,000 objects costs a listing per folder, not two requests per object)."""
    yield root
    if "/" in root.split("://", 1)[1]:  # below a bucket: perhaps one object
        found = listings.entry(root)
        if found is not None:
            yield f"|{found[0]}|{found[1]}"
            return
    for url, size, modified in storage.list_files(root, recursive=True):  # a folder (or nothing: no lines)
        yield f"{url}|{size}|{modified}\n"


def cached_on_sources(sources: Callable[[dict[str, Any]], list[str | Path]]) -> dict[str, Any]:
    """`@task(...)` keyword arguments: cache on inputs + task source + the fingerprint of `sources(parameters)`."""

    def source_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
        return stat_fingerprint([p for p in sources(parameters) if p])

    return {
        "cache_policy": INPUTS + TASK_SOURCE + CacheKeyFnPolicy(cache_key_fn=source_key),
        "cache_expiration": CACHE_EXPIRATION,
        "persist_result": True,
    }


def plan_result(path: str | Path) -> dict[str, str]:
    """What a cached planning task returns: its plan file's path and the identity of what it wrote."""
    return {"path": str(path), "sha256": identity_of_bytes(storage.read_bytes(path))}


def _still_written(result: dict[str, str]) -> bool:
    path = result["path"]
    return storage.is_file(path) and same_identity(result.get("sha256"), identity_of_bytes(storage.read_bytes(path)))


def planned_with_cache(task: Any, *args: Any) -> str:
    """Call a cached planning task (returning `plan_result`); recompute if its file has gone or been
    rewritten since. Returns the plan file's path."""
    result = task(*args)
    if not _still_written(result):
        result = task.with_options(refresh_cache=True)(*args)
    return result["path"]
