"""Data roots on object storage: any fsspec URL (`s3://bucket/root`, `gs://`, `az://`) beside local paths.

A location is a local path (`data`, `/data`, `file:///data`: handled by `atomic_output` as always) or
a remote URL. This module is what the stages call for a remote one: reading, listing, existence,
removal, and `upload_whole` (a finished local file uploaded under its final name: object stores have
no rename, and an upload, single or multipart, appears whole or not at all). `atomic_output` routes a
remote location's writes here, so a stage writes through the same helper whatever its root is.

Credentials and endpoint come only from where the store's own library looks (environment, profile,
instance role; `AWS_ENDPOINT_URL` for an S3-compatible server such as MinIO): nothing here takes,
stores or logs a secret. Failures are one `StorageError` naming the URL and what to check.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Callable, Iterator, TypeVar

from safe_files.identity import identity_of

LOCAL_PROTOCOLS = ("file", "local")
UPLOAD_PREFIX = "tintype-upload-"  # local temporaries of remote writes, in the system's temporary folder
T = TypeVar("T")


class StorageError(OSError):
    """A remote location that cannot be read or written: missing, refused, or the store unreachable."""


class StorageRefused(StorageError):
    """Missing (bucket or object) or access denied: asking again would get the same answer."""


def is_remote(location: str | Path) -> bool:
    """True for a URL whose filesystem is not the local one (`s3://...`); False for paths and `file://`."""
    text = str(location)
    if "://" not in text:
        return False
    return text.split("://", 1)[0].lower() not in LOCAL_PROTOCOLS


def location(value: str | Path) -> str | Path:
    """A location as the stages keep it: a remote URL stays a str, anything local becomes a Path."""
    return value if is_remote(value) else local_path(value)


def local_path(location: str | Path) -> Path:
    """A local location as a Path (`file:///data` -> /data)."""
    text = str(location)
    if "://" in text:
        import fsspec  # here, not at the top: plain paths and `is_remote` need none (`tintype --help` stays light)
        from fsspec.implementations.local import LocalFileSystem

        filesystem, path = fsspec.core.url_to_fs(text)
        assert isinstance(filesystem, LocalFileSystem), text
        return Path(path)
    return Path(text)


@functools.lru_cache(maxsize=8)
def _filesystem(protocol: str) -> Any:
    # Listings are not cached: another process (a killed run's successor, a Dask worker) writes the
    # same root, and a stale listing would hide its objects from a skip decision.
    import fsspec

    try:
        return fsspec.filesystem(protocol, use_listings_cache=False, skip_instance_cache=True)
    except ImportError as error:
        raise StorageError(
            f"{protocol}:// needs its fsspec package ({error}); install the matching extra: "
            "pip install -c constraints.txt -e '.[s3]' (or '.[gcs]', '.[azure]')"
        ) from None


def filesystem_of(location: str | Path) -> tuple[Any, str]:
    """(the fsspec filesystem, the path inside it) of a remote location."""
    text = str(location)
    protocol = text.split("://", 1)[0].lower()
    filesystem = _filesystem(protocol)
    return filesystem, filesystem._strip_protocol(text)


def join(location: str | Path, *parts: str) -> str | Path:
    """`location / part / ...`: a Path for local locations, a URL for remote ones (no `//` collapsed)."""
    if not is_remote(location):
        return local_path(location).joinpath(*parts)
    return "/".join([str(location).rstrip("/"), *(p.strip("/") for p in parts if p)])


def _failure(location: str | Path, error: Exception, doing: str) -> StorageError:
    """One clear error: what failed, where, and what to check (never the credentials themselves)."""
    if isinstance(error, FileNotFoundError):
        what = "not found (is the bucket and path right?)"
    elif isinstance(error, PermissionError):
        what = "access denied (check the credentials: AWS_PROFILE / AWS_ACCESS_KEY_ID, or the bucket policy)"
    else:
        what = f"{type(error).__name__}: {error}"
    kind = StorageRefused if isinstance(error, (FileNotFoundError, PermissionError)) else StorageError
    return kind(
        f"cannot {doing} {location}: {what}; credentials and endpoint come from the environment "
        "(AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL for an S3-compatible server)"
    )


def raise_if_transient(error: BaseException) -> None:
    """Re-raise a store failure that asking again may cure (unreachable, throttled): the caller then
    retries rather than recording a verdict. Missing or refused objects and local errors pass."""
    if isinstance(error, StorageError) and not isinstance(error, StorageRefused):
        raise error


def _on_store(location: str | Path, doing: str, call: Callable[[Any, str], T]) -> T:
    """`call(filesystem, path)` for a remote location; any failure becomes one StorageError naming it."""
    filesystem, path = filesystem_of(location)
    try:
        return call(filesystem, path)
    except StorageError:
        raise
    except Exception as error:
        raise _failure(location, error, doing) from error


def exists(location: str | Path) -> bool:
    if not is_remote(location):
        return local_path(location).exists()
    return _on_store(location, "check", lambda filesystem, path: filesystem.exists(path))


def is_file(location: str | Path) -> bool:
    if not is_remote(location):
        return local_path(location).is_file()
    return _on_store(location, "check", lambda filesystem, path: filesystem.isfile(path))


def is_dir(location: str | Path) -> bool:
    if not is_remote(location):
        return local_path(location).is_dir()
    return _on_store(location, "check", lambda filesystem, path: filesystem.isdir(path))


def size_of(location: str | Path) -> int:
    if not is_remote(location):
        return local_path(location).stat().st_size
    return _on_store(location, "read", lambda filesystem, path: int(filesystem.info(path)["size"]))


def version_of(location: str | Path) -> str:
    """What changes when the object changes (size and ETag or mtime): the planning cache's fingerprint."""
    if not is_remote(location):
        status = local_path(location).stat()
        return f"{status.st_size}|{status.st_mtime_ns}"
    return _version_in(_on_store(location, "read", lambda filesystem, path: filesystem.info(path)))


