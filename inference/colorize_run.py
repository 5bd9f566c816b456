"""One colorization run: plan (list the input into batches), colorize batches, finalize.

The flow runs these as tasks; `colorize_input` runs them in one call (tests, benchmarks,
notebooks). The plan is a JSON file in the output's workspace, so tasks pass only its path and a
batch index. Inputs and outputs never overlap: an output inside a directory input is refused (a
later run would read its own results as new inputs). INPUT and OUTPUT may be object-store URLs
(`s3://bucket/archive.zip`, `s3://bucket/colorized`): plans and the ledger then live on the store.
"""

from __future__ import annotations

import functools
import shutil
import tarfile
import time
import uuid
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from inference.archive_members import MemberProblem, MemberRef, is_archive, list_members
from inference.batch_colorize import BatchReport, colorize_members
from inference.colorizer import Colorizer, ColorizeSettings, ledger_version
from inference.inbox_index import InboxIndex, entry_of
from inference.model_loading import VERSION_FILE, resolve_bundle
from inference.output_target import open_output
from inference.previews import PREVIEWS_FOLDER, build_contact_sheet
from inference.run_ledger import FAILED, RunLedger
from safe_files import data_root_storage as storage
from safe_files.atomic_output import read_json, write_json_atomic
from safe_files.identity import same_version

PLANS_FOLDER = "plans"
SPOOL_FOLDER = "spool"  # compressed tars decompressed once per run (archive_members.spooled_tar)
MAX_SHEET_PAIRS = 12
DEFAULT_BATCH_IMAGES = 64  # images per flow task: small enough to retry cheaply


@dataclass
class ColorizePlan:
    source: str
    output: str
    batches: list[list[dict]] = field(default_factory=list)  # MemberRef / MemberProblem as dicts
    created_at: float = 0.0
    # Inbox mode: each planned entry's fingerprint when it was planned (InboxIndex.fingerprint). The run
    # remembers these, not the entry as it is afterwards: a file replaced mid-run is planned again.
    inbox_fingerprints: dict[str, dict] = field(default_factory=dict)

    @property
    def images(self) -> int:
        return sum(1 for batch in self.batches for item in batch if "inner" in item)

    def items(self, index: int) -> list[MemberRef | MemberProblem]:
        return [_item(record) for record in self.batches[index]]

    @classmethod
    def load(cls, path: str | Path) -> "ColorizePlan":
        return cls(**read_json(path))


def check_no_overlap(source: str | Path, output: str | Path) -> None:
    if storage.is_remote(source) or storage.is_remote(output):
        source_text, output_text = str(source).rstrip("/"), str(output).rstrip("/")
        if output_text == source_text:
            raise ValueError(f"output {output} is the input, and originals are never overwritten; choose another output")
        if output_text.startswith(source_text + "/"):
            raise ValueError(f"output {output} is inside the input folder {source}; pick a folder outside it")
        return
    source, output = storage.local_path(source), storage.local_path(output)
    real_source, real_output = source.resolve(), output.resolve()
    if real_output == real_source:
        raise ValueError(f"output {output} is the input, and originals are never overwritten; choose another output")
    if real_source.is_dir() and real_output.is_relative_to(real_source):
        raise ValueError(f"output {output} is inside the input folder {source}; pick a folder outside it")


def plan_run(source: str | Path, output: str | Path, batch_images: int = DEFAULT_BATCH_IMAGES) -> str | Path:
    """List the input (names only, nothing decoded) into batches; returns the plan file's location."""
    source = storage.location(source)
    check_no_overlap(source, output)
    target = open_output(output)
    batches: list[list[dict]] = [[]]

    def add(item: MemberRef | MemberProblem) -> None:
        if len(batches[-1]) >= batch_images:
            batches.append([])
        batches[-1].append(asdict(item))

    try:
        for item in list_members(source, expand_archives=True):
            add(item)
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as error:
        if not (storage.is_file(source) and is_archive(str(source))):
            raise
        # A damaged archive: what was listed before the damage is still colorized; the rest is one
        # failure in the ledger, not a crash of the whole run.
        add(MemberProblem(storage.name_of(source), "corrupt", f"unreadable archive: {error}"))
    plan = ColorizePlan(str(source), str(output), [b for b in batches if b], time.time())
    path = storage.join(target.workspace, PLANS_FOLDER, f"plan-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}.json")
    write_json_atomic(path, asdict(plan))
    return path


@functools.lru_cache(maxsize=2)
def _cached_colorizer(bundle: str, version: str, settings: ColorizeSettings, device: str) -> Colorizer:
    return Colorizer.from_bundle(str(resolve_bundle(bundle)), settings, device)


def cached_colorizer(bundle: str, settings: ColorizeSettings, device: str) -> Colorizer:
    """One loaded model per process, shared by the batches (tasks) that run in it. Keyed by the bundle's
    version too: a bundle re-exported at the same path (a long-lived `--inbox --every`, a notebook) is
    loaded again, not served from memory under the new version's name."""
    return _cached_colorizer(bundle, bundle_version(bundle), settings, device)


