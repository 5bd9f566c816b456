"""What `tintype` shows on stderr while a flow works: a bar with count, rate and ETA per step on a
terminal (rich, which Prefect already installs), a plain line every few seconds when stderr is a
file or a pipe, nothing with --quiet. Results stay on stdout.

It listens to the flows' step counters (flows/progress_reporting.py), which also feed the Prefect
progress artifacts; the stage packages know nothing of it.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import threading
import time
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from flows.progress_reporting import StageProgress

PLAIN_INTERVAL_S = 5.0  # a line per step at most this often when the output is not a terminal


def add_quiet_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress on stderr (a bar on a terminal, a line every few seconds otherwise)")


@contextmanager
def progress_display(quiet: bool = False) -> Iterator[None]:
    """Show the progress of the flows run inside the block (import this module's user lazily: it loads Prefect)."""
    if quiet:
        yield
        return
    from flows.progress_reporting import listening

    display = TerminalDisplay() if _is_terminal(sys.stderr) else PlainDisplay(sys.stderr)
    try:
        with listening(display):
            yield
    finally:
        display.close()


def _is_terminal(stream: IO[str]) -> bool:
    from rich.console import Console

    console = Console(file=stream)
    return console.is_terminal and not console.is_dumb_terminal


def rate_text(per_second: float | None, unit: str) -> str:
    if per_second is None:
        return f"? {unit}/s"
    if per_second < 0.1:
        return f"{per_second:.2g} {unit}/s"
    digits = 0 if per_second >= 100 else 1 if per_second >= 10 else 2
    return f"{per_second:.{digits}f} {unit}/s"


def duration_text(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


class PlainDisplay:
    """One line when a step starts, one every PLAIN_INTERVAL_S while it runs, one when it ends: a log
    file or CI output gets the same news as a terminal, without carriage returns or colour codes."""

    def __init__(self, stream: IO[str], interval: float = PLAIN_INTERVAL_S) -> None:
        self.stream, self.interval = stream, interval
        self._last: dict[int, float] = {}
        self._lock = threading.Lock()

    def stage_started(self, stage: StageProgress) -> None:
        if stage.total != 0:
            self._line(stage, f"{stage.total} {stage.unit} to do" if stage.total is not None else "started")

    def stage_advanced(self, stage: StageProgress) -> None:
        if stage.total == 0 or time.monotonic() - self._last.get(id(stage), 0.0) < self.interval:
            return
        done, total = stage.done, stage.total
        if total:
            text = f"{done}/{total} {stage.unit} ({100 * done / total:.0f}%), {rate_text(stage.rate, stage.unit)}"
            text += f", eta {duration_text(stage.eta)}" if stage.eta is not None else ""
        else:
            text = f"{done} {stage.unit}, {rate_text(stage.rate, stage.unit)}"
        self._line(stage, text + (f", {stage.note}" if stage.note else ""))

    def stage_finished(self, stage: StageProgress) -> None:
        if stage.total == 0:
            return
        if stage.failed:
            self._line(stage, f"stopped at {stage.done}/{stage.total or '?'} {stage.unit} after {duration_text(stage.elapsed)}")
            return
        self._line(stage, f"{stage.done} {stage.unit} done in {duration_text(stage.elapsed)}, {rate_text(stage.rate, stage.unit)}"
                          + (f", {stage.note}" if stage.note else ""))

    def close(self) -> None:
        pass

    def _line(self, stage: StageProgress, text: str) -> None:
        with self._lock:
            self._last[id(stage)] = time.monotonic()
            self.stream.write(f"{stage.name}: {text}\n")  # not print(): a flow's log_prints would make it a log record
            self.stream.flush()


class TerminalDisplay:
    """A rich progress bar per running step. The live display runs while some step does; meanwhile log
    lines written to this terminal (Prefect's console handler, warnings) go above the bars, not through them."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._progress = None
        self._rows: dict[int, int] = {}
        self._restore: list = []

    def stage_started(self, stage: StageProgress) -> None:
        if stage.total == 0:
            return
        with self._lock:
            if self._progress is None:
                self._start()
            self._rows[id(stage)] = self._progress.add_task(
                stage.name, total=stage.total, completed=stage.done, stage=stage, note=stage.note)

    def stage_advanced(self, stage: StageProgress) -> None:
        with self._lock:
            row = self._rows.get(id(stage))
            if row is not None:
                self._progress.update(row, completed=stage.done, total=stage.total, note=stage.note)

    def stage_finished(self, stage: StageProgress) -> None:
        with self._lock:
            row = self._rows.pop(id(stage), None)
            if row is None:
                return
            self._progress.update(row, completed=stage.done, total=stage.total, note=stage.note,
                                  description=stage.name + (" (stopped)" if stage.failed else ""))
            self._progress.stop_task(row)
            if not self._rows:
                self._stop()  # the finished bars stay on screen; a later step gets a new display

    def close(self) -> None:
        with self._lock:
            self._rows.clear()
            if self._progress is not None:
                self._stop()

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

        count_column, rate_column, time_column = _columns()
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), count_column(), TaskProgressColumn(), rate_column(),
            time_column(), TextColumn("{task.fields[note]}"),
            console=Console(stderr=True), redirect_stderr=True, redirect_stdout=sys.stdout.isatty(), refresh_per_second=4,
        )
        self._progress.start()  # sys.stderr is now a proxy that prints above the bars
        self._restore = _send_log_handlers_to(sys.stderr)

    def _stop(self) -> None:
        for undo in self._restore:
            undo()
        self._restore = []
        self._progress.stop()
        self._progress = None


def _send_log_handlers_to(proxy: IO[str]) -> list:
    """Point the logging handlers that write to the real stderr at `proxy` (rich's writer that prints
    above the bars); returns the undo actions. Prefect's console handler keeps a rich console of its
    own on stderr; rich unwraps a proxy given as a console's file, so that one gets `_AboveTheBars`."""
    real = getattr(proxy, "rich_proxied_file", None)
    if real is None:
        return []
    undo = []
    loggers = [logging.getLogger()] + [lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    handlers = {id(h): h for lg in loggers for h in lg.handlers if isinstance(h, logging.StreamHandler)}
    for handler in handlers.values():
        console = getattr(handler, "console", None)  # prefect.logging.handlers.PrefectConsoleHandler
        if console is not None and getattr(console, "file", None) is real:
            console.file = _AboveTheBars(proxy)
            undo.append(lambda console=console: setattr(console, "file", real))
        elif handler.stream is real:
            handler.setStream(proxy)
            undo.append(lambda handler=handler: handler.setStream(real))
    return undo


class _AboveTheBars(io.TextIOBase):
    """Writes through rich's proxy without looking like one (a console would write past it)."""

    def __init__(self, proxy: IO[str]) -> None:
        self._proxy = proxy

    def write(self, text: str) -> int:
        return self._proxy.write(text)

    def flush(self) -> None:
        self._proxy.flush()

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._proxy.fileno()


def _columns() -> tuple[type, type, type]:
    """The count, rate and time columns (built on first use: `tintype --help` does not import rich)."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class CountColumn(ProgressColumn):
        """'5/8 images' (or '5/? images' while the total is unknown)."""

        def render(self, task) -> Text:
            total = "?" if task.total is None else f"{int(task.total)}"
            return Text(f"{int(task.completed)}/{total} {task.fields['stage'].unit}")

    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:
            stage = task.fields["stage"]
            return Text(rate_text(stage.rate, stage.unit), style="progress.data.speed")

    class TimeColumn(ProgressColumn):
        """'eta 0:00:12' while running (from the step's own rate), 'in 0:01:03' once finished."""

        def render(self, task) -> Text:
            stage = task.fields["stage"]
            if stage.finished:
                return Text(f"in {duration_text(stage.elapsed)}", style="progress.elapsed")
            eta = stage.eta
            return Text(f"eta {'-:--:--' if eta is None else duration_text(eta)}", style="progress.remaining")

    return CountColumn, RateColumn, TimeColumn

