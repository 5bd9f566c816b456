"""No output overwrites another: a GIF (written as PNG) beside a PNG of the same stem, GIFs whose
suffixes differ only in case, and files whose names differ only in case each get their own output,
under a predictable name recorded in the ledger."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from inference.colorize_run import colorize_input, workspace_of
from inference.colorizer import ColorizeSettings
from inference.run_ledger import DONE, RunLedger
from tests.model_inputs import archive_sample

SETTINGS = ColorizeSettings(working_size=64, force=True)
# input name -> (format, the output name it must get); sorted order decides who keeps a contested name.
EXPECTED = {
    "box/a.gif": ("GIF", "box/a.gif.png"),  # a.png is another input's name: the GIF takes a longer one
    "box/a.png": ("PNG", "box/a.png"),
    "box/C.jpg": ("JPEG", "box/C.jpg"),
    "box/c.jpg": ("JPEG", "box/c~2.jpg"),  # same name but for case: one file on a case-insensitive disk
    "box/e.GIF": ("GIF", "box/e.png"),
    "box/e.gif": ("GIF", "box/e.gif.png"),
}


def _outputs(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and ".tintype" not in p.relative_to(out).parts}


def test_colliding_output_names_get_distinct_predictable_names(tiny_bundle, tmp_path):
    source = tmp_path / "in"
    (source / "box").mkdir(parents=True)
    sizes = {}
    for index, (photo, (name, (fmt, _))) in enumerate(zip(archive_sample(), EXPECTED.items())):
        with Image.open(photo) as image:
            small = image.convert("L").resize((96 + 8 * index, 80 + 4 * index))  # a distinct size per input
        small.save(source / name, format=fmt)
        sizes[name] = small.size
    out = tmp_path / "out"

    report = colorize_input(source, out, tiny_bundle, SETTINGS)
    assert report.done == len(EXPECTED) and report.failed == 0
    entries = {e.source: e for e in RunLedger(workspace_of(out)).entries().values()}
    assert {name: entries[name].output for name in EXPECTED} == {name: want for name, (_, want) in EXPECTED.items()}
    assert all(e.status == DONE for e in entries.values())
    produced = _outputs(out)
    assert produced == {want for _, want in EXPECTED.values()}
    assert len({name.casefold() for name in produced}) == len(EXPECTED)
    for name, (_, want) in EXPECTED.items():
        with Image.open(out / want) as colour:  # each output is its own input's picture
            assert colour.size == sizes[name], (name, want)

    again = colorize_input(source, out, tiny_bundle, SETTINGS)
    assert again.done == 0 and again.settled == len(EXPECTED)
    assert _outputs(out) == produced
