"""Where colorized images go: a directory mirroring the input's layout, or a .zip.

Directory: each file is written atomically (temporary name, fsync, rename) at OUTPUT/<relative
name>, after checking that the resolved destination is inside OUTPUT (defence in depth on top of
name sanitising: a symlink planted in OUTPUT cannot redirect a write).
Zip: a zip cannot be appended safely in place, so files are staged in `<zip>.tintype/staged/`
(atomic, resumable like a directory) and `finalize()` writes a new zip (previous members + staged
ones) under a temporary name and renames it over the old one; the staged files are then removed.
The workspace (`OUTPUT/.tintype/` or `<zip>.tintype/`) also holds the run ledger and previews.
Object store (`s3://bucket/out`, any remote fsspec URL): `RemoteDirectoryOutput`, each output uploaded
under its final name once whole (safe_files.atomic_output), the ledger and plans in `OUTPUT/.tintype/`
on the store; what never needs sharing (a decompressed tar, preview thumbnails) stays in a local
scratch folder (`scratch`; the workspace itself for local outputs). A .zip on a store
(`RemoteZipOutput`) keeps the local zip's contract: outputs are staged as objects in
`<zip>.tintype/staged/`, and `finalize()` packs the previous zip's members and the staged ones in a
local work folder, uploads the zip whole under its final name, then deletes the staged objects.
`OutputNames` decides each input's output name so that no output overwrites another.
"""

from __future__ import annotations

import glob
import os
import shutil
import time
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO, Callable, Iterable, Iterator, TypeVar

from safe_files import data_root_storage as storage
from safe_files.atomic_output import (
    TEMPORARY_SUFFIX,
    atomic_path,
    leftover_temporaries,
    write_bytes_atomic,
)

T = TypeVar("T")
WORKSPACE_NAME = ".tintype"
_STORED_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif"}  # already compressed


class OutputEscape(ValueError):
    """A destination that would resolve outside the output root."""


