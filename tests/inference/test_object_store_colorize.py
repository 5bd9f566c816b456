"""colorize from s3:// to s3:// against a real S3 server on 127.0.0.1: an archive and a folder read in
place, outputs and the ledger written to the bucket, a re-run that redoes nothing, and a SIGKILL mid-run
then a re-run: no output missing, none twice, every object whole."""

from __future__ import annotations

import io
import zipfile

from PIL import Image

from inference.colorize_run import colorize_input, workspace_of
from inference.colorizer import ColorizeSettings
from inference.run_ledger import DONE, LEDGER_FILE, RunLedger
from safe_files import data_root_storage as storage
from tests.inference.killed_colorize import done_outputs, kill_after
from tests.model_inputs import archive_sample

SETTINGS = ColorizeSettings(working_size=128)


def _upload_folder(local, url: str) -> None:
    filesystem, path = storage.filesystem_of(url)
    for file in sorted(p for p in local.rglob("*") if p.is_file()):
        filesystem.put_file(str(file), f"{path}/{file.relative_to(local).as_posix()}")


def _objects(url: str) -> dict[str, int]:
    """name below `url` -> size, for every object there."""
    return {name: size for _url, name, size in storage.walk_names(url)}


def _assert_whole_outputs(out: str, sources: set[str]) -> None:
    """Every source has exactly one done entry whose output object decodes at the recorded size, and
    the bucket holds nothing else but the workspace."""
    entries = [e for e in RunLedger(workspace_of(out)).entries().values() if e.status == DONE]
    assert sorted(e.source for e in entries) == sorted(sources)  # each input once
    outputs = {e.output for e in entries}
    assert len(outputs) == len(entries)  # no two inputs share an output
    stored = {name for name in _objects(out) if not name.startswith(".tintype/")}
    assert stored == outputs  # nothing missing, nothing extra (no partial or duplicate objects)
    for entry in entries:
        with Image.open(io.BytesIO(storage.read_bytes(f"{out}/{entry.output}"))) as image:
            image.load()
            assert image.size == (entry.width, entry.height)


def test_an_archive_on_s3_is_colorized_into_s3_and_a_rerun_redoes_nothing(s3_bucket, tiny_bundle, tmp_path):
    photos = archive_sample(8)
    archive = tmp_path / "prints.zip"
    with zipfile.ZipFile(archive, "w") as packed:
        for photo in photos:
            packed.write(photo, f"prints/{photo.name}")
    storage.upload_whole(archive, f"{s3_bucket}/in/prints.zip")
    out = f"{s3_bucket}/colorized"

    first = colorize_input(f"{s3_bucket}/in/prints.zip", out, tiny_bundle, SETTINGS)
    assert first.done == len(photos) and first.failed == 0
    sources = {f"prints/{photo.name}" for photo in photos}
    _assert_whole_outputs(out, sources)
    assert storage.is_file(f"{out}/.tintype/{LEDGER_FILE}")
    assert not storage.list_files(f"{out}/.tintype/ledger-parts")  # folded into ledger.json
    before = _objects(out)

    again = colorize_input(f"{s3_bucket}/in/prints.zip", out, tiny_bundle, SETTINGS)
    assert again.done == 0 and again.settled == len(photos)
    assert {k: v for k, v in _objects(out).items() if "/plans/" not in k and k != f".tintype/{LEDGER_FILE}"} == \
        {k: v for k, v in before.items() if "/plans/" not in k and k != f".tintype/{LEDGER_FILE}"}


def test_a_killed_run_from_an_s3_folder_resumes_with_nothing_lost_or_twice(s3_bucket, archive_tree, tiny_bundle):
    source, out = f"{s3_bucket}/archive", f"{s3_bucket}/colorized"
    _upload_folder(archive_tree, source)
    kill_after(source, out, tiny_bundle, done_at_least=4, working_size=128, pause_s=0.5)
    finished_before = done_outputs(out)
    sources = {p.relative_to(archive_tree).as_posix() for p in archive_tree.rglob("*") if p.is_file()}
    assert 4 <= len(finished_before) < len(sources)

    report = colorize_input(source, out, tiny_bundle, SETTINGS)
    assert report.failed == 0 and report.settled >= len(finished_before)  # finished work is not redone
    assert report.done + report.settled == len(sources)
    _assert_whole_outputs(out, sources)
    assert done_outputs(out) | finished_before == done_outputs(out)  # the same names as before the kill


def test_an_output_inside_the_input_folder_or_a_missing_input_is_refused(s3_bucket, tiny_bundle):
    import pytest

    with pytest.raises(ValueError, match="inside the input folder"):
        colorize_input(f"{s3_bucket}/archive", f"{s3_bucket}/archive/colorized", tiny_bundle, SETTINGS)
    with pytest.raises(FileNotFoundError, match="input not found: s3://"):
        colorize_input(f"{s3_bucket}/nothing-here", f"{s3_bucket}/colorized", tiny_bundle, SETTINGS)


def test_object_keys_are_names_like_any_other_and_hostile_ones_are_refused(s3_bucket, tmp_path):
    from inference.archive_members import MemberProblem, MemberRef, list_members, read_members

    photo = archive_sample(1)[0]
    filesystem, path = storage.filesystem_of(s3_bucket)
    filesystem.put_file(str(photo), f"{path}/prints/box/{photo.name}")
    filesystem.pipe_file(f"{path}/prints/notes.txt", b"not a photo")
    filesystem.pipe_file(f"{path}/prints/box\\..\\..\\escape.jpg", photo.read_bytes())  # climbs out on Windows
    filesystem.pipe_file(f"{path}/prints/.hidden/skip.jpg", photo.read_bytes())
    listed = list(list_members(f"{s3_bucket}/prints"))
    refs = [item for item in listed if isinstance(item, MemberRef)]
    problems = {item.reason for item in listed if isinstance(item, MemberProblem)}
    assert [ref.name for ref in refs] == [f"box/{photo.name}"]
    assert problems == {"not-image", "unsafe-path"}
    [(ref, data)] = list(read_members(refs))
    assert data == photo.read_bytes()
