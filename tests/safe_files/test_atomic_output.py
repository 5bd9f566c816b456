"""The one atomic-output helper: a file or a folder appears whole with the user's mode, or not at all."""

from __future__ import annotations

import os

import pytest

from safe_files.atomic_output import (
    AtomicFile,
    atomic_folder,
    atomic_path,
    leftover_temporaries,
)


def _plain_modes(tmp_path):
    """The modes a plain open() and mkdir() give under the user's umask."""
    (tmp_path / "plain-file").write_bytes(b"x")
    (tmp_path / "plain-folder").mkdir()
    return os.stat(tmp_path / "plain-file").st_mode & 0o777, os.stat(tmp_path / "plain-folder").st_mode & 0o777


def test_a_path_writer_publishes_whole_with_the_umask_mode(tmp_path):
    file_mode, _ = _plain_modes(tmp_path)
    final = tmp_path / "out" / "weights.pt"
    with atomic_path(final) as temporary:
        assert temporary.parent == final.parent and temporary.name.startswith(".weights.pt.")
        temporary.write_bytes(b"\x00" * 1000)
        assert not final.exists()  # nothing under the final name until the block ends
    assert final.read_bytes() == b"\x00" * 1000
    assert os.stat(final).st_mode & 0o777 == file_mode
    assert sorted(p.name for p in final.parent.iterdir()) == ["weights.pt"]


@pytest.mark.parametrize("durable", [True, False])
def test_a_failed_path_writer_leaves_no_final_name_and_no_temporary(tmp_path, durable):
    final = tmp_path / "sheet.png"
    with pytest.raises(RuntimeError):
        with atomic_path(final, durable=durable) as temporary:
            temporary.write_bytes(b"half")
            raise RuntimeError("killed mid-write")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rewrite_keeps_the_old_file(tmp_path):
    final = tmp_path / "ledger.json"
    with atomic_path(final) as temporary:
        temporary.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(final) as temporary:
            temporary.write_text("new, half")
            raise RuntimeError
    assert final.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["ledger.json"]


def test_a_folder_is_swapped_in_whole_with_the_umask_mode(tmp_path):
    _, folder_mode = _plain_modes(tmp_path)
    final = tmp_path / "runs" / "bundle"
    with atomic_folder(final) as staging:
        (staging / "weights.pt").write_bytes(b"1")
        assert not final.exists()
    assert sorted(p.name for p in final.iterdir()) == ["weights.pt"]
    assert os.stat(final).st_mode & 0o777 == folder_mode
    with atomic_folder(final) as staging:  # a second export replaces the whole folder
        (staging / "config.json").write_text("{}")
    assert sorted(p.name for p in final.iterdir()) == ["config.json"]
    assert sorted(p.name for p in final.parent.iterdir()) == ["bundle"]  # no staging, no retired copy


def test_a_failed_folder_leaves_the_old_one_and_no_temporary(tmp_path):
    final = tmp_path / "bundle"
    with pytest.raises(RuntimeError):
        with atomic_folder(final) as staging:
            (staging / "weights.pt").write_bytes(b"1")
            raise RuntimeError
    assert list(tmp_path.iterdir()) == []  # no final name, no temporary
    with atomic_folder(final) as staging:
        (staging / "weights.pt").write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_folder(final) as staging:
            (staging / "weights.pt").write_bytes(b"new")
            raise RuntimeError
    assert (final / "weights.pt").read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["bundle"]


def test_a_writer_that_names_its_own_temporary(tmp_path):
    file_mode, _ = _plain_modes(tmp_path)
    shard = AtomicFile(tmp_path / "train-000000.tar", temporary=tmp_path / "train-000000.tar.partial")
    shard.path.write_bytes(b"tar")
    assert not shard.final.exists()
    shard.commit()
    assert shard.final.read_bytes() == b"tar" and not shard.path.exists()
    assert os.stat(shard.final).st_mode & 0o777 == file_mode
    dropped = AtomicFile(tmp_path / "train-000001.tar")
    dropped.path.write_bytes(b"half")
    dropped.discard()
    assert not dropped.path.exists() and not dropped.final.exists()


def test_leftovers_of_killed_writes_are_found(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in (".a.jpg.k3j9.tmp", "sub/.b.png.x1.tmp", ".notes.tmp", "a.jpg"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in leftover_temporaries(tmp_path)] == [".a.jpg.k3j9.tmp"]
    assert sorted(p.name for p in leftover_temporaries(tmp_path, recursive=True)) == [".a.jpg.k3j9.tmp", ".b.png.x1.tmp"]
    assert leftover_temporaries(tmp_path, "b.png") == []