def colorize_planned_batch(
    plan_path: str | Path,
    index: int,
    bundle: str,
    settings: ColorizeSettings,
    device: str = "cpu",
    model_batch: int = 4,
    workers: int = 2,
    on_image: Callable | None = None,
    previews: int = 3,
) -> BatchReport:
    plan = ColorizePlan.load(plan_path)
    target = open_output(plan.output)
    colorizer = cached_colorizer(str(bundle), settings, device)
    return colorize_members(
        plan.items(index), target, colorizer, RunLedger(target.workspace), label=f"b{index:05d}",
        batch_size=model_batch, workers=workers, on_image=on_image,
        previews=previews, preview_dir=target.scratch / PREVIEWS_FOLDER / plan_id(plan_path),
        input_names=(record["name"] for batch in plan.batches for record in batch if "inner" in record),
        spool_dir=target.scratch / SPOOL_FOLDER,
    )


def plan_id(plan_path: str | Path) -> str:
    return Path(plan_path).stem


def write_contact_sheet(plan_path: str | Path) -> Path | None:
    """The run's before/after pairs tiled into `<workspace>/previews/<plan>.png` (an object-store
    output: its local scratch folder)."""
    plan = ColorizePlan.load(plan_path)
    folder = open_output(plan.output).scratch / PREVIEWS_FOLDER
    pairs = sorted((folder / plan_id(plan_path)).glob("*.png"))[:MAX_SHEET_PAIRS]
    return build_contact_sheet(pairs, folder / f"{plan_id(plan_path)}.png")


def finalize_run(output: str | Path) -> str | Path:
    """Fold the ledger parts into ledger.json, pack a zip output, clear leftovers; returns the ledger."""
    target = open_output(output)
    target.finalize()
    shutil.rmtree(target.scratch / SPOOL_FOLDER, ignore_errors=True)
    return RunLedger(target.workspace).compact()


def colorize_input(
    source: str | Path,
    output: str | Path,
    bundle: str | Path,
    settings: ColorizeSettings | None = None,
    device: str = "cpu",
    model_batch: int = 4,
    workers: int = 2,
    on_image: Callable | None = None,
) -> BatchReport:
    """The whole run in this process (what the colorize-archive flow does as tasks)."""
    settings = settings or ColorizeSettings()
    plan_path = plan_run(source, output)
    report = BatchReport()
    started = time.perf_counter()
    for index in range(len(ColorizePlan.load(plan_path).batches)):
        report.merge(colorize_planned_batch(plan_path, index, str(bundle), settings, device, model_batch, workers, on_image))
    finalize_run(output)
    write_contact_sheet(plan_path)
    report.seconds = time.perf_counter() - started
    return report


def workspace_of(output: str | Path) -> str | Path:
    return open_output(output).workspace


def filter_plan_for_inbox(plan_path: str | Path, bundle: str | Path, settings: ColorizeSettings = ColorizeSettings()) -> str | Path:
    """Inbox mode: drop the entries a previous run finished under this model version and these output
    settings (colorizer.ledger_version). Writes a new
    plan file beside the listing (which the planning cache may hand to the next run unchanged)."""
    plan = ColorizePlan.load(plan_path)
    version = ledger_version(bundle_version(bundle), settings)
    index = InboxIndex(open_output(plan.output).workspace, plan.source)
    batch_images = max((len(batch) for batch in plan.batches), default=DEFAULT_BATCH_IMAGES)
    kept = [item for batch in plan.batches for item in batch if not index.is_seen(entry_of(_item(item)), version)]
    plan.batches = [kept[i : i + batch_images] for i in range(0, len(kept), batch_images)]
    plan.inbox_fingerprints = {entry: fingerprint for entry in sorted({entry_of(_item(item)) for item in kept})
                               if (fingerprint := index.fingerprint(entry, version)) is not None}
    filtered = storage.join(storage.parent_of(plan_path), f"{plan_id(plan_path)}-inbox-{version[:16]}.json")
    write_json_atomic(filtered, asdict(plan))
    return filtered


def mark_inbox_entries(plan_path: str | Path, bundle: str | Path, settings: ColorizeSettings = ColorizeSettings()) -> None:
    """After a run: remember the inbox entries whose every image is settled (none failed), each as it
    was when planned."""
    plan = ColorizePlan.load(plan_path)
    version = ledger_version(bundle_version(bundle), settings)
    workspace = open_output(plan.output).workspace
    failed_sources = {e.source for e in RunLedger(workspace).entries().values() if same_version(e.model_version, version) and e.status == FAILED}
    entries: dict[str, bool] = {}
    for batch in plan.batches:
        for record in batch:
            item = _item(record)
            entry = entry_of(item)
            entries[entry] = entries.get(entry, True) and item.name not in failed_sources
    InboxIndex(workspace, plan.source).mark(
        {entry: plan.inbox_fingerprints[entry] for entry, clean in entries.items() if clean and entry in plan.inbox_fingerprints})


def bundle_version(bundle: str | Path) -> str:
    """The bundle's version.txt (a bundle URL: its cached copy's, fetched first if the version is new)."""
    return (resolve_bundle(bundle) / VERSION_FILE).read_text().strip()


def _item(record: dict) -> MemberRef | MemberProblem:
    return MemberRef(**record) if "inner" in record else MemberProblem(**record)
