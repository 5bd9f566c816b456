"""Write one part of a shard plan with `webdataset.ShardWriter`, atomically and resumably.

Each shard is written as `NAME.tar.partial`; when ShardWriter closes it (maxcount or maxsize
reached, or the end), its index entry (keys, bytes, ab histogram) is saved and the file is renamed to
`NAME.tar`. A kill therefore leaves at most a `.partial` file, which no reader globs and which the
next run deletes. On a re-run, the keys of complete shards are skipped and writing continues with
the next shard number, so every sample ends up in exactly one complete shard. When the whole part is
done a `done` record is saved and later runs return it at once.

All of that holds only for the same part: a part's files are claimed by the identity
(safe_files.identity) of its image list and the shard settings (`_index/{split}-{part}.part.json`,
key `fingerprint`). A plan that changes a part (other images kept by the cleaning, another --short-side or
codec into the same data root) finds the identity differ and rewrites the part from scratch instead of returning shards made for the old plan; parts
the new plan no longer has are removed by `remove_parts_outside`.

The shard folder may be on an object store (`s3://bucket/data/shards`): there a shard is written to a
local temporary and uploaded under its final name once closed (safe_files.atomic_output), after its
index entry, exactly the order of the local rename; a kill leaves no partial object at all.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterator

from preprocessing.colour.ab_gamut import AbHistogram
from preprocessing.shards.lab_sample import (
    EncodedSample,
    ResizePolicy,
    encode_image_file,
)
from preprocessing.shards.shard_plan import INDEX_DIR, SPLITS, ShardPlan
from safe_files import data_root_storage as storage
from safe_files.atomic_output import AtomicFile, read_json, write_json_atomic
from safe_files.identity import identity_of, same_identity
from safe_files.image_decode import ImageRejected

if TYPE_CHECKING:
    import webdataset as wds

PARTIAL_SUFFIX = ".partial"


@dataclass
class PartResult:
    split: str
    part: int
    shards: list[dict] = field(default_factory=list)  # name, samples, bytes
    skipped: list[dict] = field(default_factory=list)  # path, sha256, reason, detail
    histogram: list[int] = field(default_factory=list)
    images_in: int = 0
    seconds: float = 0.0
    resumed_samples: int = 0

    @property
    def samples(self) -> int:
        return sum(shard["samples"] for shard in self.shards)

    @property
    def bytes(self) -> int:
        return sum(shard["bytes"] for shard in self.shards)


def _stem(split: str, part: int) -> str:
    return f"{split}-{part:03d}"


def _shard_index_path(shard_dir: str | Path, shard_name: str) -> str | Path:
    return storage.join(shard_dir, INDEX_DIR, f"{shard_name}.json")


def _done_path(shard_dir: str | Path, split: str, part: int) -> str | Path:
    return storage.join(shard_dir, INDEX_DIR, f"{_stem(split, part)}.done.json")


def _claim_path(shard_dir: str | Path, split: str, part: int) -> str | Path:
    return storage.join(shard_dir, INDEX_DIR, f"{_stem(split, part)}.part.json")


# Settings added after parts were first written, with the value that makes the samples those parts
# hold: at that value a setting is left out of the fingerprint, so an upgrade does not rewrite them.
LATER_SETTINGS = {"keep_small": False}


def part_fingerprint(plan: ShardPlan, split: str, part: int) -> str:
    """What a part's shards are made of: its (path, sha256) list and every shard setting."""
    settings = {name: value for name, value in asdict(plan.settings).items()
                if not (name in LATER_SETTINGS and value == LATER_SETTINGS[name])}
    return identity_of({"items": plan.parts[split][part], "settings": settings})


def _remove_part_files(shard_dir: str | Path, stem: str) -> None:
    """Every file of one part: its shards (complete or partial), their index entries, its done record."""
    for tar in storage.glob(shard_dir, f"{stem}???.tar*"):
        storage.remove(_shard_index_path(shard_dir, storage.name_of(tar)))
        storage.remove(tar)
    for record in storage.glob(storage.join(shard_dir, INDEX_DIR), f"{stem}???.tar.json"):
        storage.remove(record)  # an index entry whose shard is gone
    storage.remove(storage.join(shard_dir, INDEX_DIR, f"{stem}.done.json"))
    storage.remove(storage.join(shard_dir, INDEX_DIR, f"{stem}.part.json"))


