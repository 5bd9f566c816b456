"""Contact sheets of a cleaning run: duplicate clusters (kept framed green, dropped red) and a grid of dropped images.

A contact sheet PNG: sample duplicate clusters (kept image framed green, dropped red) and a grid
of rejected images with their reason, for a person to check the cleaning at a glance.

The contact sheet of a finished cleaning run, drawn from its report and dropped list.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

from preprocessing.cleaning.clean_decision import read_dropped
from preprocessing.cleaning.clean_run import REPORT_FILE
from preprocessing.images.image_loading import load_rgb
from safe_files import data_root_storage as storage
from safe_files.atomic_output import read_json, write_bytes_atomic

THUMB = 128
LABEL = 14
KEPT_COLOUR = (30, 160, 60)
DROPPED_COLOUR = (200, 40, 40)


def _thumbnail(path: str, frame: tuple[int, int, int], label: str) -> Image.Image:
    tile = Image.new("RGB", (THUMB, THUMB + LABEL), "white")
    try:
        image = load_rgb(path)
        image.thumbnail((THUMB - 6, THUMB - 6))
        tile.paste(image, ((THUMB - image.width) // 2, (THUMB - image.height) // 2))
    except Exception:  # a corrupt file is exactly what the sheet may show: draw an empty tile
        pass
    draw = ImageDraw.Draw(tile)
    draw.rectangle((0, 0, THUMB - 1, THUMB - 1), outline=frame, width=3)
    draw.text((3, THUMB + 1), label[:20], fill=(0, 0, 0))
    return tile


def write_contact_sheet(
    clusters: list[list[dict]], rejected: list[dict], path: str | Path, max_clusters: int = 8,
    max_per_cluster: int = 6, max_rejected: int = 24, columns: int = 8,
) -> str | Path:
    """`clusters`: lists of records, kept first. `rejected`: dropped records with a `reason`."""
    rows: list[list[Image.Image]] = []
    for cluster in clusters[:max_clusters]:
        rows.append(
            [_thumbnail(cluster[0]["path"], KEPT_COLOUR, "kept")]
            + [_thumbnail(r["path"], DROPPED_COLOUR, r.get("detail") or r["reason"]) for r in cluster[1:max_per_cluster]]
        )
    sample = rejected[:max_rejected]
    for start in range(0, len(sample), columns):
        rows.append([_thumbnail(r["path"], DROPPED_COLOUR, r["reason"]) for r in sample[start : start + columns]])
    width = max([len(row) for row in rows] + [1]) * THUMB
    sheet = Image.new("RGB", (width, max(len(rows), 1) * (THUMB + LABEL)), (235, 235, 235))
    for y, row in enumerate(rows):
        for x, tile in enumerate(row):
            sheet.paste(tile, (x * THUMB, y * (THUMB + LABEL)))
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    write_bytes_atomic(path, buffer.getvalue())
    return storage.location(path)


def sheet_from_report(clean_dir: str | Path, path: str | Path) -> str | Path:
    dropped = read_dropped(clean_dir)
    by_path = {row["path"]: row for row in dropped}
    clusters = [
        [{"path": members[0], "reason": "kept"}] + [by_path.get(p, {"path": p, "reason": "duplicate"}) for p in members[1:]]
        for members in read_json(storage.join(clean_dir, REPORT_FILE))["clusters"]
    ]
    rejected: list[dict] = []
    for row in dropped:  # up to three of each reason, so every reason shows
        if "duplicate" not in row["reason"] and sum(r["reason"] == row["reason"] for r in rejected) < 3:
            rejected.append(row)
    return write_contact_sheet(clusters, rejected, path)
