"""The contact sheet of a finished cleaning run, drawn from its report and dropped list."""

from __future__ import annotations

from pathlib import Path

from preprocessing.atomic_files import read_json
from preprocessing.clean_decision import read_dropped
from preprocessing.clean_plan import REPORT_FILE
from preprocessing.contact_sheet import write_contact_sheet


def sheet_from_report(clean_dir: str | Path, path: str | Path) -> Path:
    dropped = read_dropped(clean_dir)
    by_path = {row["path"]: row for row in dropped}
    clusters = [
        [{"path": members[0], "reason": "kept"}] + [by_path.get(p, {"path": p, "reason": "duplicate"}) for p in members[1:]]
        for members in read_json(Path(clean_dir) / REPORT_FILE)["clusters"]
    ]
    rejected: list[dict] = []
    for row in dropped:  # up to three of each reason, so every reason shows
        if "duplicate" not in row["reason"] and sum(r["reason"] == row["reason"] for r in rejected) < 3:
            rejected.append(row)
    return write_contact_sheet(clusters, rejected, path)