def _version_in(info: dict) -> str:
    return f"{info.get('size')}|{info.get('ETag') or info.get('etag') or info.get('LastModified') or info.get('mtime')}"


def _callers_url(filesystem: Any, folder: str | Path, listed: str) -> str:
    """A listed name as a URL in the caller's spelling of the protocol (adlfs lists az:// as abfs://)."""
    stored = filesystem.unstrip_protocol(listed)
    return str(folder).split("://", 1)[0] + stored[stored.index("://"):]


def _listed(folder: str | Path, recursive: bool) -> Iterator[tuple[str, dict]]:
    """(URL in the caller's spelling, the store's info) of every object below a remote `folder` (directly,
    or at any depth), in one request; an absent folder is empty (an object store has no empty folders)."""
    def listing(filesystem: Any, path: str) -> dict[str, dict]:
        try:  # no separate existence check: one request per listing
            return filesystem.find(path, detail=True) if recursive else {
                entry["name"]: entry for entry in filesystem.ls(path, detail=True) if entry.get("type") == "file"}
        except FileNotFoundError:
            return {}

    filesystem, _ = filesystem_of(folder)
    for name, info in _on_store(folder, "list", listing).items():
        if info.get("type", "file") == "file":
            yield _callers_url(filesystem, folder, name), info


def versions_below(folder: str | Path) -> dict[str, str]:
    """URL -> `version_of` of every object below a remote `folder`, in one listing (not a request per object)."""
    return {url: _version_in(info) for url, info in _listed(folder, recursive=True)}


def read_bytes(location: str | Path) -> bytes:
    if not is_remote(location):
        return local_path(location).read_bytes()
    return _on_store(location, "read", lambda filesystem, path: filesystem.cat_file(path))


def open_for_reading(location: str | Path, block_size: int = 8 << 20) -> IO[bytes]:
    """A seekable binary handle (ranged reads on an object store: a zip's directory, one member)."""
    if not is_remote(location):
        return open(local_path(location), "rb")
    return _on_store(location, "open", lambda filesystem, path: filesystem.open(path, "rb", block_size=block_size))


def list_files(folder: str | Path, recursive: bool = False) -> list[tuple[str, int, float]]:
    """(URL, size, modified time) of every object below a remote `folder` (directly, or at any depth),
    sorted by URL; an absent folder is empty (an object store has no empty folders)."""
    rows = []
    for url, info in _listed(folder, recursive):
        modified = info.get("LastModified") or info.get("mtime") or info.get("last_modified") or 0
        stamp = modified.timestamp() if hasattr(modified, "timestamp") else float(modified or 0)
        rows.append((url, int(info.get("size") or 0), stamp))
    return sorted(rows)


