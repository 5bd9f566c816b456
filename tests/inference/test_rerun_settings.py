"""A re-run into the same output with other output settings (or another model, and back) redoes the
images, and calls settled only outputs that still hold what this model and these settings made."""

from __future__ import annotations

import hashlib
import shutil

from inference.colorize_run import colorize_input, workspace_of
from inference.colorizer import ColorizeSettings, ledger_version
from inference.model_loading import resolve_bundle
from inference.run_ledger import RunLedger
from tests.model_inputs import archive_sample


def _digests(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.jpg"))}


def test_other_settings_redo_and_going_back_redoes_what_was_overwritten(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    for photo in [p for p in archive_sample() if p.suffix.lower() == ".jpg"][:3]:
        shutil.copyfile(photo, scans / photo.name)
    out = tmp_path / "out"
    fast = resolve_bundle("fast")
    plain, muted = ColorizeSettings(working_size=64), ColorizeSettings(working_size=64, saturation=0.3)

    first = colorize_input(scans, out, fast, plain, workers=1)
    assert first.done == 3
    made_plain = _digests(out)
    again = colorize_input(scans, out, fast, plain, workers=1)
    assert again.settled == 3 and again.done == 0  # unchanged settings: nothing to do

    other = colorize_input(scans, out, fast, muted, workers=1)
    assert other.done == 3 and other.settled == 0  # before: all three "settled", old outputs kept
    assert set(_digests(out).values()).isdisjoint(made_plain.values())
    assert colorize_input(scans, out, fast, muted, workers=1).settled == 3

    back = colorize_input(scans, out, fast, plain, workers=1)
    assert back.done == 3  # the outputs now hold the muted run's pictures: not settled for the plain one
    assert _digests(out) == made_plain

    versions = {entry.model_version for entry in RunLedger(workspace_of(out)).entries().values()}
    plain_version = (fast / "version.txt").read_text().strip()
    assert versions == {ledger_version(plain_version, plain), ledger_version(plain_version, muted)}
    assert ledger_version(plain_version, ColorizeSettings()) == plain_version  # defaults: older ledgers still match
