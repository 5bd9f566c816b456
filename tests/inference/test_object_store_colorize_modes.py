"""colorize's other ways in and out on a real S3 server on 127.0.0.1: a list file on the store (relative
lines and URLs) and a local list naming objects, a .zip output in the bucket under SIGKILL and a re-run,
and a model bundle given as its URL (downloaded whole once per version). Each gives the same pixels as
its local-path equivalent."""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inference.colorize_run import colorize_input, workspace_of
from inference.colorizer import ColorizeSettings
from inference.model_loading import fetched_bundle
from safe_files import data_root_storage as storage
from tests.conftest import shared_folder
from tests.inference.killed_colorize import done_outputs, kill_after

SETTINGS = ColorizeSettings(working_size=64)
SMALL_PHOTOS = ("1920sFamilyPhoto.jpg", "NorwegianBride1920s.jpg", "LondonGarbageTruck1910.jpg", "1860sSamauris.png",
                "1900sSaloon.jpg", "ClassDivide1930sBrittain.jpg")


def _photos(count: int) -> list[Path]:
    folder = shared_folder("bw-archive")
    return [folder / name for name in SMALL_PHOTOS[:count]]


def _pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def _upload_folder(local: Path, url: str) -> None:
    for file in sorted(p for p in local.rglob("*") if p.is_file()):
        storage.upload_whole(file, f"{url}/{file.relative_to(local).as_posix()}")


def _folder_outputs(out: str | Path) -> dict[str, np.ndarray]:
    """output name -> pixels of every output (the workspace left out), local folder or bucket."""
    if storage.is_remote(out):
        return {name: _pixels(storage.read_bytes(url)) for url, name, _ in storage.walk_names(out) if not name.startswith(".tintype/")}
    return {p.relative_to(out).as_posix(): _pixels(p.read_bytes()) for p in Path(out).rglob("*")
            if p.is_file() and ".tintype" not in p.relative_to(out).parts}


def _zip_outputs(data: bytes) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(io.BytesIO(data)) as packed:
        names = packed.namelist()
        assert len(names) == len(set(names)), "a member is in the zip twice"
        assert packed.testzip() is None
        return {name: _pixels(packed.read(name)) for name in names}


