"""Artifacts that recorded an identity before safe_files.identity (cut at 64, 12 or 8 characters)
are still recognised as this run's: upgrading never silently turns finished work stale."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict

from inference.colorize_run import colorize_input, workspace_of
from inference.colorizer import ColorizeSettings, ledger_version
from inference.model_loading import resolve_bundle
from inference.run_ledger import LEDGER_FILE
from preprocessing.cleaning.clean_run import RECORDS_FORMAT, WORK_DIR, records_folder
from preprocessing.images.image_loading import ValidationLimits
from preprocessing.shards.shard_part import _claim_part, part_fingerprint
from preprocessing.shards.shard_plan import INDEX_DIR, ShardPlan, ShardSettings
from safe_files.atomic_output import read_json, write_json_atomic
from tests.model_inputs import archive_sample


def _legacy_digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def test_a_records_folder_named_by_the_12_character_cut_is_reused(tmp_path):
    limits = ValidationLimits(min_side=48)
    legacy = tmp_path / WORK_DIR / f"records-{RECORDS_FORMAT}-{_legacy_digest(asdict(limits))[:12]}"
    legacy.mkdir(parents=True)
    assert records_folder(limits, tmp_path) == legacy.name
    assert records_folder(ValidationLimits(min_side=32), tmp_path) != legacy.name
    assert records_folder(limits, tmp_path / "fresh") == f"records-{RECORDS_FORMAT}-{_legacy_digest(asdict(limits))[:16]}"


def test_a_shard_part_claimed_under_the_full_digest_keeps_its_shards(tmp_path):
    plan = ShardPlan(str(tmp_path), ShardSettings(), {"train": [[["a.jpg", "ab" * 32]]], "val": []})
    recorded = {k: v for k, v in asdict(plan.settings).items() if k != "keep_small"}  # settings as old runs recorded them
    legacy = _legacy_digest({"items": plan.parts["train"][0], "settings": recorded})
    write_json_atomic(tmp_path / INDEX_DIR / "train-000.part.json", {"fingerprint": legacy})
    (tmp_path / "train-000000.tar").write_bytes(b"a finished shard")
    _claim_part(tmp_path, "train", 0, part_fingerprint(plan, "train", 0))
    assert (tmp_path / "train-000000.tar").exists()
    other = ShardPlan(str(tmp_path), ShardSettings(short_side=128), plan.parts)
    _claim_part(tmp_path, "train", 0, part_fingerprint(other, "train", 0))
    assert not (tmp_path / "train-000000.tar").exists()  # another size: the part starts afresh


def test_a_ledger_written_with_8_character_setting_tags_still_settles(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    for photo in [p for p in archive_sample() if p.suffix.lower() == ".jpg"][:2]:
        shutil.copyfile(photo, scans / photo.name)
    out, fast = tmp_path / "out", resolve_bundle("fast")
    muted = ColorizeSettings(working_size=64, saturation=0.3)
    assert colorize_input(scans, out, fast, muted, workers=1).done == 2
    ledger = workspace_of(out) / LEDGER_FILE
    current = ledger_version((fast / "version.txt").read_text().strip(), muted)
    base, tag = current.rsplit("~", 1)
    entries = read_json(ledger)["entries"]
    assert {entry["model_version"] for entry in entries} == {current}
    # what the ledger held before: the same settings' digest cut at 8 characters
    write_json_atomic(ledger, {"entries": [dict(entry, model_version=f"{base}~{tag[:8]}") for entry in entries]})
    again = colorize_input(scans, out, fast, muted, workers=1)
    assert again.settled == 2 and again.done == 0
