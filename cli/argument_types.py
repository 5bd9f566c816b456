"""Arguments refused before any flow, and the Prefect server it needs, starts: a number out of its
range as a bad command line (an argparse type), a path that is not there when the command runs
(parsing never looks at the disk). Either way one line and exit code 2 (cli/main.py)."""

from __future__ import annotations

import argparse
import operator
from pathlib import Path
from typing import Any, Mapping

# The bounds a settings field declares in its metadata (the flows' forms check the same ones).
BOUNDS = {"ge": (operator.ge, ">="), "gt": (operator.gt, ">"), "le": (operator.le, "<="), "lt": (operator.lt, "<")}


class Bounded:
    """An int or float with bounds, e.g. `Bounded(int, {"ge": 1})`."""

    def __init__(self, kind: type, bounds: Mapping[str, Any]) -> None:
        self.kind = kind
        self.bounds = [(BOUNDS[key], bounds[key]) for key in BOUNDS if key in bounds]
        self.__name__ = kind.__name__  # argparse names the type in "invalid int value"

    def __call__(self, text: str) -> int | float:
        value = self.kind(text)
        if not all(check(value, limit) for (check, _), limit in self.bounds):
            allowed = " and ".join(f"{sign} {limit}" for (_, sign), limit in self.bounds)
            raise argparse.ArgumentTypeError(f"{text} is out of range; give a value {allowed}")
        return value


AT_LEAST_ONE = Bounded(int, {"ge": 1})
PORT = Bounded(int, {"ge": 0, "le": 65535})


def require_folder(path: str | None, what: str) -> None:
    """`what` ("image folder") names the argument in the refusal; None (not given) passes."""
    _require(path, what, "folder", Path.is_dir, NotADirectoryError, "file")


def require_file(path: str | None, what: str) -> None:
    _require(path, what, "file", Path.is_file, IsADirectoryError, "folder")


def _require(path: str | None, what: str, kind: str, is_kind, wrong_kind: type[OSError], other: str) -> None:
    if path is None:
        return
    from safe_files.data_root_storage import is_remote, local_path  # here: `tintype --help` stays light

    if is_remote(path):
        return  # an object-store URL: the stage checks it, and a missing one is one clear error there
    if is_kind(local_path(path)):
        return
    if local_path(path).exists():
        raise wrong_kind(f"{what} is a {other}, not a {kind}: {path}; give a {kind}")
    raise FileNotFoundError(f"{what} not found: {path}; give an existing {kind}")