def _assert_same_pixels(got: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    assert sorted(got) == sorted(expected)
    for name in expected:
        assert np.array_equal(got[name], expected[name]), name


def test_a_list_file_on_the_store_reads_relative_lines_and_urls_like_a_local_list(s3_bucket, tiny_bundle, tmp_path):
    photos = _photos(4)
    local = tmp_path / "in"
    (local / "box").mkdir(parents=True)
    for photo in photos[:3]:
        shutil.copyfile(photo, local / "box" / photo.name)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copyfile(photos[3], elsewhere / photos[3].name)
    relative = [f"box/{photo.name}" for photo in photos[:3]]
    (local / "list.txt").write_text("\n".join(["# the scans", *relative, str(elsewhere / photos[3].name), "box/gone.jpg"]) + "\n")

    _upload_folder(local / "box", f"{s3_bucket}/in/box")
    storage.upload_whole(photos[3], f"{s3_bucket}/elsewhere/{photos[3].name}")
    remote_list = "\n".join(["# the scans", *relative, f"{s3_bucket}/elsewhere/{photos[3].name}", "box/gone.jpg"]) + "\n"
    storage.write_whole(f"{s3_bucket}/in/list.txt", remote_list.encode())

    expected = colorize_input(local / "list.txt", tmp_path / "out", tiny_bundle, SETTINGS)
    report = colorize_input(f"{s3_bucket}/in/list.txt", f"{s3_bucket}/out", tiny_bundle, SETTINGS)
    assert report.done == expected.done == 4 and report.failed == expected.failed == 1  # the missing line, reported
    [failure] = report.failures
    assert "box/gone.jpg" in str(failure)
    got, wanted = _folder_outputs(f"{s3_bucket}/out"), _folder_outputs(tmp_path / "out")
    # A line outside the list's folder keeps its whole path minus the root: the bucket, or the local root.
    outside_got = [name for name in got if not name.startswith("box/")]
    outside_wanted = [name for name in wanted if not name.startswith("box/")]
    assert outside_got == [f"{s3_bucket.split('://')[1]}/elsewhere/{photos[3].name}"] and len(outside_wanted) == 1
    got[outside_wanted[0]] = got.pop(outside_got[0])
    _assert_same_pixels(got, wanted)

    # A local list naming objects by URL: read in place too.
    (tmp_path / "urls.txt").write_text("".join(f"{s3_bucket}/in/{line}\n" for line in relative))
    by_url = colorize_input(tmp_path / "urls.txt", tmp_path / "out-urls", tiny_bundle, SETTINGS)
    assert by_url.done == 3 and by_url.failed == 0
    prefix = f"{s3_bucket.split('://')[1]}/in/"
    _assert_same_pixels({name.removeprefix(prefix): pixels for name, pixels in _folder_outputs(tmp_path / "out-urls").items()},
                        {name: wanted[name] for name in relative})


def test_a_zip_output_in_the_bucket_survives_a_kill_and_resumes_complete(s3_bucket, tiny_bundle, tmp_path):
    source = tmp_path / "in"
    for index, photo in enumerate(_photos(6)):
        folder = source / ("a" if index % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(photo, folder / photo.name)
    out = f"{s3_bucket}/colour.zip"

    def whole_or_absent() -> None:
        if storage.exists(out):
            _zip_outputs(storage.read_bytes(out))

    kill_after(source, out, tiny_bundle, done_at_least=2, working_size=64, pause_s=0.5, while_waiting=whole_or_absent)
    assert not storage.exists(out)  # packed only at the end: never a partial object under the final name
    killed_with = done_outputs(out)
    assert 2 <= len(killed_with) < 6
    staged = {name for _url, name, _size in storage.walk_names(f"{workspace_of(out)}/staged")}
    assert set(killed_with.values()) <= staged  # every recorded output is already stored, staged
    # What a kill during packing leaves: a local pack in the work folder; the re-run clears it.
    leftover = storage.local_work_folder(out, "zip-pack") / "pack-1.tmp"
    leftover.write_bytes(b"PK half a zip")

    report = colorize_input(source, out, tiny_bundle, SETTINGS, model_batch=1)  # as the killed child ran: the same pixels
    assert report.failed == 0 and report.settled >= len(killed_with) and report.done + report.settled == 6
    assert not leftover.exists()
    assert not storage.list_files(f"{workspace_of(out)}/staged", recursive=True)  # all packed, staging emptied
    packed = _zip_outputs(storage.read_bytes(out))
    assert set(packed) == set(done_outputs(out).values())
    expected = colorize_input(source, tmp_path / "colour.zip", tiny_bundle, SETTINGS, model_batch=1)
    assert expected.done == 6
    _assert_same_pixels(packed, _zip_outputs((tmp_path / "colour.zip").read_bytes()))

    version = storage.version_of(out)
    again = colorize_input(source, out, tiny_bundle, SETTINGS)
    assert again.done == 0 and again.failed == 0 and again.settled == 6
    assert storage.version_of(out) == version  # nothing staged: the zip is not rewritten


def test_a_bundle_url_is_downloaded_once_per_version_and_colorizes_like_the_local_bundle(s3_bucket, tiny_bundle, tmp_path, monkeypatch):
    url = f"{s3_bucket}/bundles/b1"
    with pytest.raises(FileNotFoundError, match=rf"no model bundle at {url} \(no version.txt"):
        fetched_bundle(url)
    for file in sorted(p for p in tiny_bundle.rglob("*") if p.is_file() and p.name != "version.txt"):
        storage.upload_whole(file, f"{url}/{file.relative_to(tiny_bundle).as_posix()}")
    with pytest.raises(FileNotFoundError, match="its upload has not finished"):  # version.txt comes last
        fetched_bundle(url)
    storage.upload_whole(tiny_bundle / "version.txt", f"{url}/version.txt")
    monkeypatch.setenv("TINTYPE_WORK_DIR", str(tmp_path / "work"))

    downloads: list[str] = []
    real_download = storage.download_whole
    monkeypatch.setattr(storage, "download_whole", lambda remote, local: (downloads.append(str(remote)), real_download(remote, local)))
    cached = fetched_bundle(url)
    assert {p.relative_to(cached) for p in cached.rglob("*") if p.is_file()} == \
        {p.relative_to(tiny_bundle) for p in tiny_bundle.rglob("*") if p.is_file()}
    assert all((cached / p.relative_to(tiny_bundle)).read_bytes() == p.read_bytes() for p in tiny_bundle.rglob("*") if p.is_file())
    fetched = len(downloads)
    assert fetched_bundle(url + "/") == cached and len(downloads) == fetched  # the same version: the cache, no download

    source = tmp_path / "in"
    source.mkdir()
    for photo in _photos(3):
        shutil.copyfile(photo, source / photo.name)
    by_url = colorize_input(source, tmp_path / "by-url", url, SETTINGS)
    by_path = colorize_input(source, tmp_path / "by-path", tiny_bundle, SETTINGS)
    assert by_url.done == by_path.done == 3
    _assert_same_pixels(_folder_outputs(tmp_path / "by-url"), _folder_outputs(tmp_path / "by-path"))

    # A new version under the same URL: downloaded again into its own folder, the old copy dropped.
    storage.write_whole(f"{url}/version.txt", b"re-exported\n")
    renewed = fetched_bundle(url)
    assert renewed != cached and (renewed / "version.txt").read_text() == "re-exported\n" and not cached.exists()


def test_a_missing_bundle_url_ends_tintype_colorize_with_one_line(s3_bucket, tmp_path):
    from tests.cli.test_refusals import assert_refused, tintype

    storage.upload_whole(_photos(1)[0], f"{s3_bucket}/in/{_photos(1)[0].name}")
    done = tintype("colorize", f"{s3_bucket}/in", f"{s3_bucket}/out", "--model", f"{s3_bucket}/bundles/none",
                   env={**os.environ, "TINTYPE_WORK_DIR": str(tmp_path / "work")})
    assert_refused(done, f"no model bundle at {s3_bucket}/bundles/none", "--model")
    assert not storage.list_files(f"{s3_bucket}/out", recursive=True)  # refused before anything was written
