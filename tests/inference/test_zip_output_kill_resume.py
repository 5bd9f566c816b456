"""A .zip OUTPUT under SIGKILL: the zip is only ever absent or whole (packed under a temporary name,
then renamed), and a re-run after the kill gives a complete zip holding each output exactly once."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from PIL import Image

from inference.colorize_run import colorize_input, workspace_of
from inference.colorizer import ColorizeSettings
from inference.run_ledger import RunLedger
from tests.inference.killed_colorize import done_outputs, kill_after
from tests.model_inputs import archive_sample

SETTINGS = ColorizeSettings(working_size=64)


def _assert_whole_or_absent(zip_path: Path) -> None:
    if zip_path.exists():
        with zipfile.ZipFile(zip_path) as packed:
            assert packed.testzip() is None


def test_zip_output_survives_a_kill_and_resumes_complete(tiny_bundle, tmp_path):
    source = tmp_path / "in"
    for index, photo in enumerate(archive_sample()[:10]):
        folder = source / ("a" if index % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(photo, folder / photo.name)
    out = tmp_path / "colour.zip"
    kill_after(source, out, tiny_bundle, done_at_least=3, working_size=64, pause_s=0.4,
               while_waiting=lambda: _assert_whole_or_absent(out))
    _assert_whole_or_absent(out)
    killed_with = done_outputs(out)
    assert 3 <= len(killed_with) < 10
    # What a kill during packing leaves: a hidden temporary beside the zip; the re-run clears it.
    (tmp_path / f".{out.name}.leftover.tmp").write_bytes(b"PK half a zip")

    report = colorize_input(source, out, tiny_bundle, SETTINGS)
    assert report.settled >= len(killed_with) and report.failed == 0
    done = done_outputs(out)
    assert set(done) | {e.source for e in RunLedger(workspace_of(out)).entries().values()} == {
        p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()}
    with zipfile.ZipFile(out) as packed:
        names = packed.namelist()
        assert len(names) == len(set(names)), "a member is in the zip twice"
        assert set(names) == set(done.values())
        for name in names:
            with packed.open(name) as member, Image.open(member) as image:
                image.load()  # every member whole and decodable
    assert not [p for p in (workspace_of(out) / "staged").rglob("*") if p.is_file() and ".tintype" not in p.parts]
    assert not list(tmp_path.glob(f".{out.name}.*.tmp"))  # no half-written zip left beside it

    again = colorize_input(source, out, tiny_bundle, SETTINGS)
    assert again.done == 0 and again.failed == 0 and again.settled == report.done + report.settled + report.skipped
    with zipfile.ZipFile(out) as packed:
        assert sorted(packed.namelist()) == sorted(names)
