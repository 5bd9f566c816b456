"""Colour filter calibration run over ../shared/data: rejection and keep rates, and precision and
recall on the hand-checked sample in tests/cleaning/colour_labels.csv.

    python benchmarks/colour_filter_calibration.py [--data ../shared/data] [--workers 2] [--out result.json]

Prints one JSON document (and writes it to --out).
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from preprocessing.image_analysis import analyse_image
from preprocessing.image_inventory import iter_image_files

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
LABELS = ROOT / "tests" / "cleaning" / "colour_labels.csv"


def _verdict(path: str) -> tuple[str, str | None, str, dict]:
    record = analyse_image(path, "-")
    return path, record["reason"], record.get("source_mode", "?"), record.get("chroma", {})


def read_labels(path: Path = LABELS) -> dict[str, str]:
    with open(path, encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {row["path"]: row["label"] for row in rows}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--records", type=Path, help="also write every image's statistics here (for tuning)")
    args = parser.parse_args(argv)
    folders = {name: [str(p) for p in iter_image_files(args.data / name)] for name in ("bw-archive", "bsds500", "caltech101")}
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        verdicts = {name: list(pool.map(_verdict, files, chunksize=32)) for name, files in folders.items()}
    seconds = time.perf_counter() - started
    labels = read_labels()
    result: dict = {"seconds": round(seconds, 1), "images": sum(len(v) for v in verdicts.values())}
    for name, rows in verdicts.items():
        result[name] = {"files": len(rows), "reasons": dict(Counter(reason or "kept" for _, reason, _, _ in rows).most_common())}
    bw = verdicts["bw-archive"]
    bw_mono = [r for r in bw if labels.get(str(Path(r[0]).relative_to(args.data))) != "colour"]
    result["bw_archive_rejected"] = sum(r[1] is not None for r in bw) / len(bw)
    result["bw_archive_monochrome_rejected"] = sum(r[1] is not None for r in bw_mono) / len(bw_mono)
    result["bsds500_kept"] = sum(r[1] is None for r in verdicts["bsds500"]) / len(verdicts["bsds500"])
    caltech = verdicts["caltech101"]
    single = [r for r in caltech if r[2] == "L"]
    result["caltech_single_channel_rejected"] = sum(r[1] is not None for r in single) / max(len(single), 1)
    # hand-checked sample: positives are monochrome (the class the filter rejects)
    by_path = {str(Path(p).relative_to(args.data)): reason for rows in verdicts.values() for p, reason, _, _ in rows}
    tp = sum(1 for p, label in labels.items() if label == "monochrome" and by_path.get(p) is not None)
    fp = sum(1 for p, label in labels.items() if label == "colour" and by_path.get(p) is not None)
    fn = sum(1 for p, label in labels.items() if label == "monochrome" and by_path.get(p) is None)
    caltech_labels = {p: l for p, l in labels.items() if p.startswith("caltech101/")}
    result["hand_checked"] = {
        "samples": len(labels),
        "precision_rejecting_monochrome": tp / max(tp + fp, 1),
        "recall_rejecting_monochrome": tp / max(tp + fn, 1),
        "caltech_sample_monochrome_rejected": sum(by_path[p] is not None for p, l in caltech_labels.items() if l == "monochrome")
        / max(sum(l == "monochrome" for l in caltech_labels.values()), 1),
        "caltech_sample_colour_kept": sum(by_path[p] is None for p, l in caltech_labels.items() if l == "colour")
        / max(sum(l == "colour" for l in caltech_labels.values()), 1),
        "errors": sorted(p for p, l in labels.items() if (by_path.get(p) is not None) != (l == "monochrome")),
    }
    if args.records:
        args.records.write_text(json.dumps({name: rows for name, rows in verdicts.items()}))
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
