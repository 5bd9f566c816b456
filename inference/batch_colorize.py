"""Colorize a stream of archive members: decode and encode in threads, the model in batches.

The calling thread reads members one at a time (archives are sequential), hashes them, asks the
ledger whether they are settled, and hands the rest to a decode pool. Decoded images wait in
buckets keyed by their working shape; a full bucket goes through the model as one batch, and each
result is handed to the encode pool (join with the full-res L, encode, atomic write). At most
`max_in_flight` images exist at any moment, and at most `max_in_flight_pixels` pixels of them (as their
headers declare; one picture larger than that goes through alone), so memory is bounded whatever the
archive's size and however large its scans.
Every outcome (done, skipped, failed, with reason and timings) goes to the ledger; a failing image
never stops the batch.

Output names come from `OutputNames` (no output overwrites another), assigned in the calling thread
in listing order. Identical bytes at several paths are colorized once: a later path whose sha256 is
already done under this model version (ledger) gets a copy of that output; one whose first copy is
still in flight waits beside it and shares its outcome.
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
from inference.output_encoding import eight_bit_view, output_name
from inference.output_target import DirectoryOutput, OutputNames, ZipOutput
from inference.previews import preview_pair
from inference.run_ledger import (
    ALREADY_COLOUR,
    DONE,
    FAILED,
    SKIPPED,
    LedgerEntry,
    LedgerPart,
    RunLedger,
    is_settled,
)
from inference.strip_decode import declared_pixels
from safe_files.atomic_output import atomic_path
from safe_files.image_decode import ImageRejected, declared_header

SKIP_REASONS = {"not-image", "not-regular"}  # skipped members; every other problem is a failure
REPORTED_OUTPUTS = REPORTED_FAILURES = 200  # the report is a summary; the ledger holds everything
MAX_IN_FLIGHT_PIXELS = 160_000_000  # ten 12 MP photos fit as before; a 460 MP scan goes alone


@dataclass
class BatchReport:
    done: int = 0
    skipped: int = 0
    failed: int = 0
    settled: int = 0  # already done by an earlier run (ledger)
    copied: int = 0  # done as a copy of an identical input's output (counted in done too)
    megapixels: float = 0.0
    seconds: float = 0.0
    model_seconds: float = 0.0
    failures: list[dict] = field(default_factory=list)  # {"source", "reason", "error"}, the first 200
    outputs: list[tuple[str, str]] = field(default_factory=list)  # (source, output), the first 200

    def merge(self, other: "BatchReport") -> None:
        for name in ("done", "skipped", "failed", "settled", "copied", "megapixels", "model_seconds"):
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
    output: str | None = None  # assigned once the format is known
    source_format: str | None = None
    followers: list["_Pending"] = field(default_factory=list)  # same bytes at other paths
    pixels: int = 0  # what its header declares, counted in flight from decode to outcome


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
        names: OutputNames | None = None,
    ) -> None:
        self.previews_left, self.preview_dir = previews, preview_dir
        self.names = names or OutputNames(())
        self.leaders: dict[str, _Pending] = {}  # sha256 -> the in-flight pending its copies wait for
        self.done_by_sha: dict[str, list[tuple[str, str]]] = {}  # sha256 -> (source, output) done, this version
        self.colorizer, self.output, self.part = colorizer, output, part
        self.batch_size, self.max_in_flight, self.on_image = batch_size, max_in_flight, on_image
        self.pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="tintype-codec")
        self.decoding: deque[tuple[_Pending, Future]] = deque()
        self.buckets: dict[tuple[int, int], list[_Pending]] = {}
        self.encoding: deque[tuple[_Pending, Future]] = deque()
        self.report = BatchReport()
        self.max_in_flight_pixels = MAX_IN_FLIGHT_PIXELS
        self.pixels_in_flight = 0

    # -- bookkeeping -------------------------------------------------------------------------
    def in_flight(self) -> int:
        waiting = sum(len(p.followers) for p in self.leaders.values())
        return len(self.decoding) + sum(len(b) for b in self.buckets.values()) + len(self.encoding) + waiting

    def record(self, entry: LedgerEntry) -> None:
        self.part.record(entry)
        if entry.status == DONE:
            self.done_by_sha.setdefault(entry.sha256 or "", []).append((entry.source, entry.output or ""))
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
            source=pending.ref.name, model_version=self.colorizer.ledger_version, status=status,
            sha256=pending.sha256, timings={k: round(v, 4) for k, v in pending.timings.items()}, **fields,
        )

    def conclude(self, pending: _Pending, status: str, **fields) -> None:
        """Record `pending`'s outcome, then its followers': a copy of its output, or the same verdict."""
        self.record(self.entry(pending, status, **fields))
        self.pixels_in_flight -= pending.pixels
        pending.pixels = 0
        if self.leaders.get(pending.sha256) is pending:
            del self.leaders[pending.sha256]
        for follower in pending.followers:
            if status == DONE:
                self.copy_output(follower, pending.ref.name, pending.output, pending.source_format)
            else:
                shared = {k: v for k, v in fields.items() if k in ("reason", "error", "width", "height")}
                self.record(self.entry(follower, status, **shared))
        pending.followers = []

    def copy_source(self, sha256: str, source: str) -> tuple[str, str] | None:
        """An output already made from these bytes for another input, still on disk."""
        for first_source, first_output in self.done_by_sha.get(sha256, ()):
            if first_source != source and first_output and self.output.exists(first_output):
                return first_source, first_output
        return None

    def copy_output(self, pending: _Pending, first_source: str, first_output: str, source_format: str) -> None:
        """Write `pending`'s output as a copy of an identical input's (atomic, like every write)."""
        started = time.perf_counter()
        try:
            name = self.names.assign(pending.ref.name, output_name(pending.ref.name, source_format))
            data = self.output.read(first_output)
            self.output.write(name, data)
            _, (width, height) = declared_header(data, self.colorizer.settings.max_pixels)  # our own output
        except Exception as error:
            self.record(self.entry(pending, FAILED, reason="copy-error", error=f"{type(error).__name__}: {error}"))
            return
        pending.timings["copy"] = time.perf_counter() - started
        self.report.copied += 1
        self.record(self.entry(pending, DONE, output=name, width=width, height=height, copy_of=first_source))

    # -- stages ------------------------------------------------------------------------------
    def submit(self, pending: _Pending, data: bytes) -> None:
        leader = self.leaders.get(pending.sha256)
        if leader is not None:  # the same bytes are already on their way: wait for that result
            leader.followers.append(pending)
        else:
            self.leaders[pending.sha256] = pending
            pixels = declared_pixels(data, self.colorizer.settings.max_pixels) or 0
            while self.in_flight() and self.pixels_in_flight + pixels > self.max_in_flight_pixels:
                self.step(block=True)  # a large scan waits for room, and then has it to itself
            pending.pixels = pixels
            self.pixels_in_flight += pixels
            pending.preview = self.previews_left > 0 and self.preview_dir is not None
            self.previews_left -= pending.preview
            self.decoding.append((pending, self.pool.submit(_timed, self.colorizer.prepare, data, pending.preview,
                                                                not self.colorizer.settings.force)))
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
            self.conclude(pending, FAILED, reason=error.reason, error=error.detail or str(error))
            return
        except Exception as error:  # a decoder crash on a hostile file is that file's failure only
            self.conclude(pending, FAILED, reason="decode-error", error=f"{type(error).__name__}: {error}")
            return
        pending.timings["decode"] = seconds
        width, height = prepared.size
        if prepared.verdict.is_colour and not self.colorizer.settings.force:
            self.conclude(
                pending, SKIPPED, reason=ALREADY_COLOUR, width=width, height=height,
                error=f"colourful share {prepared.verdict.colourful_share:.2f} (use --force to colorize)",
            )
            return
        pending.source_format = prepared.metadata.format
        pending.output = self.names.assign(pending.ref.name, output_name(pending.ref.name, pending.source_format))
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
                self.conclude(pending, FAILED, reason="model-error", error=f"{type(error).__name__}: {error}")
            return
        seconds = time.perf_counter() - started
        self.report.model_seconds += seconds
        for pending, ab in zip(batch, abs_):
            pending.timings["model"] = seconds / len(batch)
            self.encoding.append((pending, self.pool.submit(_timed, self.render_and_write, pending, ab)))

    def render_and_write(self, pending: _Pending, ab) -> str:
        prepared, name = pending.prepared, pending.output
        if prepared.strips is not None:  # a large scan: joined and encoded into the file strip by strip
            image = self.output.write_with(name, lambda path: self.colorizer.write_output(prepared, ab, path))
        else:
            image = self.colorizer.render_image(prepared, ab)
            self.output.write(name, self.colorizer.encode(prepared, image))
        if pending.preview and prepared.preview is not None:
            pair = preview_pair(prepared.preview, eight_bit_view(image))
            with atomic_path(self.preview_dir / (name.replace("/", "__") + ".png"), durable=False) as temporary:
                pair.save(temporary, format="PNG")
        return name

    def finish_encode(self, pending: _Pending, future: Future) -> None:
        width, height = pending.prepared.size
        metadata = pending.prepared.metadata
        try:
            name, seconds = future.result()
        except Exception as error:
            self.conclude(pending, FAILED, reason="encode-error", error=f"{type(error).__name__}: {error}",
                          width=width, height=height)
            return
        finally:
            pending.prepared = None  # release the full-resolution arrays now (the encode is over)
        pending.timings["encode"] = seconds
        self.report.megapixels += width * height / 1e6
        self.conclude(pending, DONE, output=name, width=width, height=height, notes=list(metadata.notes),
                      provenance=metadata.provenance.as_record() if metadata.provenance else None)

    def drain(self) -> None:
        while self.decoding or self.buckets or self.encoding:
            self.step(block=True)
        self.pool.shutdown()


def _format_of(data: bytes, max_pixels: int) -> str | None:
    """The image format from the header (what `output_name` needs for a copy), or None."""
    try:
        return declared_header(data, max_pixels)[0]
    except Exception:
        return None


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
    input_names: Iterable[str] | None = None,
    spool_dir: Path | None = None,
) -> BatchReport:
    """Colorize every image among `items` not already settled in `ledger`; record every outcome.

    `input_names`: every input name of the whole run (default: those in `items`), so that an
    input keeps its own name even when another batch holds a file that would map onto it.
    `spool_dir`: where a compressed tar is decompressed once for all batches (archive_members)."""
    started = time.perf_counter()
    writers: dict[str, str] = {}
    current = colorizer.ledger_version
    known = ledger.index(writers, current)
    part = ledger.open_part(label)
    items = list(items)
    if input_names is None:
        input_names = [item.name for item in items if isinstance(item, MemberRef)]
    names = OutputNames(input_names, ((out, key[2]) for key, (_, _, out) in known.items() if out))
    pipeline = _Pipeline(colorizer, output, part, batch_size, workers, max_in_flight or 2 * batch_size + workers, on_image,
                         previews, preview_dir, names)
    for (version, sha, source), (status, _, out) in known.items():
        if version == current and status == DONE and out and writers.get(out) == current:
            pipeline.done_by_sha.setdefault(sha, []).append((source, out))
    refs: list[MemberRef] = []
    for item in items:
        if isinstance(item, MemberProblem):
            pipeline.record(problem_entry(item, colorizer.ledger_version))
        else:
            refs.append(item)
    try:
        read_started = time.perf_counter()
        for ref, data in read_members(refs, spool_dir=spool_dir):
            read_seconds = time.perf_counter() - read_started
            if isinstance(data, MemberProblem):
                pipeline.record(problem_entry(data, colorizer.ledger_version))
            else:
                sha = hashlib.sha256(data).hexdigest()
                status, reason, previous_output = known.get((colorizer.ledger_version, sha, ref.name), (None, None, None))
                still_there = (bool(previous_output) and writers.get(previous_output) == current
                               and output.exists(previous_output) and names.belongs_to(previous_output, ref.name))
                if is_settled(status, reason, still_there, colorizer.settings.force):
                    pipeline.report.settled += 1
                elif (first := pipeline.copy_source(sha, ref.name)) and (fmt := _format_of(data, colorizer.settings.max_pixels)):
                    pipeline.copy_output(_Pending(ref, sha, {"read": read_seconds}), *first, fmt)
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