def _claim_part(shard_dir: str | Path, split: str, part: int, fingerprint: str) -> None:
    """Keep the part's files when they were made for this fingerprint; otherwise start it afresh."""
    claim = _claim_path(shard_dir, split, part)
    if storage.exists(claim) and same_identity(read_json(claim).get("fingerprint"), fingerprint):
        return
    _remove_part_files(shard_dir, _stem(split, part))
    write_json_atomic(claim, {"fingerprint": fingerprint})


def remove_parts_outside(plan: ShardPlan) -> list[str]:
    """Delete the files of parts a previous plan had and this one does not (say, fewer images kept);
    returns their stems. Parts the plan has are left to write_part's fingerprint check."""
    shard_dir = storage.location(plan.shard_dir)
    current = {_stem(split, part) for split, part in plan.part_ids()}
    found = {storage.name_of(tar)[: -len("???.tar")] for tar in storage.glob(shard_dir, "*-??????.tar")}
    found |= {storage.name_of(path).split(".", 1)[0] for path in storage.glob(storage.join(shard_dir, INDEX_DIR), "*-???.*.json")}
    stale = sorted(stem for stem in found if stem.split("-")[0] in SPLITS and stem not in current)
    for stem in stale:
        _remove_part_files(shard_dir, stem)
    return stale


def save_plan(plan: ShardPlan) -> str | Path:
    """Save the plan, then clear what an earlier plan left in the same folder beyond this one's parts."""
    path = plan.save()
    removed = remove_parts_outside(plan)
    if removed:
        logging.getLogger(__name__).info("removed the shards of %d parts an earlier plan had: %s", len(removed), ", ".join(removed))
    return path


def _existing_shards(shard_dir: str | Path, split: str, part: int) -> list[dict]:
    """Complete shards of this part (those with both the .tar and its index entry); clears partials."""
    stem = _stem(split, part)
    for leftover in storage.glob(shard_dir, f"{stem}???.tar{PARTIAL_SUFFIX}"):
        storage.remove(leftover)
    entries = []
    for tar in storage.glob(shard_dir, f"{stem}???.tar"):
        index = _shard_index_path(shard_dir, storage.name_of(tar))
        if storage.exists(index):
            entries.append(read_json(index))
        else:  # renamed but never indexed cannot happen (index is written first); treat as foreign
            storage.remove(tar)
    return entries


class _AtomicShardSink:
    """ShardWriter that is opened lazily (no empty shards) and publishes each shard atomically: it
    writes `NAME.tar.partial` (safe_files.atomic_output.AtomicFile) and commits it when closed."""

    def __init__(self, shard_dir: str | Path, split: str, part: int, start: int, maxcount: int, maxsize: int) -> None:
        self.shard_dir = shard_dir
        self.pattern = str(storage.join(shard_dir, f"{_stem(split, part)}%03d.tar"))
        self.start, self.maxcount, self.maxsize = start, maxcount, maxsize
        self.writer: wds.ShardWriter | None = None
        self.pending: dict[str, dict] = {}  # shard filename -> keys, histogram
        self.open_files: dict[str, tuple[AtomicFile, BinaryIO]] = {}  # shard filename -> its partial
        self.published: list[dict] = []

    def write(self, record: dict, ab_counts) -> None:
        if self.writer is None:
            # Imported here: webdataset imports torch (over a second), which only a writing process needs,
            # not the flow that plans parts and reads their results.
            import webdataset as wds

            self.writer = wds.ShardWriter(
                self.pattern, maxcount=self.maxcount, maxsize=self.maxsize,
                start_shard=self.start, verbose=0, post=self._publish, opener=self._open,
            )
        self.writer.write(record)
        entry = self.pending.setdefault(self.writer.fname, {"keys": [], "histogram": AbHistogram()})
        entry["keys"].append(record["__key__"])
        entry["histogram"].counts += ab_counts

    def _open(self, name: str) -> BinaryIO:
        shard = AtomicFile(name, temporary=name + PARTIAL_SUFFIX)
        handle = open(shard.path, "wb")
        self.open_files[name] = (shard, handle)
        return handle

    def _publish(self, name: str) -> None:
        shard, handle = self.open_files.pop(name)
        handle.close()
        entry = self.pending.pop(name)
        name = storage.name_of(shard.final)
        index = {
            "name": name,
            "samples": len(entry["keys"]),
            "bytes": shard.path.stat().st_size,
            "keys": entry["keys"],
            "histogram": entry["histogram"].counts.tolist(),
        }
        write_json_atomic(_shard_index_path(self.shard_dir, name), index)
        shard.commit()
        self.published.append(index)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _in_order(pool: ThreadPoolExecutor, function: Callable, items: list, ahead: int) -> Iterator:
    """`function(item)` for every item, at most `ahead` submitted beyond the one being yielded, in order."""
    pending: deque = deque()
    for item in items:
        pending.append(pool.submit(function, item))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


