"""How far the hand-checked labels agree with themselves, and the colour filter's rates on the files two
independent raters agree on.

    python benchmarks/colour_label_agreement.py [--data ../shared/data] [--workers 2] [--out result.json]

Compares preprocessing/cleaning/hand_labels/colour_labels_uniform.csv (first rater) with colour_labels_uniform_second.csv
(a second, blind labelling of the same 960 caltech101 files): agreement, Cohen's kappa, and how many
of each rater's unambiguous calls the other shares. Then runs the cleaning path's analysis on the 960
files and reports, for each colour filter setting, the share of unambiguous monochrome files rejected
and of unambiguous colour files kept: by the first rater's labels, by the second's, and on the
consensus (both raters unambiguous and of one mind). A goal finer than the raters' own agreement on a
class cannot be measured against one rater's labels.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.json_report import emit  # noqa: E402
from preprocessing.cleaning.colour_filter import (
    COLOUR_FILTER_KEEP_RATES,  # noqa: E402
    ColourThresholds,  # noqa: E402
)
from preprocessing.cleaning.colour_labels import (  # noqa: E402
    SECOND_UNIFORM_LABELS,
    UNIFORM_LABELS,
    is_ambiguous,
    read_labels,
)
from preprocessing.cleaning.image_analysis import analyse_image, verdict_under  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
Labels = dict[str, tuple[str, str]]


def clear(labels: Labels, label: str) -> set[str]:
    return {path for path, (value, note) in labels.items() if value == label and not is_ambiguous(note)}


def agreement(first: Labels, second: Labels) -> dict:
    paths = sorted(first)
    same = sum(first[p][0] == second[p][0] for p in paths) / len(paths)
    share = {label: sum(first[p][0] == label for p in paths) / len(paths) for label in ("monochrome", "colour")}
    share2 = {label: sum(second[p][0] == label for p in paths) / len(paths) for label in ("monochrome", "colour")}
    chance = sum(share[label] * share2[label] for label in share)
    shared = {}
    for label in ("monochrome", "colour"):
        for name, mine, other in (("first", first, second), ("second", second, first)):
            own = clear(mine, label)
            shared[f"{name}_clear_{label}"] = {
                "files": len(own),
                "other_says_same": round(sum(other[p][0] == label for p in own) / max(len(own), 1), 4),
                "other_says_same_unambiguously": round(len(own & clear(other, label)) / max(len(own), 1), 4),
            }
    return {
        "files": len(paths),
        "agreement": round(same, 4),
        "cohens_kappa": round((same - chance) / (1 - chance), 3),
        "monochrome_calls": {"first": sum(first[p][0] == "monochrome" for p in paths),
                             "second": sum(second[p][0] == "monochrome" for p in paths),
                             "both": sum(first[p][0] == second[p][0] == "monochrome" for p in paths)},
        "shared_calls": shared,
        "disagreements": sorted(f"{p}: first {first[p][0]} ({first[p][1]}), second {second[p][0]} ({second[p][1]})"
                                for p in paths if first[p][0] != second[p][0]),
    }


def filter_rates(rejected: dict[str, bool], monochrome: set[str], colour: set[str]) -> dict:
    return {
        "monochrome_rejected": round(sum(rejected[p] for p in monochrome) / len(monochrome), 4),
        "monochrome_files": len(monochrome),
        "colour_kept": round(sum(not rejected[p] for p in colour) / len(colour), 4),
        "colour_files": len(colour),
        "monochrome_kept": sorted(p for p in monochrome if not rejected[p]),
    }


def _record(path: Path) -> dict:
    return analyse_image(path, "-")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    first, second = read_labels(UNIFORM_LABELS), read_labels(SECOND_UNIFORM_LABELS)
    if set(first) != set(second):
        raise SystemExit("the two label files name different files")
    paths = sorted(first)
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        records = dict(zip(paths, pool.map(_record, [args.data / p for p in paths], chunksize=32)))
    sets = {
        "first": (clear(first, "monochrome"), clear(first, "colour")),
        "second": (clear(second, "monochrome"), clear(second, "colour")),
        "consensus": (clear(first, "monochrome") & clear(second, "monochrome"), clear(first, "colour") & clear(second, "colour")),
    }
    result: dict = {"labels": agreement(first, second), "filter": {}}
    for setting in COLOUR_FILTER_KEEP_RATES:
        thresholds = ColourThresholds(colour_filter=setting)
        rejected = {p: verdict_under(r, thresholds)["reason"] is not None for p, r in records.items()}
        result["filter"][setting] = {name: filter_rates(rejected, *pair) for name, pair in sets.items()}
    emit(result, args.out)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
