"""Colour filter calibration run over ../shared/data: rejection and keep rates of the three folders, and
precision and recall on the hand-checked samples (preprocessing/cleaning/hand_labels/colour_labels.csv, drawn at the
boundary, and colour_labels_uniform.csv, a uniform sample of caltech101 that estimates its rates).

    python benchmarks/colour_filter_calibration.py [--data ../shared/data] [--workers 2] [--out result.json]
                                                   [--records statistics.json] [--colour-filter strict]

Prints one JSON document (and writes it to --out). "Positive" is monochrome: precision is the share of
rejected sample images that are monochrome by eye, recall the share of monochrome ones rejected. The
classifier was fitted on these same labels (python -m preprocessing.cleaning.classifier_fitting), so these rates are
in-sample; its out-of-fold rates are in preprocessing/monochrome_classifier.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.json_report import emit  # noqa: E402
from preprocessing.cleaning.colour_filter import (  # noqa: E402
    COLOUR_FILTER_KEEP_RATES,
    DEFAULT_THRESHOLDS,
    ColourThresholds,  # noqa: E402
)
from preprocessing.cleaning.colour_labels import (  # noqa: E402
    UNIFORM_LABELS,
    half_of,
    is_ambiguous,
    read_labels,
)
from preprocessing.cleaning.image_analysis import CleaningSettings, analyse_image  # noqa: E402
from preprocessing.images.image_inventory import iter_image_files  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
FOLDERS = ("bw-archive", "bsds500", "caltech101")


def _verdict(path: str, colour_filter: str = DEFAULT_THRESHOLDS.colour_filter) -> dict:
    record = analyse_image(path, "-", CleaningSettings(colour=ColourThresholds(colour_filter=colour_filter)))
    keep = ("reason", "source_mode", "chroma", "colourfulness", "monochrome_score")
    return {"path": path, **{key: record.get(key) for key in keep}}


def _rate(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def sample_scores(rejected: dict[str, bool], labels: dict[str, tuple[str, str]]) -> dict:
    """Precision and recall of rejecting monochrome, plus both classes' rates, on labelled paths."""
    monochrome = [rejected[p] for p, (label, _) in labels.items() if label == "monochrome"]
    colour = [rejected[p] for p, (label, _) in labels.items() if label == "colour"]
    true_positive, false_positive = sum(monochrome), sum(colour)
    return {
        "images": len(monochrome) + len(colour),
        "monochrome": len(monochrome),
        "colour": len(colour),
        "precision": round(true_positive / max(true_positive + false_positive, 1), 4),
        "recall": _rate(monochrome),
        "monochrome_rejected": _rate(monochrome),
        "colour_kept": _rate([not r for r in colour]),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--records", type=Path, help="also write every image's statistics here (for tuning)")
    parser.add_argument("--colour-filter", choices=list(COLOUR_FILTER_KEEP_RATES), default=DEFAULT_THRESHOLDS.colour_filter)
    args = parser.parse_args(argv)
    folders = {name: [str(p) for p in iter_image_files(args.data / name)] for name in FOLDERS}
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        verdicts = {name: list(pool.map(partial(_verdict, colour_filter=args.colour_filter), files, chunksize=32)) for name, files in folders.items()}
    seconds = time.perf_counter() - started
    relative = lambda record: str(Path(record["path"]).relative_to(args.data))  # noqa: E731
    rejected = {relative(r): r["reason"] is not None for rows in verdicts.values() for r in rows}
    labels = {p: value for p, value in read_labels().items() if p in rejected}
    result: dict = {"seconds": round(seconds, 1), "images": len(rejected), "colour_filter": args.colour_filter}
    for name, rows in verdicts.items():
        result[name] = {"files": len(rows), "reasons": dict(Counter(r["reason"] or "kept" for r in rows).most_common())}
    bw = [relative(r) for r in verdicts["bw-archive"]]
    bw_monochrome = [p for p in bw if labels.get(p, ("monochrome",))[0] == "monochrome"]
    caltech = verdicts["caltech101"]
    result["full_folders"] = {
        "bw_archive_rejected": _rate([rejected[p] for p in bw]),
        "bw_archive_monochrome_rejected": _rate([rejected[p] for p in bw_monochrome]),
        "bw_archive_monochrome_files": len(bw_monochrome),
        "bsds500_kept": _rate([not rejected[relative(r)] for r in verdicts["bsds500"]]),
        "caltech_single_channel_rejected": _rate([r["reason"] is not None for r in caltech if r["source_mode"] == "L"]),
        "caltech_rgb_rejected": _rate([r["reason"] is not None for r in caltech if r["source_mode"] != "L"]),
    }
    sample: dict = {"all": sample_scores(rejected, labels)}
    for source in FOLDERS:
        sample[source] = sample_scores(rejected, {p: v for p, v in labels.items() if p.startswith(source + "/")})
    for half in ("fit", "holdout"):
        in_half = {p: v for p, v in labels.items() if half_of(p) == half}
        sample[half] = sample_scores(rejected, in_half)
        sample[f"{half}_caltech101"] = sample_scores(rejected, {p: v for p, v in in_half.items() if p.startswith("caltech101/")})
    ambiguous = {p: v for p, v in labels.items() if "ambiguous" in v[1]}
    sample["ambiguous"] = sample_scores(rejected, ambiguous)
    sample["unambiguous_caltech101"] = sample_scores(
        rejected, {p: v for p, v in labels.items() if p.startswith("caltech101/") and p not in ambiguous})
    sample["errors"] = sorted(f"{p} ({label}: {note})" for p, (label, note) in labels.items()
                              if rejected[p] != (label == "monochrome"))
    result["hand_checked"] = sample
    uniform = {p: v for p, v in read_labels(UNIFORM_LABELS).items() if p in rejected}
    clear = {p: v for p, v in uniform.items() if not is_ambiguous(v[1])}
    result["uniform_caltech_sample"] = {
        "all": sample_scores(rejected, uniform),
        "without_ambiguous": sample_scores(rejected, clear),
        "errors": sorted(f"{p} ({label}: {note})" for p, (label, note) in uniform.items()
                         if rejected[p] != (label == "monochrome")),
    }
    if args.records:
        args.records.write_text(json.dumps({relative(r): r for rows in verdicts.values() for r in rows}))
    emit(result, args.out)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
