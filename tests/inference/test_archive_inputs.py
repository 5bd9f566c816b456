"""The real archive as a folder, a zip and a tar.gz: mirrored outputs, ledger, re-runs, originals intact."""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from inference.colorize_run import colorize_input, workspace_of
from inference.colorizer import ColorizeSettings, ledger_version
from inference.output_encoding import output_name
from inference.run_ledger import DONE, RunLedger

SETTINGS = ColorizeSettings(working_size=128)


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def _relative_images(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_folder_input_mirrors_layout_and_reruns_only_new_or_failed(archive_tree, tiny_bundle, tmp_path):
    before = _hashes(archive_tree)
    out = tmp_path / "out"
    first = colorize_input(archive_tree, out, tiny_bundle, SETTINGS)
    inputs = _relative_images(archive_tree)
    assert first.done + first.skipped == len(inputs) and first.failed == 0
    for name in inputs:
        produced = out / name
        if produced.is_file():
            with Image.open(archive_tree / name) as original, Image.open(produced) as colour:
                assert colour.size == original.size and colour.format == original.format
    entries = RunLedger(workspace_of(out)).entries()
    assert {e.source for e in entries.values()} == set(inputs)
    assert all(e.sha256 and e.timings.get("decode") is not None for e in entries.values() if e.status == DONE)
    assert _hashes(archive_tree) == before  # originals never modified

    # A re-run finds everything settled.
    second = colorize_input(archive_tree, out, tiny_bundle, SETTINGS)
    assert second.done == 0 and second.settled == len(inputs)
    # Work whose output is gone is redone, and only that.
    victim = next(e for e in entries.values() if e.status == DONE)
    (out / victim.output).unlink()
    third = colorize_input(archive_tree, out, tiny_bundle, SETTINGS)
    assert third.done == 1 and (out / victim.output).is_file()


def test_new_model_version_redoes_everything(archive_tree, tiny_bundle, tmp_path):
    subset = tmp_path / "subset"
    shutil.copytree(archive_tree / "box-a", subset)
    out = tmp_path / "out"
    assert colorize_input(subset, out, tiny_bundle, SETTINGS).done > 0
    retrained = tmp_path / "bundle-v2"
    shutil.copytree(tiny_bundle, retrained)
    (retrained / "version.txt").write_text("tintype-regression-v2test\n")
    again = colorize_input(subset, out, retrained, SETTINGS)
    assert again.settled == 0 and again.done + again.skipped == len(_relative_images(subset))
    versions = {e.model_version for e in RunLedger(workspace_of(out)).entries().values()}
    # the ledger's version is the model's plus a digest of the non-default output settings (SETTINGS' size)
    assert versions == {ledger_version((tiny_bundle / "version.txt").read_text().strip(), SETTINGS),
                        ledger_version("tintype-regression-v2test", SETTINGS)}


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_archive_inputs_and_zip_output(archive_tree, tiny_bundle, tmp_path, kind):
    archive = tmp_path / f"scans.{kind}"
    names = _relative_images(archive_tree)
    if kind == "zip":
        with zipfile.ZipFile(archive, "w") as bundle:
            for name in names:
                bundle.write(archive_tree / name, name)
    else:
        with tarfile.open(archive, "w:gz") as bundle:
            for name in names:
                bundle.add(archive_tree / name, name)
    archive_hash = hashlib.sha256(archive.read_bytes()).hexdigest()
    out = tmp_path / "colour.zip"
    report = colorize_input(archive, out, tiny_bundle, SETTINGS)
    assert report.done + report.skipped == len(names) and report.failed == 0
    with zipfile.ZipFile(out) as result:
        produced = set(result.namelist())
    expected = {e.output for e in RunLedger(workspace_of(out)).entries().values() if e.status == DONE}
    assert produced == expected and len(produced) == report.done
    assert all(output_name(n, "JPEG" if n.endswith(".jpg") else "PNG") in produced for n in names if n in produced)
    assert not any((workspace_of(out) / "staged").rglob("*.jpg"))  # packed, staging emptied
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == archive_hash
    assert colorize_input(archive, out, tiny_bundle, SETTINGS).settled == report.done + report.skipped