ENCODE_THREADS = 2  # per part: a part left alone at the end of a stage still uses two cores


def write_part(
    plan_path: str | Path, split: str, part: int, progress: Callable[[int, int], None] | None = None,
    threads: int = ENCODE_THREADS,
) -> PartResult:
    """Write (or finish) one part. Safe to call again after any failure or kill."""
    plan = ShardPlan.load(plan_path)
    shard_dir = storage.location(plan.shard_dir)
    _claim_part(shard_dir, split, part, part_fingerprint(plan, split, part))
    done = _done_path(shard_dir, split, part)
    if storage.exists(done):
        return PartResult(**read_json(done))

    started = time.perf_counter()
    items = plan.parts[split][part]
    settings = plan.settings
    existing = _existing_shards(shard_dir, split, part)
    finished_keys = {key for entry in existing for key in entry["keys"]}
    next_number = 1 + max((int(entry["name"][-7:-4]) for entry in existing), default=-1)

    policy = ResizePolicy(settings.short_side, settings.centre_crop, settings.keep_small)
    sink = _AtomicShardSink(shard_dir, split, part, next_number, settings.maxcount, settings.maxsize)
    skipped: list[dict] = []

    def encode(item: list[str]) -> EncodedSample | dict:
        path, digest = item
        try:
            return encode_image_file(path, digest, policy, settings.codec)
        except (ImageRejected, OSError) as error:
            storage.raise_if_transient(error)  # the store unreachable: the task's retry resumes the part
            reason = error.reason if isinstance(error, ImageRejected) else "unreadable"
            return {"path": path, "sha256": digest, "reason": reason, "detail": str(error)}

    # Decode, resize and encode release the GIL (Pillow, the numba kernel), so `threads` samples are
    # made at once inside this process; they are written in plan order, so the shards are the same.
    todo = [item for item in items if item[1] not in finished_keys]
    with ThreadPoolExecutor(max(1, threads)) as pool:
        for position, outcome in enumerate(_in_order(pool, encode, todo, 2 * max(1, threads)), start=1):
            if isinstance(outcome, dict):
                skipped.append(outcome)
            else:
                sink.write(outcome.record, outcome.ab_counts)
            if progress:
                progress(position + len(items) - len(todo), len(items))
    sink.close()

    shards = existing + sink.published
    histogram = AbHistogram()
    for entry in shards:
        histogram.merge(AbHistogram(entry["histogram"]))
    result = PartResult(
        split=split,
        part=part,
        shards=[{"name": s["name"], "samples": s["samples"], "bytes": s["bytes"]} for s in shards],
        skipped=skipped,
        histogram=histogram.counts.tolist(),
        images_in=len(items),
        seconds=time.perf_counter() - started,
        resumed_samples=len(finished_keys),
    )
    write_json_atomic(done, asdict(result))
    return result


def warm_up() -> None:
    """Import what writing a part needs (webdataset, which imports torch) and load the Lab kernel."""
    import webdataset  # noqa: F401

    from preprocessing.shards.lab_planes import warm_up as load_kernel

    load_kernel()
