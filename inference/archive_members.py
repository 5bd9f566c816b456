"""Archive readers: what images an input holds (listing), then their bytes, one member at a time.

An input is an image file, a directory tree, a .zip, a .tar / .tar.gz / .tgz / .tar.bz2 / .tar.xz,
or a list file (.txt / .lst / .list: one path per line, relative to the list file or absolute).
Listing yields a `MemberRef` per image and a `MemberProblem` for everything refused or skipped
(unsafe names, links, bombs, oversized or non-image members), so every problem can be reported.
Reading streams: one member's bytes at a time, each capped at `max_member_bytes`, so memory never
depends on the archive's size. A tar member remembers where its data starts (`offset`), so a plain
.tar is read by seeking, and a compressed tar is decompressed once per run into a spool file (a
plain tar, in the output's workspace; `spooled_tar`) that later batches seek in: N batches of a
.tar.gz cost one decompression, not N (gzip cannot seek: tarfile would re-read from the start).
An input on an object store (`s3://bucket/archive.zip`, a folder URL, a .tar) is read in place with
ranged reads: a zip's directory and one member at a time, a plain tar by its offsets, a compressed tar
streamed; nothing is copied whole first. A list file may be on a store too, and its lines may be
URLs (`s3://bucket/scans/a.tif`): a relative line is below the list file's folder, local or remote,
and a listed object is read in place like any other; spools are for local tars only.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import posixpath
import shutil
import stat
import tarfile
import zipfile
import zlib
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Iterable, Iterator

from inference.member_paths import UnsafeMemberName, is_hidden, safe_relative_name
from preprocessing.images.image_inventory import IMAGE_SUFFIXES
from safe_files import data_root_storage as storage
from safe_files.atomic_output import atomic_path
from safe_files.identity import identity_of

ZIP_SUFFIXES = (".zip",)
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
LIST_SUFFIXES = (".txt", ".lst", ".list")
MAX_MEMBER_BYTES = 512 * 1024 * 1024  # one scan; more is refused as a bomb
MAX_COMPRESSION_RATIO = 200  # image formats are already compressed; 200:1 is a zip bomb
RATIO_CHECK_FLOOR = 8 * 1024 * 1024  # small members may compress well (a blank PNG), that is harmless


@dataclass(frozen=True)
class MemberRef:
    container: str | None  # the archive's path, or None for a plain file
    inner: str  # the member's name inside the archive, or the plain file's real path
    name: str  # sanitised relative path, the output mirrors it
    size: int
    group: str = ""  # in a folder of archives: the archive's relative path (the inbox entry)
    offset: int = -1  # tar members: where the data starts in the (decompressed) tar stream


@dataclass(frozen=True)
class MemberProblem:
    name: str  # the name as found (may be hostile: only ever reported, never used as a path)
    reason: str  # unsafe-path, link, symlink-escape, bomb, not-image, not-regular, missing, corrupt
    detail: str = ""
    group: str = ""


def suffix_of(name: str) -> str:
    lower = name.lower()
    for suffix in TAR_SUFFIXES:
        if lower.endswith(suffix):
            return suffix
    return PurePosixPath(lower).suffix


def is_archive(name: str) -> bool:
    return suffix_of(name) in ZIP_SUFFIXES + TAR_SUFFIXES


def is_image_name(name: str) -> bool:
    return suffix_of(name) in IMAGE_SUFFIXES


def _prefixed(prefix: str, item: MemberRef | MemberProblem) -> MemberRef | MemberProblem:
    if isinstance(item, MemberRef):
        return MemberRef(item.container, item.inner, f"{prefix}/{item.name}", item.size, prefix, item.offset)
    return MemberProblem(f"{prefix}/{item.name}", item.reason, item.detail, prefix)


def list_members(
    source: str | Path, expand_archives: bool = True, max_member_bytes: int = MAX_MEMBER_BYTES
) -> Iterator[MemberRef | MemberProblem]:
    """Every member of `source`, refused ones included, in a stable order."""
    if storage.is_remote(source):
        yield from _list_remote(str(source), expand_archives, max_member_bytes)
        return
    path = storage.local_path(source)
    if path.is_dir():
        yield from _list_directory(path, expand_archives, max_member_bytes)
    elif not path.is_file():
        raise FileNotFoundError(f"input not found: {path}; check the path")
    elif suffix_of(path.name) in ZIP_SUFFIXES:
        yield from _list_zip(path, max_member_bytes)
    elif suffix_of(path.name) in TAR_SUFFIXES:
        yield from _list_tar(path, max_member_bytes)
    elif suffix_of(path.name) in LIST_SUFFIXES:
        yield from _list_file_of_paths(path, max_member_bytes)
    elif is_image_name(path.name):
        yield MemberRef(None, str(path.resolve()), path.name, path.stat().st_size)
    else:
        raise ValueError(f"not an image, directory, archive or list file: {path}; "
                         "give an image, a folder, a .zip, a .tar(.gz) or a .txt list of paths")


def _list_remote(source: str, expand_archives: bool, max_bytes: int) -> Iterator[MemberRef | MemberProblem]:
    """`list_members` for an object-store URL: a folder (every object below it), an archive or an image."""
    base = storage.name_of(source)
    if storage.is_file(source):
        if suffix_of(base) in ZIP_SUFFIXES + TAR_SUFFIXES:
            with storage.open_for_reading(source) as handle:
                lister = _list_zip if suffix_of(base) in ZIP_SUFFIXES else _list_tar
                yield from lister(handle, max_bytes, container=source)
        elif suffix_of(base) in LIST_SUFFIXES:
            yield from _list_file_of_paths(source, max_bytes)
        elif is_image_name(base):
            yield MemberRef(None, source, base, storage.size_of(source))
        else:
            raise ValueError(f"not an image, folder, archive or list file: {source}; give an image, "
                             "a folder, a .zip, a .tar(.gz) or a .txt list of paths")
        return
    if not storage.is_dir(source):
        raise FileNotFoundError(f"input not found: {source}; check the bucket and path")
    for url, name, size in storage.walk_names(source):
        if is_hidden(name):
            continue
        checked = _checked_name(name)  # an object key may hold anything, `..` included
        if isinstance(checked, MemberProblem):
            yield checked
            continue
        name = checked
        if is_archive(name) and expand_archives:
            try:
                for item in _list_remote(url, False, max_bytes):
                    yield _prefixed(name, item)
            except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as error:
                yield MemberProblem(name, "corrupt", f"unreadable archive: {error}", name)
        elif not is_image_name(name):
            yield MemberProblem(name, "not-image", "not an image file")
        elif size > max_bytes:
            yield MemberProblem(name, "bomb", f"{size} bytes exceeds {max_bytes}")
        else:
            yield MemberRef(None, url, name, size)


def _list_directory(root: Path, expand_archives: bool, max_bytes: int) -> Iterator[MemberRef | MemberProblem]:
    real_root = root.resolve()
    for current, folders, files in os.walk(root, followlinks=False):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for file_name in sorted(files):
            path = Path(current) / file_name
            name = path.relative_to(root).as_posix()
            if is_hidden(name):
                continue
            if path.is_symlink():
                target = Path(os.path.realpath(path))
                if not target.is_relative_to(real_root) or not target.is_file():
                    yield MemberProblem(name, "symlink-escape", "link points outside the input folder")
                    continue
            else:
                target = path
            if is_archive(name) and expand_archives:
                # An inbox's archives: their members land under the archive's own name.
                try:
                    for item in list_members(target, expand_archives=False, max_member_bytes=max_bytes):
                        yield _prefixed(name, item)
                except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as error:
                    yield MemberProblem(name, "corrupt", f"unreadable archive: {error}", name)
                continue
            if not is_image_name(name):
                yield MemberProblem(name, "not-image", "not an image file")
                continue
            size = target.stat().st_size
            if size > max_bytes:
                yield MemberProblem(name, "bomb", f"{size} bytes exceeds {max_bytes}")
                continue
            yield MemberRef(None, str(target), name, size)


def _checked_name(raw: str) -> str | MemberProblem:
    try:
        return safe_relative_name(raw)
    except UnsafeMemberName as error:
        return MemberProblem(raw, "unsafe-path", error.why)


def _list_zip(path: Path | IO[bytes], max_bytes: int, container: str | None = None) -> Iterator[MemberRef | MemberProblem]:
    container = container or str(path)
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = _checked_name(info.filename)
            if isinstance(name, MemberProblem):
                yield name
                continue
            if is_hidden(name):
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                yield MemberProblem(name, "link", "symbolic link members are never followed")
            elif not is_image_name(name):
                yield MemberProblem(name, "not-image", "not an image file")
            elif info.file_size > max_bytes:
                yield MemberProblem(name, "bomb", f"declares {info.file_size} bytes, over {max_bytes}")
            elif info.file_size > RATIO_CHECK_FLOOR and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
                yield MemberProblem(name, "bomb", f"compression ratio {info.file_size / max(info.compress_size, 1):.0f}:1")
            else:
                yield MemberRef(container, info.filename, name, info.file_size)


def _list_tar(path: Path | IO[bytes], max_bytes: int, container: str | None = None) -> Iterator[MemberRef | MemberProblem]:
    container = container or str(path)
    opened = tarfile.open(path, "r|*") if isinstance(path, (str, Path)) else tarfile.open(fileobj=path, mode="r|*")
    with opened as archive:  # streaming: no member table kept in memory
        for info in archive:
            if info.isdir():
                continue
            name = _checked_name(info.name)
            if isinstance(name, MemberProblem):
                yield name
                continue
            if is_hidden(name):
                continue
            if info.issym() or info.islnk():
                yield MemberProblem(name, "link", f"link to {info.linkname!r} is never followed")
            elif not info.isfile():
                yield MemberProblem(name, "not-regular", "device, fifo or other special member")
            elif not is_image_name(name):
                yield MemberProblem(name, "not-image", "not an image file")
            elif info.size > max_bytes:
                yield MemberProblem(name, "bomb", f"{info.size} bytes exceeds {max_bytes}")
            else:
                # A sparse member's stored bytes are not its content: only tarfile may read it.
                offset = info.offset_data if info.sparse is None else -1
                yield MemberRef(container, info.name, name, info.size, offset=offset)
            archive.members.clear()  # stream mode still keeps every TarInfo; the listing needs none


def _listed_entries(list_path: str | Path) -> Iterator[tuple[str, str | Path]]:
    """(line, the location it names) for every entry of a list file: a URL as it is, an absolute path,
    or a relative line below the list file's folder (a URL's folder for a list on a store)."""
    base = _folder_of_list(list_path)
    for line in storage.read_lines(list_path):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if storage.is_remote(entry) or "://" in entry:
            yield entry, storage.location(entry)
        elif Path(entry).is_absolute() or not storage.is_remote(base):
            yield entry, Path(entry) if Path(entry).is_absolute() else Path(base) / entry
        else:
            yield entry, _normalised_url(str(storage.join(base, entry)))


def _folder_of_list(list_path: str | Path) -> str | Path:
    """Where a list file's relative lines are: its folder's URL, or its real folder on disk."""
    return storage.parent_of(list_path) if storage.is_remote(list_path) else storage.local_path(list_path).resolve().parent


def _normalised_url(url: str) -> str:
    """`s3://b/x/../y//z.jpg` -> `s3://b/y/z.jpg` (a key climbing above its bucket keeps its `..`: not found)."""
    protocol, rest = url.split("://", 1)
    return f"{protocol}://{posixpath.normpath(rest)}"


def input_sources(source: str | Path) -> list[str | Path]:
    """What a listing of `source` reads: the source itself, and for a list file every file it names
    (a listed file that arrives later must change the planning cache's fingerprint)."""
    source = storage.location(source)
    if suffix_of(storage.name_of(source)) in LIST_SUFFIXES and storage.is_file(source):
        return [source, *(target for _, target in _listed_entries(source))]
    return [source]


def _listed_name(target: str | Path, base: str | Path) -> str:
    """The output name of a listed file: its path below the list file's folder, else its whole path
    without the root (`/scans/a.tif` -> `scans/a.tif`, `s3://bucket/a.tif` -> `bucket/a.tif`)."""
    if storage.is_remote(target):
        text, folder = str(target), str(base).rstrip("/") + "/"
        return text[len(folder):] if storage.is_remote(base) and text.startswith(folder) else text.split("://", 1)[1]
    real, base = Path(target), Path(base)
    return real.relative_to(base).as_posix() if real.is_relative_to(base) else real.relative_to(real.anchor).as_posix()


def _listed_object_size(objects: storage.FolderListings, url: str) -> int | str:
    """A listed object's size, or why it cannot be read (a missing object; one line's bucket or permission,
    not the whole list's)."""
    try:
        found = objects.entry(url)
    except storage.StorageRefused as error:
        return str(error)
    return "listed file does not exist" if found is None else found[0]


def _list_file_of_paths(list_path: str | Path, max_bytes: int) -> Iterator[MemberRef | MemberProblem]:
    base = _folder_of_list(list_path)
    objects = storage.FolderListings()  # one listing per folder the lines name, not a request per line
    for entry, target in _listed_entries(list_path):
        if storage.is_remote(target):
            checked = _checked_name(_listed_name(target, base))
            if isinstance(checked, MemberProblem):
                yield MemberProblem(entry, checked.reason, checked.detail)
                continue
            size, name, location = _listed_object_size(objects, str(target)), checked, str(target)
        else:
            real = Path(os.path.realpath(target))
            # Mirror the layout below the list file; other absolute paths keep their parts minus the root.
            name, location = _listed_name(real, base), str(real)
            size = real.stat().st_size if real.is_file() else "listed file does not exist"
        if isinstance(size, str):
            yield MemberProblem(entry, "missing", size)
        elif not is_image_name(name):
            yield MemberProblem(entry, "not-image", "not an image file")
        elif size > max_bytes:
            yield MemberProblem(entry, "bomb", f"{size} bytes exceeds {max_bytes}")
        else:
            yield MemberRef(None, location, name, size)


def _read_capped(handle, limit: int) -> bytes:
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise OverflowError(f"member larger than {limit} bytes")
    return data


def read_members(
    refs: Iterable[MemberRef], max_member_bytes: int = MAX_MEMBER_BYTES, spool_dir: Path | None = None
) -> Iterator[tuple[MemberRef, bytes | MemberProblem]]:
    """(ref, bytes) for every ref, or (ref, problem) when its bytes cannot be read safely.

    Consecutive refs of one archive are read with one open. With `spool_dir`, a compressed tar is
    decompressed there once (reused by every later call) and read by seeking; without it, each call
    makes one sequential pass."""
    group: list[MemberRef] = []
    for ref in refs:
        if group and ref.container != group[0].container:
            yield from _read_group(group, max_member_bytes, spool_dir)
            group = []
        group.append(ref)
    if group:
        yield from _read_group(group, max_member_bytes, spool_dir)


def _read_group(group: list[MemberRef], limit: int, spool_dir: Path | None) -> Iterator[tuple[MemberRef, bytes | MemberProblem]]:
    container = group[0].container
    if container is None:
        for ref in group:
            try:
                with storage.open_for_reading(ref.inner) as handle:
                    yield ref, _read_capped(handle, limit)
            except OverflowError as error:
                yield ref, MemberProblem(ref.name, "bomb", str(error))
            except OSError as error:
                yield ref, MemberProblem(ref.name, "missing", str(error))
    elif suffix_of(container) in ZIP_SUFFIXES:
        yield from _read_zip(container, group, limit)
    elif all(ref.offset >= 0 for ref in group) and (plain := _seekable_tar(container, spool_dir)) is not None:
        yield from _read_tar_at_offsets(plain, group, limit)
    else:
        yield from _read_tar(container, group, limit)


def _read_zip(container: str, group: list[MemberRef], limit: int) -> Iterator[tuple[MemberRef, bytes | MemberProblem]]:
    handles = ExitStack()
    try:
        archive = zipfile.ZipFile(handles.enter_context(storage.open_for_reading(container)))
    except (OSError, zipfile.BadZipFile) as error:
        handles.close()
        for ref in group:
            yield ref, MemberProblem(ref.name, "corrupt", f"archive unreadable: {error}")
        return
    with handles, archive:
        for ref in group:
            try:
                with archive.open(ref.inner) as handle:
                    yield ref, _read_capped(handle, limit)
            except OverflowError as error:
                yield ref, MemberProblem(ref.name, "bomb", str(error))
            except (KeyError, OSError, zipfile.BadZipFile, EOFError, ValueError) as error:
                yield ref, MemberProblem(ref.name, "corrupt", f"{type(error).__name__}: {error}")


def _read_tar(container: str, group: list[MemberRef], limit: int) -> Iterator[tuple[MemberRef, bytes | MemberProblem]]:
    wanted = {ref.inner: ref for ref in group}
    try:
        with storage.open_for_reading(container) as stream, tarfile.open(fileobj=stream, mode="r|*") as archive:
            for info in archive:
                ref = wanted.pop(info.name, None)
                if ref is None or not info.isfile():
                    continue
                try:
                    handle = archive.extractfile(info)
                    data = _read_capped(handle, limit)
                except OverflowError as error:
                    yield ref, MemberProblem(ref.name, "bomb", str(error))
                except (OSError, tarfile.TarError, EOFError, zlib.error) as error:
                    yield ref, MemberProblem(ref.name, "corrupt", f"archive unreadable: {error}")  # not lost
                    raise  # the stream is broken: the rest is reported below
                else:
                    yield ref, data
                    del data
                if not wanted:
                    return
    except (OSError, tarfile.TarError, EOFError, zlib.error) as error:
        for ref in wanted.values():
            yield ref, MemberProblem(ref.name, "corrupt", f"archive unreadable: {error}")
        return
    for ref in wanted.values():
        yield ref, MemberProblem(ref.name, "missing", "member not found on reading")


_DECOMPRESSORS = ((b"\x1f\x8b", gzip.GzipFile), (b"BZh", bz2.BZ2File), (b"\xfd7zXZ\x00", lzma.LZMAFile))


def _decompressor(path: str):
    """The file class that decompresses `path` (sniffed, like tarfile's r|*), or None for a plain tar."""
    try:
        with storage.open_for_reading(path) as handle:
            magic = handle.read(6)
    except OSError:
        return None
    return next((opener for prefix, opener in _DECOMPRESSORS if magic.startswith(prefix)), None)


def _seekable_tar(container: str, spool_dir: Path | None) -> str | None:
    """A plain tar to seek in: the archive itself, or its spool; None to fall back to streaming."""
    opener = _decompressor(container)
    if opener is None:
        return container
    if spool_dir is None or storage.is_remote(container):  # a remote compressed tar is streamed
        return None
    try:
        return spooled_tar(container, spool_dir)
    except OSError:  # the archive vanished or the spool folder is unwritable: stream instead
        return None


def spooled_tar(container: str, spool_dir: Path) -> str | None:
    """The decompressed copy of a compressed tar, made once (one sequential pass) and then reused.

    Named after the archive's path, size and mtime, so a replaced archive gets a new spool. Written
    to a temporary name and renamed; None when the archive cannot be decompressed to the end (the
    caller then streams, which reports what is readable)."""
    status = os.stat(container)
    spool = Path(spool_dir) / f"{identity_of([os.path.realpath(container), status.st_size, status.st_mtime_ns])}.tar"
    if spool.is_file():
        return str(spool)
    try:
        with (atomic_path(spool) as temporary, open(temporary, "wb") as target,
              _decompressor(container)(container, "rb") as source):
            shutil.copyfileobj(source, target, 1 << 20)
    except (OSError, EOFError, lzma.LZMAError, zlib.error):
        # Corrupt or truncated data, or no room for the spool: streaming still reads what it can.
        return None
    return str(spool)


def _read_tar_at_offsets(plain: str, group: list[MemberRef], limit: int) -> Iterator[tuple[MemberRef, bytes | MemberProblem]]:
    """Members of a plain tar by their recorded data offsets: each read costs its own bytes only."""
    try:
        handle = storage.open_for_reading(plain)
    except OSError as error:
        for ref in group:
            yield ref, MemberProblem(ref.name, "corrupt", f"archive unreadable: {error}")
        return
    with handle:
        for ref in group:
            if ref.size > limit:
                yield ref, MemberProblem(ref.name, "bomb", f"member larger than {limit} bytes")
                continue
            handle.seek(ref.offset)
            data = handle.read(ref.size)
            if len(data) != ref.size:
                yield ref, MemberProblem(ref.name, "corrupt", f"truncated: {len(data)} of {ref.size} bytes")
            else:
                yield ref, data
