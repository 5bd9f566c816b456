"""Member names from archives and list files -> safe relative output paths, or a refusal.

An archive is untrusted input: a name may be absolute (`/etc/x`, `C:\\x`), climb out (`../x`), hide
(`.x`), or carry control characters. A safe name is a relative POSIX path of plain parts; anything
else is refused with a reason, never "repaired" into a different file.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafeMemberName(ValueError):
    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"unsafe member name {name!r}: {why}")
        self.name = name
        self.why = why


def safe_relative_name(name: str) -> str:
    """The sanitised relative path for a member name; raises UnsafeMemberName."""
    if not name or _CONTROL.search(name):
        raise UnsafeMemberName(name, "empty or control characters")
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or _DRIVE.match(normalised):
        raise UnsafeMemberName(name, "absolute path")
    parts = [part for part in normalised.split("/") if part not in ("", ".")]
    if any(part == ".." for part in parts):
        raise UnsafeMemberName(name, "'..' climbs out of the archive")
    if not parts:
        raise UnsafeMemberName(name, "no file name")
    return str(PurePosixPath(*parts))


def is_hidden(relative: str) -> bool:
    """Dot-files and dot-folders (.DS_Store, __MACOSX resource forks, our own .tintype) are not inputs."""
    parts = PurePosixPath(relative).parts
    return any(part.startswith(".") for part in parts) or (bool(parts) and parts[0] == "__MACOSX")
