"""Split a URL list into batch files under raw/batches/, one per task, so tasks pass paths, not lists.

Deterministic: the same list gives the same batches, so a re-run (or a retried task) sees the same
work. Each batch file is JSON Lines with url/alt/title and is written atomically.
"""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path

from scraping.atomic_write import write_bytes_atomic
from scraping.url_lists import read_url_list

BATCH_DIR = "batches"


def write_url_batches(url_list: str | Path, raw_dir: str | Path, batch_size: int = 10_000) -> list[Path]:
    """Write raw/batches/<list-stem>-00000.jsonl, ...; returns their paths in order."""
    batch_dir = Path(raw_dir) / BATCH_DIR
    stem = Path(url_list).stem.replace(".", "-") or "urls"
    entries = iter(read_url_list(url_list))
    paths: list[Path] = []
    while chunk := list(islice(entries, max(1, batch_size))):
        path = batch_dir / f"{stem}-{len(paths):05d}.jsonl"
        lines = "".join(json.dumps({"url": e.url, "alt": e.alt, "title": e.title}, ensure_ascii=False) + "\n" for e in chunk)
        data = lines.encode("utf-8")
        if not (path.is_file() and path.read_bytes() == data):
            write_bytes_atomic(path, data)
        paths.append(path)
    if not paths:
        raise ValueError(f"URL list {url_list} holds no URLs")
    return paths
