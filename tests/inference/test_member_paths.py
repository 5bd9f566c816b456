"""Member-name sanitising: unsafe names are refused, never rewritten into another file."""

from __future__ import annotations

import pytest

from inference.member_paths import UnsafeMemberName, is_hidden, safe_relative_name


@pytest.mark.parametrize("name", ["../evil.jpg", "a/../../evil.jpg", "/etc/passwd", "C:\\x.jpg", "\\\\server\\x.jpg", "", "a\x00.jpg", ".."])
def test_unsafe_names_are_refused(name):
    with pytest.raises(UnsafeMemberName):
        safe_relative_name(name)


def test_safe_names_are_normalised():
    assert safe_relative_name("./box/./photo.jpg") == "box/photo.jpg"
    assert safe_relative_name("box\\sleeve\\photo.jpg") == "box/sleeve/photo.jpg"
    assert is_hidden("__MACOSX/._photo.jpg") and is_hidden("box/.DS_Store") and not is_hidden("box/photo.jpg")
