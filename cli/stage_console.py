"""What `tintype` writes to the terminal from logging: the stage's progress and warnings, not Prefect's chatter.

Prefect's console handler prints the temporary server's start-up notice, a line per task state and,
when a flow fails, the traceback through its engine. `install_stage_console` puts this handler on the
root logger before Prefect is imported; Prefect then keeps it as the user's own console (it adds its
handler only to a bare root logger). It shows
  - what our flows and stages log (the run's progress: "13 images listed in 1 batches", training steps),
  - warnings and errors from other libraries, errors from Prefect's client and services,
  - Prefect's own lines meant for the terminal only (the run's URL in the UI when a server has one),
and leaves out Prefect's engine lines (task and flow states, failures: the command reports the
exception that ended it) and its INFO and WARNING lines (the temporary server starting and stopping,
"Still processing items" while its log and event queues drain at exit).
Nothing changes for the API: flow and task run logs still reach the Prefect UI in full.
`tintype --debug` (or TINTYPE_DEBUG=1) skips this and keeps Prefect's console as it is.
"""

from __future__ import annotations

import logging
import os
import sys

RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")


class StageConsoleHandler(logging.StreamHandler):
    """stderr, `HH:MM:SS | message` (the level too when it is not INFO), filtered as the module says."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(_LevelWhenNotInfo())
        self.addFilter(_from_the_stages)


def install_stage_console() -> None:
    """Before Prefect is imported: a process that has already set Prefect's logging up keeps it."""
    root = logging.getLogger()
    if "prefect" in sys.modules or any(isinstance(handler, StageConsoleHandler) for handler in root.handlers):
        return
    root.addHandler(StageConsoleHandler())


class _LevelWhenNotInfo(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s | %(message)s", datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno == logging.INFO:
            return text
        stamp, _, rest = text.partition(" | ")
        return f"{stamp} | {record.levelname} | {rest}"


def _from_the_stages(record: logging.LogRecord) -> bool:
    if getattr(record, "send_to_api", True) is False:
        return True  # Prefect's terminal-only lines ("View at http://.../runs/flow-run/...")
    if _from_prefect(record):
        return record.levelno >= logging.ERROR and not record.name.startswith(RUN_LOGGERS)
    return True


def _from_prefect(record: logging.LogRecord) -> bool:
    prefect = sys.modules.get("prefect")
    folder = os.path.dirname(getattr(prefect, "__file__", None) or "") if prefect else ""
    return bool(folder) and record.pathname.startswith(folder + os.sep)
