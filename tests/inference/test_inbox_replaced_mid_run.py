"""Inbox mode remembers an entry as it was when planned: a file replaced while its run colorizes the old
one is planned again by the next run, on disk and in a bucket (a real S3 server on 127.0.0.1)."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from inference.colorize_run import ColorizePlan, colorize_input, filter_plan_for_inbox, mark_inbox_entries, plan_run
from inference.colorizer import ColorizeSettings
from safe_files import data_root_storage as storage
from tests.model_inputs import archive_sample

SMALL = ColorizeSettings(working_size=64)


def _planned_names(plan_path) -> set[str]:
    return {record["name"] for batch in ColorizePlan.load(plan_path).batches for record in batch}


@pytest.mark.parametrize("where", ["disk", "bucket"])
def test_an_entry_replaced_during_its_run_is_planned_again(where, tiny_bundle, tmp_path, request):
    photos = archive_sample(3)
    local_inbox = tmp_path / "inbox"
    local_inbox.mkdir()
    for photo in photos:
        shutil.copyfile(photo, local_inbox / photo.name)
    if where == "bucket":
        bucket = request.getfixturevalue("s3_bucket")
        inbox, output = f"{bucket}/inbox", f"{bucket}/colorized"
        for photo in photos:
            storage.upload_whole(local_inbox / photo.name, f"{inbox}/{photo.name}")
    else:
        inbox, output = str(local_inbox), str(tmp_path / "colorized")
    replaced = photos[1].name

    def replace_in_inbox() -> None:  # new bytes under the same name, as a scanner re-saving a file
        time.sleep(1.1)  # an object's LastModified and some filesystems' mtimes move in whole seconds
        shutil.copyfile(photos[2], local_inbox / replaced)
        os.utime(local_inbox / replaced)
        if where == "bucket":
            storage.upload_whole(local_inbox / replaced, f"{inbox}/{replaced}")

    # The first run: planned, then the file is replaced while it runs, then the run finishes and marks.
    first = filter_plan_for_inbox(plan_run(inbox, output), str(tiny_bundle), SMALL)
    assert _planned_names(first) == {photo.name for photo in photos}
    replace_in_inbox()
    report = colorize_input(inbox, output, str(tiny_bundle), SMALL)
    assert report.failed == 0
    mark_inbox_entries(first, str(tiny_bundle), SMALL)

    # The next run plans the replaced file again (its planned fingerprint no longer matches), nothing else.
    assert _planned_names(filter_plan_for_inbox(plan_run(inbox, output), str(tiny_bundle), SMALL)) == {replaced}
