"""Read a URL list: plain text (one per line, # comments), CSV/TSV, JSON Lines or Parquet with a `url` column.

Optional columns carried along: `alt` (or `caption`, `text`) and `title`. Parquet needs pyarrow
(the `parquet` extra); every other format needs only the standard library.

Split a URL list into batch files under raw/batches/, one per task, so tasks pass paths, not lists.

Deterministic: the same list gives the same batches, so a re-run (or a retried task) sees the same
work. Each batch file is JSON Lines with url/alt/title and is written atomically.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Iterator

from safe_files import data_root_storage as storage
from safe_files.atomic_output import write_bytes_atomic

ALT_COLUMNS = ("alt", "caption", "text")


@dataclass(frozen=True)
class ListedUrl:
    url: str
    alt: str = ""
    title: str = ""


class UrlListError(ValueError):
    """A URL list that cannot be read; the message names the file and the line or column."""


def _from_record(record: dict, where: str) -> ListedUrl | None:
    if "url" not in record:
        raise UrlListError(f"{where}: no 'url' field (fields: {sorted(record)})")
    url = record.get("url")
    if url is None or not str(url).strip():
        return None
    alt = next((str(record[c]) for c in ALT_COLUMNS if record.get(c)), "")
    return ListedUrl(str(url).strip(), alt, str(record.get("title") or ""))


def _open_text(path: str | Path, newline: str | None = None) -> IO[str]:
    """A text handle on a local file or an object (a URL list, or its batches in a bucket's raw/)."""
    return io.TextIOWrapper(storage.open_for_reading(path), encoding="utf-8", newline=newline)


def _read_text(path: str | Path) -> Iterator[ListedUrl]:
    with _open_text(path) as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith("#"):
                yield ListedUrl(line)


def _read_csv(path: str | Path, delimiter: str) -> Iterator[ListedUrl]:
    with _open_text(path, newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        if not reader.fieldnames or "url" not in reader.fieldnames:
            raise UrlListError(f"{path}: no 'url' column in the header {reader.fieldnames}")
        for number, row in enumerate(reader, start=2):
            if (entry := _from_record(row, f"{path}:{number}")) is not None:
                yield entry


def _read_jsonl(path: str | Path) -> Iterator[ListedUrl]:
    with _open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise UrlListError(f"{path}:{number}: not JSON ({error.msg})") from error
            if not isinstance(record, dict):
                raise UrlListError(f"{path}:{number}: expected an object with a 'url' field")
            if (entry := _from_record(record, f"{path}:{number}")) is not None:
                yield entry


def _read_parquet(path: str | Path) -> Iterator[ListedUrl]:
    try:
        import pyarrow.parquet as parquet
    except ImportError as error:
        raise UrlListError(f"{path}: reading Parquet needs pyarrow (pip install 'tintype[parquet]')") from error
    table = parquet.ParquetFile(path if not storage.is_remote(path) else storage.open_for_reading(path))
    names = table.schema_arrow.names
    if "url" not in names:
        raise UrlListError(f"{path}: no 'url' column (columns: {names})")
    wanted = ["url"] + [c for c in (*ALT_COLUMNS, "title") if c in names]
    for batch in table.iter_batches(columns=wanted, batch_size=65536):
        for record in batch.to_pylist():
            if (entry := _from_record(record, str(path))) is not None:
                yield entry


def read_url_list(path: str | Path) -> Iterator[ListedUrl]:
    """Entries in file order (duplicates kept: the runner canonicalises and dedups)."""
    path = storage.location(path)
    if not storage.is_file(path):
        raise UrlListError(f"URL list not found: {path}")
    suffix = Path(storage.name_of(path)).suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, ",")
    if suffix == ".tsv":
        return _read_csv(path, "\t")
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(path)
    if suffix in (".parquet", ".pq"):
        return _read_parquet(path)
    return _read_text(path)


BATCH_DIR = "batches"


def write_url_batches(url_list: str | Path, raw_dir: str | Path, batch_size: int = 10_000) -> list[str | Path]:
    """Write raw/batches/<list-stem>-00000.jsonl, ...; returns their paths (or URLs) in order."""
    batch_dir = storage.join(raw_dir, BATCH_DIR)
    stem = Path(storage.name_of(url_list)).stem.replace(".", "-") or "urls"
    entries = iter(read_url_list(url_list))
    paths: list[str | Path] = []
    while chunk := list(islice(entries, max(1, batch_size))):
        path = storage.join(batch_dir, f"{stem}-{len(paths):05d}.jsonl")
        lines = "".join(json.dumps({"url": e.url, "alt": e.alt, "title": e.title}, ensure_ascii=False) + "\n" for e in chunk)
        data = lines.encode("utf-8")
        if not (storage.is_file(path) and storage.read_bytes(path) == data):
            write_bytes_atomic(path, data)
        paths.append(path)
    if not paths:
        raise ValueError(f"URL list {url_list} holds no URLs; give one image URL a line (.txt) or a url column")
    return paths
