"""Hostile inputs: zip-slip names, links, bombs, truncated and non-image members.

Nothing may be written outside OUTPUT, nothing may crash the run, and every problem must be in
the ledger with its reason.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

from PIL import Image

from inference.colorize_run import colorize_input, workspace_of
from inference.colorizer import ColorizeSettings
from inference.run_ledger import DONE, FAILED, SKIPPED, RunLedger
from tests.model_inputs import archive_sample

SETTINGS = ColorizeSettings(working_size=64)


def _jpeg() -> bytes:
    image = Image.open(archive_sample()[2]).convert("L")
    image.thumbnail((200, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _pixel_bomb_png() -> bytes:
    """A valid tiny PNG whose header claims 30000 x 30000 pixels."""
    buffer = io.BytesIO()
    Image.new("L", (16, 16)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    ihdr = bytearray(data[16:29])
    ihdr[0:8] = struct.pack(">II", 30000, 30000)
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)) & 0xFFFFFFFF)
    return bytes(data)


def _snapshot(root: Path, exclude: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p): (p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in root.rglob("*")
        if not p.is_relative_to(exclude) and (p.is_file() or p.is_symlink())
    }


def _reasons(out: Path) -> dict[str, tuple[str, str | None]]:
    return {e.source: (e.status, e.reason) for e in RunLedger(workspace_of(out)).entries().values()}


def _assert_contained(tmp_path: Path, out: Path, before: dict) -> None:
    assert _snapshot(tmp_path, out) == before  # nothing created or changed outside OUTPUT
    assert not list(tmp_path.parent.rglob("evil*"))
    real_out = out.resolve()
    for path in out.rglob("*"):
        assert Path(os.path.realpath(path)).is_relative_to(real_out)


def test_hostile_zip(tiny_bundle, tmp_path):
    jpeg = _jpeg()
    archive = tmp_path / "in" / "hostile.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("good.jpg", jpeg)
        bundle.writestr("../evil.jpg", jpeg)
        bundle.writestr("/tmp/evil-absolute.jpg", jpeg)
        bundle.writestr("box/../../evil-climb.jpg", jpeg)
        bundle.writestr("bomb.jpg", b"\0" * (24 * 1024 * 1024))  # ~1000:1
        bundle.writestr("pixel-bomb.png", _pixel_bomb_png())
        bundle.writestr("truncated.jpg", jpeg[: len(jpeg) // 2])
        bundle.writestr("notes.txt", b"scanned 1921, box 4\n")
        link = zipfile.ZipInfo("link.jpg")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        bundle.writestr(link, "/etc/passwd")
    out = tmp_path / "out"
    before = _snapshot(tmp_path, out)
    report = colorize_input(archive, out, tiny_bundle, SETTINGS)
    _assert_contained(tmp_path, out, before)
    reasons = _reasons(out)
    assert reasons["good.jpg"] == (DONE, None) and (out / "good.jpg").is_file()
    assert reasons["../evil.jpg"] == (FAILED, "unsafe-path")
    assert reasons["/tmp/evil-absolute.jpg"] == (FAILED, "unsafe-path")
    assert reasons["box/../../evil-climb.jpg"] == (FAILED, "unsafe-path")
    assert reasons["bomb.jpg"] == (FAILED, "bomb")
    assert reasons["pixel-bomb.png"] == (FAILED, "too-large")
    assert reasons["truncated.jpg"] == (FAILED, "truncated")
    assert reasons["notes.txt"] == (SKIPPED, "not-image")
    assert reasons["link.jpg"] == (FAILED, "link")
    assert report.done == 1 and report.failed == 7
    assert sorted(p.name for p in out.iterdir() if p.name != ".tintype") == ["good.jpg"]


def test_hostile_tar_and_folder_links(tiny_bundle, tmp_path):
    jpeg = _jpeg()
    secret = tmp_path / "secret.jpg"  # outside the input: a link must never pull it in
    secret.write_bytes(jpeg)
    archive = tmp_path / "in" / "hostile.tar"
    archive.parent.mkdir()
    with tarfile.open(archive, "w") as bundle:
        for name, payload in (("good.jpg", jpeg), ("../evil-tar.jpg", jpeg), ("truncated.jpg", jpeg[:300])):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            bundle.addfile(info, io.BytesIO(payload))
        symlink = tarfile.TarInfo("escape.jpg")
        symlink.type, symlink.linkname = tarfile.SYMTYPE, str(secret)
        bundle.addfile(symlink)
        hardlink = tarfile.TarInfo("hard.jpg")
        hardlink.type, hardlink.linkname = tarfile.LNKTYPE, "../../etc/passwd"
        bundle.addfile(hardlink)
    out = tmp_path / "out-tar"
    before = _snapshot(tmp_path, out)
    colorize_input(archive, out, tiny_bundle, SETTINGS)
    _assert_contained(tmp_path, out, before)
    reasons = _reasons(out)
    assert reasons["good.jpg"] == (DONE, None)
    assert reasons["../evil-tar.jpg"] == (FAILED, "unsafe-path")
    assert reasons["escape.jpg"] == (FAILED, "link") and reasons["hard.jpg"] == (FAILED, "link")
    assert reasons["truncated.jpg"] == (FAILED, "corrupt")

    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "good.jpg").write_bytes(jpeg)
    (folder / "escape.jpg").symlink_to(secret)
    (folder / "inside.jpg").symlink_to(folder / "good.jpg")  # a link that stays inside is fine
    out_folder = tmp_path / "out-folder"
    before = _snapshot(tmp_path, out_folder)
    colorize_input(folder, out_folder, tiny_bundle, SETTINGS)
    _assert_contained(tmp_path, out_folder, before)
    reasons = _reasons(out_folder)
    assert reasons["escape.jpg"] == (FAILED, "symlink-escape")
    assert reasons["good.jpg"] == (DONE, None) and reasons["inside.jpg"] == (DONE, None)


def test_output_inside_input_is_refused(tiny_bundle, tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(_jpeg())
    for bad in (tmp_path / "photos", tmp_path / "photos" / "colour"):
        try:
            colorize_input(tmp_path / "photos", bad, tiny_bundle, SETTINGS)
        except ValueError as error:
            assert "input" in str(error)
        else:
            raise AssertionError(f"output {bad} inside the input was accepted")
    assert sorted(p.name for p in (tmp_path / "photos").iterdir()) == ["a.jpg"]