class DirectoryOutput:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.workspace = self.root / WORKSPACE_NAME
        self.workspace.mkdir(exist_ok=True)
        self.scratch = self.workspace
        self._real_root = self.root.resolve()

    def destination(self, name: str) -> Path:
        path = self.root / name
        parent = Path(os.path.realpath(path.parent))
        if not parent.is_relative_to(self._real_root) or path.is_symlink():
            raise OutputEscape(f"refusing to write {name!r}: it resolves outside {self.root}")
        return path

    def write(self, name: str, data: bytes) -> None:
        path = self.destination(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.destination(name)  # again, now that the folders exist
        write_bytes_atomic(path, data)

    def write_with(self, name: str, writer: Callable[[Path], T]) -> T:
        """`writer` fills a temporary path that becomes `name` whole (a large output is written to the
        file as it is made, never held as bytes); returns what `writer` returns."""
        path = self.destination(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.destination(name)
        with atomic_path(path) as temporary:
            return writer(temporary)

    def exists(self, name: str) -> bool:
        return (self.root / name).is_file()

    def read(self, name: str) -> bytes:
        return self.destination(name).read_bytes()

    def finalize(self) -> None:
        """Remove temporaries a killed run left behind (they are hidden, but they take space)."""
        for leftover in leftover_temporaries(self.root, recursive=True):
            if WORKSPACE_NAME not in leftover.relative_to(self.root).parts:
                leftover.unlink(missing_ok=True)

    def __str__(self) -> str:
        return str(self.root)


class _StagedZip:
    """What a .zip output does on disk and on a store alike: outputs go to a staging folder
    (`staged`), and a name is there or in the current zip; `finalize()` packs (in the subclasses)."""

    path: str | Path
    staged: "DirectoryOutput | RemoteDirectoryOutput"

    def __init__(self) -> None:
        self._names: set[str] = set()
        self._names_version: str | None = None

    def _zipped_names(self) -> set[str]:
        """Names in the current zip, read once per zip version (size and mtime, or size and ETag)."""
        try:
            version: str | None = storage.version_of(self.path)
        except (FileNotFoundError, storage.StorageRefused):  # no zip yet (one request either way)
            version = None
        if version != self._names_version:
            self._names_version = version
            self._names = set()
            if version is not None:
                with storage.open_for_reading(self.path) as handle, zipfile.ZipFile(handle) as archive:
                    self._names = set(archive.namelist())
        return self._names

    def write(self, name: str, data: bytes) -> None:
        self.staged.write(name, data)

    def write_with(self, name: str, writer: Callable[[Path], T]) -> T:
        return self.staged.write_with(name, writer)

    def exists(self, name: str) -> bool:
        return self.staged.exists(name) or name in self._zipped_names()

    def read(self, name: str) -> bytes:
        if self.staged.exists(name):
            return self.staged.read(name)
        with storage.open_for_reading(self.path) as handle, zipfile.ZipFile(handle) as archive:
            return archive.read(name)

    def __str__(self) -> str:
        return str(self.path)


class ZipOutput(_StagedZip):
    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.workspace = self.path.with_name(self.path.name + WORKSPACE_NAME)
        self.staged = DirectoryOutput(self.workspace / "staged")
        self.workspace.mkdir(exist_ok=True)
        self.scratch = self.workspace

    def finalize(self) -> None:
        self.staged.finalize()  # temporaries of writes a kill interrupted
        for leftover in leftover_temporaries(self.path.parent, glob.escape(self.path.name)):
            leftover.unlink(missing_ok=True)  # a pack a kill interrupted (a whole zip is renamed, never left)
        staged = sorted(
            p for p in self.staged.root.rglob("*") if p.is_file() and WORKSPACE_NAME not in p.relative_to(self.staged.root).parts and not p.name.startswith(".")
        )
        if not staged:
            return
        names = {p.relative_to(self.staged.root).as_posix(): p for p in staged}
        with atomic_path(self.path) as temporary, zipfile.ZipFile(temporary, "w") as out:
            if self.path.is_file():
                _copy_members(self.path, out, skip=names)
            for name, file in sorted(names.items()):
                stored = file.suffix.lower() in _STORED_SUFFIXES
                out.write(file, name, compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
        for file in staged:
            file.unlink()


def _copy_members(previous: Path | IO[bytes], out: zipfile.ZipFile, skip: Iterable[str]) -> None:
    """Every member of the `previous` zip into `out`, except those named in `skip` (restaged: the newer wins)."""
    skip = set(skip)
    with zipfile.ZipFile(previous) as archive:
        for info in archive.infolist():
            if info.filename not in skip:
                with archive.open(info) as source, out.open(info, "w") as target:
                    shutil.copyfileobj(source, target, 1 << 20)


class RemoteZipOutput(_StagedZip):
    """A .zip on an object store: staged objects, packed locally and uploaded whole (module doc)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = str(path)
        self.workspace = f"{self.path}{WORKSPACE_NAME}"
        self.staged = RemoteDirectoryOutput(storage.join(self.workspace, "staged"))
        self.scratch = storage.local_work_folder(self.path, "colorize")

    def finalize(self) -> None:
        """Pack (previous members + staged objects) in the local work folder, upload it under the final
        name, then delete the staged objects. A kill before the upload leaves the old zip (or none) and
        every staged object; after it, the staged objects are also in the zip, and a re-run packs them
        again over their zipped copies (a name is never in the zip twice)."""
        folder = storage.local_work_folder(self.path, "zip-pack")
        for leftover in folder.glob(f"*{TEMPORARY_SUFFIX}"):
            leftover.unlink(missing_ok=True)  # a pack a kill interrupted
        prefix = f"{self.staged.root}/"
        staged = [(url, url[len(prefix):], size, modified) for url, size, modified in storage.list_files(self.staged.root, recursive=True)
                  if url.startswith(prefix) and WORKSPACE_NAME not in PurePosixPath(url[len(prefix):]).parts]
        if not staged:
            return
        names = {name for _url, name, _size, _modified in staged}
        packed = folder / f"pack-{os.getpid()}{TEMPORARY_SUFFIX}"
        try:
            with zipfile.ZipFile(packed, "w") as out:
                if storage.is_file(self.path):
                    with storage.open_for_reading(self.path) as previous:
                        _copy_members(previous, out, skip=names)
                for url, name, size, modified in sorted(staged, key=lambda row: row[1]):
                    stored = PurePosixPath(name).suffix.lower() in _STORED_SUFFIXES
                    info = zipfile.ZipInfo(name, date_time=time.localtime(max(modified, 315619200))[:6])  # zip dates start in 1980
                    info.compress_type, info.file_size = (zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED), size
                    info.external_attr = 0o644 << 16
                    with storage.open_for_reading(url) as source, out.open(info, "w") as target:
                        shutil.copyfileobj(source, target, 1 << 20)
            storage.upload_whole(packed, self.path)
        finally:
            packed.unlink(missing_ok=True)
        for url, _name, _size, _modified in staged:
            storage.remove(url)


class RemoteDirectoryOutput:
    """A folder on an object store: outputs uploaded whole under their final names, no rename needed."""

    def __init__(self, root: str) -> None:
        self.root = str(root).rstrip("/")
        self.workspace = storage.join(self.root, WORKSPACE_NAME)
        self.scratch = storage.local_work_folder(self.root, "colorize")

    def destination(self, name: str) -> str:
        if name.startswith("/") or ".." in PurePosixPath(name).parts:  # names are sanitised; defence in depth
            raise OutputEscape(f"refusing to write {name!r}: it resolves outside {self.root}")
        return str(storage.join(self.root, name))

    def write(self, name: str, data: bytes) -> None:
        write_bytes_atomic(self.destination(name), data)

    def write_with(self, name: str, writer: Callable[[Path], T]) -> T:
        with atomic_path(self.destination(name)) as temporary:
            return writer(temporary)

    def exists(self, name: str) -> bool:
        return storage.is_file(self.destination(name))

    def read(self, name: str) -> bytes:
        return storage.read_bytes(self.destination(name))

    def finalize(self) -> None:
        """Nothing to clear: an interrupted upload never leaves an object behind."""

    def __str__(self) -> str:
        return self.root


class OutputNames:
    """Which output name each input gets, so that no output overwrites another.

    An input keeps its mirrored name (with the format's suffix: `a.gif` -> `a.png`) unless that name
    is taken: by an output an earlier run wrote for another input (the ledger's `claimed`), by
    another input's own name (`inputs`: `a.png` keeps `a.png`, so `a.gif` becomes `a.gif.png`), or by
    an output assigned earlier in this run. Names are compared case-folded, since a case-insensitive
    disk (or an unzip on one) holds `C.jpg` and `c.jpg` as one file; of inputs that differ only in
    case, the first in listing order keeps the name. Fallbacks, in order: the full input name plus the
    new suffix (`a.gif.png`), then `<stem>~2<suffix>`, `~3`, ... (`c~2.jpg`)."""

    def __init__(self, inputs: Iterable[str], claimed: Iterable[tuple[str, str]] = ()) -> None:
        self.owners: dict[str, str] = {}  # case-folded name -> the input whose own name it is
        for name in inputs:
            self.owners.setdefault(name.casefold(), name)
        self.claims: dict[str, str] = {}  # case-folded output name -> the input it was written for
        for output, source in claimed:
            if output == source or output.casefold() not in self.claims:  # (an old overwrite: the namesake wins)
                self.claims[output.casefold()] = source

    def _holder(self, name: str) -> str | None:
        key = name.casefold()
        return self.claims.get(key) or self.owners.get(key)

    def belongs_to(self, output: str, source: str) -> bool:
        """Whether `output` is (still) `source`'s own: False when another input holds it."""
        return self._holder(output) in (None, source)

    def assign(self, source: str, natural: str) -> str:
        """`source`'s output name, given its mirrored name with the format's suffix; claims it."""
        for candidate in _candidates(source, natural):
            if self.belongs_to(candidate, source):
                self.claims[candidate.casefold()] = source
                return candidate
        raise AssertionError("unreachable: the numbered candidates never end")


def _candidates(source: str, natural: str) -> Iterator[str]:
    yield natural
    path = PurePosixPath(natural)
    if natural != source:
        yield f"{source}{path.suffix}"
    number = 2
    while True:
        yield str(path.with_name(f"{path.stem}~{number}{path.suffix}"))
        number += 1


def open_output(path: str | Path) -> DirectoryOutput | ZipOutput | RemoteDirectoryOutput | RemoteZipOutput:
    zipped = str(path).lower().endswith(".zip")
    if storage.is_remote(path):
        return RemoteZipOutput(str(path)) if zipped else RemoteDirectoryOutput(str(path))
    path = storage.local_path(path)
    return ZipOutput(path) if zipped else DirectoryOutput(path)
