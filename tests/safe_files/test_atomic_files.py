"""Atomic writes publish whole files with the mode a plain open() would give, not mkstemp's 0600."""

from __future__ import annotations

import os

from safe_files.atomic_output import read_json, write_bytes_atomic, write_json_atomic


def test_published_files_are_whole_and_as_readable_as_any_other(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"x")  # what the user's umask gives an ordinary file
    write_bytes_atomic(tmp_path / "sub" / "weights.bin", b"\x00" * 1000)
    write_json_atomic(tmp_path / "card.json", {"a": 1})
    for path in (tmp_path / "sub" / "weights.bin", tmp_path / "card.json"):
        assert os.stat(path).st_mode & 0o777 == os.stat(plain).st_mode & 0o777
    assert (tmp_path / "sub" / "weights.bin").stat().st_size == 1000 and read_json(tmp_path / "card.json") == {"a": 1}
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["weights.bin"]  # no temporaries left
