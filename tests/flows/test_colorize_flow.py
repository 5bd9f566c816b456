"""The colorize-archive flow under a real Prefect server: counts, artifacts, inbox mode."""

from __future__ import annotations

import json
import shutil
import zipfile

from inference.colorize_run import workspace_of
from inference.colorizer import ColorizeSettings
from inference.inbox_index import INBOX_INDEX
from inference.run_ledger import RunLedger
from tests.model_inputs import archive_photo_in, archive_sample

SIZE_64 = ColorizeSettings(working_size=64)


def test_flow_zip_in_zip_out_with_artifacts_and_inbox(prefect_server, tiny_bundle, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.colorize_archive import colorize_archive

    photos = archive_sample()[:6]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with zipfile.ZipFile(inbox / "donation-1.zip", "w") as bundle:
        for photo in photos[:4]:
            bundle.write(photo, f"envelope/{photo.name}")
    shutil.copyfile(photos[4], inbox / photos[4].name)
    out = tmp_path / "colour"

    totals = colorize_archive(input=str(inbox), output=str(out), model=str(tiny_bundle), settings=SIZE_64, inbox=True)
    assert totals["done"] + totals["skipped"] == 5 and totals["failed"] == 0
    assert (out / "donation-1.zip" / "envelope" / photos[0].name).is_file()
    assert (workspace_of(out) / INBOX_INDEX).is_file()

    with get_client(sync_client=True) as client:
        keys = ArtifactFilter(key=ArtifactFilterKey(any_=["colorize-summary", "colorize-previews"]))
        artifacts = {a.key: a for a in sorted(client.read_artifacts(artifact_filter=keys), key=lambda a: a.created)}
    assert {"colorize-summary", "colorize-previews"} <= set(artifacts)
    table = artifacts["colorize-summary"].data
    summary = {row["measure"]: row["value"] for row in (json.loads(table) if isinstance(table, str) else table)}
    assert summary["done"] == totals["done"] and "images/s" in summary
    assert "data:image/jpeg;base64," in artifacts["colorize-previews"].data

    # A scheduled re-run after a new donation: only the new archive is planned and colorized.
    with zipfile.ZipFile(inbox / "donation-2.zip", "w") as bundle:
        bundle.write(photos[5], photos[5].name)
    again = colorize_archive(input=str(inbox), output=str(out), model=str(tiny_bundle), settings=SIZE_64, inbox=True)
    assert again["done"] + again["skipped"] == 1 and again["settled"] == 0
    sources = {e.source for e in RunLedger(workspace_of(out)).entries().values()}
    assert f"donation-2.zip/{photos[5].name}" in sources

    # Another model: the inbox index is per model version, so all six are planned again (the listing
    # of the unchanged inbox comes from the planning cache; the inbox filter must not have rewritten it).
    other = colorize_archive(input=str(inbox), output=str(out), model="fast", settings=SIZE_64, inbox=True)
    assert other["done"] + other["skipped"] == 6 and other["failed"] == 0


def test_a_listed_file_that_arrives_later_is_colorized_by_the_next_run(prefect_server, tiny_bundle, tmp_path):
    # the listing is cached on what it reads: for a list file, the files it names as well
    from flows.colorize_archive import colorize_archive

    photos = archive_sample()[:2]
    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copyfile(photos[0], scans / photos[0].name)
    listing = scans / "to-do.txt"
    listing.write_text(f"{photos[0].name}\n{photos[1].name}\n")
    out = tmp_path / "colour"

    first = colorize_archive(input=str(listing), output=str(out), model=str(tiny_bundle), settings=SIZE_64)
    assert first["done"] + first["skipped"] == 1 and first["failed"] == 1  # the second is missing
    shutil.copyfile(photos[1], scans / photos[1].name)
    second = colorize_archive(input=str(listing), output=str(out), model=str(tiny_bundle), settings=SIZE_64)
    assert second["done"] + second["skipped"] == 1 and second["failed"] == 0 and second["settled"] == 1


def test_the_memory_budget_reaches_the_inbox_run(prefect_server, tiny_bundle, tmp_path):
    # settings.max_pixels (tintype colorize --max-pixels, the inbox deployment's form): over it an input
    # fails naming the setting and its inbox entry is not marked done, so the next run takes it again
    from flows.colorize_archive import colorize_archive

    inbox = tmp_path / "inbox"
    photo, pixels = archive_photo_in(inbox)
    out = tmp_path / "colour"
    tight = ColorizeSettings(working_size=64, max_pixels=pixels - 1)
    refused = colorize_archive(input=str(inbox), output=str(out), model=str(tiny_bundle), settings=tight, inbox=True)
    assert refused["failed"] == 1 and refused["done"] == 0
    entry = next(iter(RunLedger(workspace_of(out)).entries().values()))
    assert entry.reason == "too-large" and "--max-pixels" in entry.error
    admitted = colorize_archive(input=str(inbox), output=str(out), model=str(tiny_bundle), settings=SIZE_64, inbox=True)
    assert admitted["done"] + admitted["skipped"] == 1 and admitted["failed"] == 0
