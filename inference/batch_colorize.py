"""Colorize a stream of archive members: decode and encode in threads, the model in batches.

The calling thread reads members one at a time (archives are sequential), hashes them, asks the
ledger whether they are settled, and hands the rest to a decode pool. Decoded images wait in
buckets keyed by their working shape; a full bucket goes through the model as one batch, and each
result is handed to the encode pool (join with the full-res L, encode, atomic write). At most
`max_in_flight` images exist at any moment, so memory is bounded whatever the archive's size.
Every outcome (done, skipped, failed, with reason and timings) goes to the ledger; a failing image
never stops the batch.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from inference.archive_members import MemberProblem, MemberRef, read_members
from inference.colorizer import Colorizer, PreparedImage
from inference.contact_sheet import preview_pair
from inference.output_encoding import output_name
from inference.output_target import DirectoryOutput, ZipOutput
from inference.run_ledger import ALREADY_COLOUR, DONE, FAILED, SKIPPED, LedgerEntry, LedgerPart, RunLedger, is_settled
from preprocessing.image_errors import ImageRejected

SKIP_REASONS = {"not-image", "not-regular"}  # skipped members; every other problem is a failure
REPORTED_OUTPUTS = REPORTED_FAILURES = 200  # the report is a summary; the ledger holds everything


@dataclass
class BatchReport:
    done: int = 0
    skipped: int = 0
    failed: int = 0
    settled: int = 0  # already done by an earlier run (ledger)
    megapixels: float = 0.0
    seconds: float = 0.0
    model_seconds: float = 0.0
    failures: list[dict] = field(default_factory=list)  # {"source", "reason", "error"}, the first 200
    outputs: list[tuple[str, str]] = field(default_factory=list)  # (source, output), the first 200

    def merge(self, other: "BatchReport") -> None:
        for name in ("done", "skipped", "failed", "settled", "megapixels", "model_seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures += other.failures
        self.outputs += other.outputs


@dataclass
class _Pending:
    ref: MemberRef
    sha256: str
    timings: dict[str, float]
    prepared: PreparedImage | None = None
    preview: bool = False


class _Pipeline:
    def __init__(
        self,
        colorizer: Colorizer,
        output: DirectoryOutput | ZipOutput,
        part: LedgerPart,
        batch_size: int,
        workers: int,
        max_in_flight: int,
        on_image: Callable[[LedgerEntry], None] | None,
        previews: int = 0,
        preview_dir: Path | None = None,
    ) -> None:
        self.previews_left, self.preview_dir = previews, preview_dir
        self.colorizer, self.output, self.part = colorizer, output, part
        self.batch_size, self.max_in_flight, self.on_image = batch_size, max_in_flight, on_image
        self.pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="tintype-codec")
        self.decoding: deque[tuple[_Pending, Future]] = deque()
        self.buckets: dict[tuple[int, int], list[_Pending]] = {}
        self.encoding: deque[tuple[_Pending, Future]] = deque()
        self.report = BatchReport()

    # -- bookkeeping -------------------------------------------------------------------------
    def in_flight(self) -> int:
        return len(self.decoding) + sum(len(b) for b in self.buckets.values()) + len(self.encoding)

    def record(self, entry: LedgerEntry) -> None:
        self.part.record(entry)
        if entry.status == DONE:
            self.report.done += 1
            if len(self.report.outputs) < REPORTED_OUTPUTS:
                self.report.outputs.append((entry.source, entry.output or ""))
        elif entry.status == SKIPPED:
            self.report.skipped += 1
        else:
            self.report.failed += 1
            if len(self.report.failures) < REPORTED_FAILURES:
                self.report.failures.append({"source": entry.source, "reason": entry.reason, "error": entry.error})
        if self.on_image:
            self.on_image(entry)

    def entry(self, pending: _Pending, status: str, **fields) -> LedgerEntry:
        return LedgerEntry(
            source=pending.ref.name, model_version=self.colorizer.version, status=status,
            sha256=pending.sha256, timings={k: round(v, 4) for k, v in pending.timings.items()}, **fields,
        )

    # -- stages ------------------------------------------------------------------------------
    def submit(self, pending: _Pending, data: bytes) -> None:
        pending.preview = self.previews_left > 0 and self.preview_dir is not None
        self.previews_left -= pending.preview
        self.decoding.append((pending, self.pool.submit(_timed, self.colorizer.prepare, data, pending.preview)))
        while self.in_flight() >= self.max_in_flight:
            self.step(block=True)

    def step(self, block: bool) -> None:
        """Advance the oldest work: reap encodes, move a decode into its bucket, or run a bucket."""
        while self.encoding and self.encoding[0][1].done():
            self.finish_encode(*self.encoding.popleft())
        if self.decoding and (block or self.decoding[0][1].done()):
            self.finish_decode(*self.decoding.popleft())
        elif not block:
            return
        elif self.buckets:  # nothing left to decode now: a part-full batch beats waiting
            self.run_model(max(self.buckets, key=lambda k: len(self.buckets[k])))
        elif self.encoding:
            self.finish_encode(*self.encoding.popleft())

    def finish_decode(self, pending: _Pending, future: Future) -> None:
        try:
            prepared, seconds = future.result()
        except ImageRejected as error:
            self.record(self.entry(pending, FAILED, reason=error.reason, error=error.detail or str(error)))
            return
        except Exception as error:  # a decoder crash on a hostile file is that file's failure only
            self.record(self.entry(pending, FAILED, reason="decode-error", error=f"{type(error).__name__}: {error}"))
            return
        pending.timings["decode"] = seconds
        width, height = prepared.size
        if prepared.verdict.is_colour and not self.colorizer.settings.force:
            self.record(self.entry(
                pending, SKIPPED, reason=ALREADY_COLOUR, width=width, height=height,
                error=f"colourful share {prepared.verdict.colourful_share:.2f} (use --force to colorize)",
            ))
            return
        pending.prepared = prepared
        bucket = self.buckets.setdefault(prepared.bucket, [])
        bucket.append(pending)
        if len(bucket) >= self.batch_size:
            self.run_model(prepared.bucket)

    def run_model(self, key: tuple[int, int]) -> None:
        batch = self.buckets.pop(key)
        started = time.perf_counter()
        try:
            abs_ = self.colorizer.predict([p.prepared for p in batch])
        except Exception as error:
            for pending in batch:
                self.record(self.entry(pending, FAILED, reason="model-error", error=f"{type(error).__name__}: {error}"))
            return
        seconds = time.perf_counter() - started
        self.report.model_seconds += seconds
        for pending, ab in zip(batch, abs_):
            pending.timings["model"] = seconds / len(batch)
            self.encoding.append((pending, self.pool.submit(_timed, self.render_and_write, pending, ab)))

    def render_and_write(self, pending: _Pending, ab) -> str:
        prepared = pending.prepared
        name = output_name(pending.ref.name, prepared.metadata.format)
        image = self.colorizer.render_image(prepared, ab)
        self.output.write(name, self.colorizer.encode(prepared, image))
        if pending.preview and prepared.preview is not None:
            pair = preview_pair(prepared.preview, image)
            self.preview_dir.mkdir(parents=True, exist_ok=True)
            pair.save(self.preview_dir / (name.replace("/", "__") + ".png"), format="PNG")
        return name

    def finish_encode(self, pending: _Pending, future: Future) -> None:
        width, height = pending.prepared.size
        try:
            name, seconds = future.result()
        except Exception as error:
            self.record(self.entry(pending, FAILED, reason="encode-error", error=f"{type(error).__name__}: {error}",
                                   width=width, height=height))
            return
        finally:
            pending.prepared = None  # release the full-resolution arrays now (the encode is over)
        pending.timings["encode"] = seconds
        self.report.megapixels += width * height / 1e6
        self.record(self.entry(pending, DONE, output=name, width=width, height=height))

    def drain(self) -> None:
        while self.decoding or self.buckets or self.encoding:
            self.step(block=True)
        self.pool.shutdown()


def _timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def problem_entry(problem: MemberProblem, model_version: str) -> LedgerEntry:
    status = SKIPPED if problem.reason in SKIP_REASONS else FAILED
    return LedgerEntry(source=problem.name, model_version=model_version, status=status, reason=problem.reason,
                       error=problem.detail)


def colorize_members(
    items: Iterable[MemberRef | MemberProblem],
    output: DirectoryOutput | ZipOutput,
    colorizer: Colorizer,
    ledger: RunLedger,
    label: str = "batch",
    batch_size: int = 4,
    workers: int = 2,
    max_in_flight: int | None = None,
    on_image: Callable[[LedgerEntry], None] | None = None,
    previews: int = 0,
    preview_dir: Path | None = None,
) -> BatchReport:
    """Colorize every image among `items` not already settled in `ledger`; record every outcome."""
    started = time.perf_counter()
    known = ledger.index()
    part = ledger.open_part(label)
    pipeline = _Pipeline(colorizer, output, part, batch_size, workers, max_in_flight or 2 * batch_size + workers, on_image,
                         previews, preview_dir)
    refs: list[MemberRef] = []
    for item in items:
        if isinstance(item, MemberProblem):
            pipeline.record(problem_entry(item, colorizer.version))
        else:
            refs.append(item)
    try:
        read_started = time.perf_counter()
        for ref, data in read_members(refs):
            read_seconds = time.perf_counter() - read_started
            if isinstance(data, MemberProblem):
                pipeline.record(problem_entry(data, colorizer.version))
            else:
                sha = hashlib.sha256(data).hexdigest()
                status, reason, previous_output = known.get((colorizer.version, sha, ref.name), (None, None, None))
                if is_settled(status, reason, bool(previous_output) and output.exists(previous_output),
                              colorizer.settings.force):
                    pipeline.report.settled += 1
                else:
                    pipeline.submit(_Pending(ref, sha, {"read": read_seconds}), data)
            del data
            pipeline.step(block=False)
            read_started = time.perf_counter()
        pipeline.drain()
    finally:
        pipeline.pool.shutdown(wait=True, cancel_futures=True)
    pipeline.report.seconds = time.perf_counter() - started
    return pipeline.report