class FolderListings:
    """Objects looked up by URL in one listing of their folder, shared by every lookup there: a list
    naming 100,000 objects costs a request per folder, not one per object. A folder that cannot be
    listed (missing bucket, access denied) is asked once; each lookup there raises its StorageRefused."""

    def __init__(self) -> None:
        self._folders: dict[str, dict[str, tuple[int, float]] | StorageRefused] = {}

    def entry(self, url: str) -> tuple[int, float] | None:
        """(size, modified time) of the object at `url`, or None if its folder holds no such object."""
        folder = str(parent_of(url))
        if folder not in self._folders:
            try:
                self._folders[folder] = {found: (size, modified) for found, size, modified in list_files(folder)}
            except StorageRefused as error:
                self._folders[folder] = error
        listed = self._folders[folder]
        if isinstance(listed, StorageRefused):
            raise listed
        return listed.get(url)


def remove(location: str | Path) -> None:
    """Delete one object (absent: nothing to do)."""
    if not is_remote(location):
        local_path(location).unlink(missing_ok=True)
        return
    def delete(filesystem: Any, path: str) -> None:
        try:
            filesystem.rm_file(path)
        except FileNotFoundError:
            pass

    _on_store(location, "delete", delete)


def upload_whole(local: str | Path, final: str | Path) -> None:
    """Upload a finished local file under its final remote name (whole or not at all)."""
    _on_store(final, "write", lambda filesystem, path: filesystem.put_file(str(local), path))


def download_whole(remote: str | Path, local: str | Path) -> None:
    """Copy one remote object to a local file."""
    _on_store(remote, "read", lambda filesystem, path: filesystem.get_file(path, str(local)))


def write_whole(final: str | Path, data: bytes) -> None:
    """One object written in one request: it appears whole or not at all."""
    _on_store(final, "write", lambda filesystem, path: filesystem.pipe_file(path, data))


def upload_temporary(final: str | Path) -> Path:
    """A new local temporary file for what becomes remote `final` once complete."""
    descriptor, temporary = tempfile.mkstemp(prefix=UPLOAD_PREFIX, suffix="-" + Path(str(final)).name)
    os.close(descriptor)
    return Path(temporary)


def local_work_folder(location: str | Path, purpose: str) -> Path:
    """A local folder for a remote root's scratch work that never needs to be shared (a decompressed
    tar, preview thumbnails): `$TINTYPE_WORK_DIR` or the system's temporary folder, one per root."""
    base = Path(os.environ.get("TINTYPE_WORK_DIR") or tempfile.gettempdir()) / "tintype-work"
    folder = base / f"{identity_of(str(location))}" / purpose
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def walk_names(folder: str | Path) -> Iterator[tuple[str, str, int]]:
    """(URL, name relative to `folder`, size) of every object below a remote folder, sorted by name."""
    prefix = str(folder).rstrip("/") + "/"
    for url, size, _modified in list_files(folder, recursive=True):
        if url.startswith(prefix):
            yield url, url[len(prefix):], size


def name_of(location: str | Path) -> str:
    """The last part of a location's name (`s3://b/shards/train-000000.tar` -> `train-000000.tar`)."""
    return str(location).rstrip("/").rsplit("/", 1)[-1] if is_remote(location) else local_path(location).name


def parent_of(location: str | Path) -> str | Path:
    """The folder holding a location (`s3://b/data/shards` -> `s3://b/data`; a Path's parent)."""
    return str(location).rstrip("/").rsplit("/", 1)[0] if is_remote(location) else local_path(location).parent


def glob(folder: str | Path, pattern: str) -> list[str | Path]:
    """The files directly in `folder` whose name matches `pattern` (fnmatch), sorted: Paths for a
    local folder, URLs for a remote one."""
    if not is_remote(folder):
        return sorted(path for path in local_path(folder).glob(pattern) if path.is_file())
    return [url for url, _size, _modified in list_files(folder) if fnmatch.fnmatchcase(name_of(url), pattern)]


def subfolders(folder: str | Path) -> list[str]:
    """Names of the folders directly in `folder` (on a store: the prefixes that hold objects), sorted."""
    if not is_remote(folder):
        local = local_path(folder)
        return sorted(path.name for path in local.iterdir() if path.is_dir()) if local.is_dir() else []
    def listing(filesystem: Any, path: str) -> list[dict]:
        try:  # no separate existence check: one request per listing
            return filesystem.ls(path, detail=True)
        except FileNotFoundError:
            return []

    entries = _on_store(folder, "list", listing)
    return sorted(entry["name"].rstrip("/").rsplit("/", 1)[-1] for entry in entries if entry.get("type") == "directory")


def read_lines(location: str | Path) -> Iterator[str]:
    """The text lines of a file (UTF-8), read as a stream."""
    if not is_remote(location):
        with open(local_path(location), encoding="utf-8") as handle:
            yield from handle
        return
    with open_for_reading(location) as handle:
        for line in handle:
            yield line.decode("utf-8")
