"""Identical bytes at several paths are colorized once; the other outputs are copies of that result.

Copies inside one batch (the first is still in flight) and across batches (the first is in the
ledger) are both covered; every path is `done` in the ledger and a re-run does nothing."""

from __future__ import annotations

import shutil

from inference.colorize_run import (
    ColorizePlan,
    colorize_planned_batch,
    finalize_run,
    plan_run,
    workspace_of,
)
from inference.colorizer import ColorizeSettings
from inference.run_ledger import DONE, RunLedger
from tests.model_inputs import archive_sample

SETTINGS = ColorizeSettings(working_size=64, force=True)
SAME = ["a/p.jpg", "a/q.jpg", "c/s.jpg"]  # batches of 2: [a/p, a/q], [b/r, c/s]


def _run(source, out, bundle):
    plan_path = plan_run(source, out, batch_images=2)
    reports = [colorize_planned_batch(plan_path, i, str(bundle), SETTINGS, previews=0)
               for i in range(len(ColorizePlan.load(plan_path).batches))]
    finalize_run(out)
    return reports


def test_same_bytes_colorized_once_and_copied(tiny_bundle, tmp_path):
    jpgs = [p for p in archive_sample() if p.suffix.lower() == ".jpg"]
    source = tmp_path / "in"
    for name, photo in [("a/p.jpg", jpgs[0]), ("a/q.jpg", jpgs[0]), ("b/r.jpg", jpgs[1]), ("c/s.jpg", jpgs[0])]:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(photo, source / name)
    out = tmp_path / "out"

    reports = _run(source, out, tiny_bundle)
    assert sum(r.done for r in reports) == 4 and sum(r.failed for r in reports) == 0
    entries = {e.source: e for e in RunLedger(workspace_of(out)).entries().values()}
    assert all(entries[name].status == DONE for name in SAME + ["b/r.jpg"])
    modelled = [name for name in SAME if "model" in entries[name].timings]
    assert modelled == ["a/p.jpg"], f"colorized more than once: {modelled}"
    assert [entries[name].copy_of for name in SAME] == [None, "a/p.jpg", "a/p.jpg"]
    first = (out / "a/p.jpg").read_bytes()
    assert all((out / name).read_bytes() == first for name in SAME)
    assert (out / "b/r.jpg").read_bytes() != first

    assert sum(r.settled for r in _run(source, out, tiny_bundle)) == 4  # a re-run does nothing
    (out / "c/s.jpg").unlink()  # a lost copy is copied again, not recolorized
    redo = _run(source, out, tiny_bundle)
    assert sum(r.done for r in redo) == 1 and sum(r.settled for r in redo) == 3
    entry = next(e for e in RunLedger(workspace_of(out)).entries().values() if e.source == "c/s.jpg")
    assert "model" not in entry.timings and (out / "c/s.jpg").read_bytes() == first
