"""`tintype colorize` on large-format inputs (issue 24): a decompression bomb is one failed item in the
ledger with its reason, not a crash, and --max-pixels is the memory budget: over it an input is
refused naming the setting, and a re-run with a larger value colorizes it."""

from __future__ import annotations

import json

from cli.main import main
from inference.colorize_run import workspace_of
from inference.run_ledger import DONE, FAILED, RunLedger
from tests.model_inputs import archive_photo_in, near_empty_png


def _ledger(out) -> dict:
    return {e.source: e for e in RunLedger(workspace_of(out)).entries().values()}


def test_colorize_refuses_the_bomb_in_its_ledger_and_takes_max_pixels(prefect_server, tiny_bundle, tmp_path, capsys):
    inbox = tmp_path / "in"
    photo, pixels = archive_photo_in(inbox)
    (inbox / "bomb.png").write_bytes(near_empty_png(20000, 20000))
    out = tmp_path / "out"
    command = ["colorize", str(inbox), str(out), "--model", str(tiny_bundle), "--working-size", "64", "-q"]

    assert main([*command, "--max-pixels", str(pixels - 1)]) == 1  # nothing colorized: every input refused
    totals = json.loads(capsys.readouterr().out)
    assert totals["failed"] == 2 and totals["done"] == 0
    ledger = _ledger(out)
    assert ledger["bomb.png"].status == FAILED and ledger["bomb.png"].reason == "too-large"
    assert ledger[photo.name].status == FAILED and ledger[photo.name].reason == "too-large"
    assert "--max-pixels" in ledger[photo.name].error

    assert main([*command, "--max-pixels", "1000000000"]) == 0  # the same output: the refused inputs are retried
    totals = json.loads(capsys.readouterr().out)
    assert totals["done"] == 1 and totals["failed"] == 1
    ledger = _ledger(out)
    assert ledger[photo.name].status == DONE and (out / photo.name).is_file()
    bomb = ledger["bomb.png"]  # its 400 MP are within this budget, yet no budget admits it
    assert bomb.status == FAILED and bomb.reason == "implausible"
    assert "decompression bomb" in bomb.error and "--max-pixels" in bomb.error
