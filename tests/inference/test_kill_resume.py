"""SIGKILL a colorization mid-run, then resume: finished work is kept, nothing is half-written."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from inference.colorize_run import colorize_input, workspace_of
from inference.colorizer import ColorizeSettings
from inference.run_ledger import DONE, RunLedger
from tests.inference.killed_colorize import done_outputs, kill_after

SETTINGS = ColorizeSettings(working_size=128)


def _done(out: Path) -> set[str]:
    return set(done_outputs(out))


def test_kill_and_resume(archive_tree, tiny_bundle, tmp_path):
    out = tmp_path / "out"
    kill_after(archive_tree, out, tiny_bundle, done_at_least=4, working_size=128, pause_s=0.5)
    before_resume = _done(out)
    assert 4 <= len(before_resume) < 20

    report = colorize_input(archive_tree, out, tiny_bundle, SETTINGS)
    assert report.settled >= len(before_resume)  # finished work is not redone
    assert report.failed == 0
    inputs = sorted(p.relative_to(archive_tree).as_posix() for p in archive_tree.rglob("*") if p.is_file())
    entries = RunLedger(workspace_of(out)).entries().values()
    assert {e.source for e in entries} == set(inputs)
    assert not list(RunLedger(workspace_of(out)).parts.glob("*.json"))  # compacted
    assert not [p for p in out.rglob("*.tmp") if ".tintype" not in p.parts]  # no half-written leftovers
    for entry in entries:
        if entry.status == DONE:
            with Image.open(out / entry.output) as image:
                image.load()  # whole, decodable
                assert image.size == (entry.width, entry.height)
