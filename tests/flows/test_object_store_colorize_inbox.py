"""The colorize-archive flow in inbox mode with the inbox in a bucket on a real S3 server on 127.0.0.1 and
the model bundle given by its URL (a real Prefect server): the first run colorizes everything with the
pixels a local inbox and local bundle give, an unchanged re-run plans nothing, and an object replaced
under the same key (new size and ETag) is colorized again, alone."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from inference.colorize_run import workspace_of
from inference.colorizer import ColorizeSettings
from inference.inbox_index import INBOX_INDEX
from safe_files import data_root_storage as storage
from safe_files.atomic_output import read_json
from tests.conftest import shared_folder

SIZE_64 = ColorizeSettings(working_size=64)
PHOTOS = ("1920sFamilyPhoto.jpg", "NorwegianBride1920s.jpg", "LondonGarbageTruck1910.jpg", "1900sSaloon.jpg", "1860sSamauris.png")


def _pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def _outputs(out: str | Path) -> dict[str, np.ndarray]:
    if storage.is_remote(out):
        return {name: _pixels(storage.read_bytes(url)) for url, name, _ in storage.walk_names(out) if not name.startswith(".tintype/")}
    return {p.relative_to(out).as_posix(): _pixels(p.read_bytes()) for p in Path(out).rglob("*")
            if p.is_file() and ".tintype" not in p.relative_to(out).parts}


def test_an_inbox_in_a_bucket_skips_unchanged_objects_and_redoes_a_replaced_one(prefect_server, s3_bucket, tiny_bundle, tmp_path):
    from flows.colorize_archive import colorize_archive

    folder = shared_folder("bw-archive")
    photos = [folder / name for name in PHOTOS]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with zipfile.ZipFile(inbox / "donation-1.zip", "w") as packed:
        for photo in photos[:2]:
            packed.write(photo, f"envelope/{photo.name}")
    for photo in photos[2:4]:
        shutil.copyfile(photo, inbox / photo.name)
    remote_inbox, out = f"{s3_bucket}/inbox", f"{s3_bucket}/colour"
    for file in sorted(inbox.iterdir()):
        storage.upload_whole(file, f"{remote_inbox}/{file.name}")
    bundle_url = f"{s3_bucket}/bundles/b1"
    for file in sorted(p for p in tiny_bundle.rglob("*") if p.is_file() and p.name != "version.txt"):
        storage.upload_whole(file, f"{bundle_url}/{file.relative_to(tiny_bundle).as_posix()}")
    storage.upload_whole(tiny_bundle / "version.txt", f"{bundle_url}/version.txt")  # last, as training uploads it

    first = colorize_archive(input=remote_inbox, output=out, model=bundle_url, settings=SIZE_64, inbox=True)
    assert first["done"] == 4 and first["failed"] == 0
    seen = read_json(f"{workspace_of(out)}/{INBOX_INDEX}")
    assert sorted(seen) == sorted(["donation-1.zip", photos[2].name, photos[3].name])
    assert all(record["version"].split("|")[0] == str(storage.size_of(f"{remote_inbox}/{entry}")) for entry, record in seen.items())
    local = colorize_archive(input=str(inbox), output=str(tmp_path / "colour"), model=str(tiny_bundle), settings=SIZE_64, inbox=True)
    assert local["done"] == 4
    expected, got = _outputs(tmp_path / "colour"), _outputs(out)
    assert sorted(got) == sorted(expected)
    assert all(np.array_equal(got[name], expected[name]) for name in expected)

    unchanged = colorize_archive(input=remote_inbox, output=out, model=bundle_url, settings=SIZE_64, inbox=True)
    assert unchanged["done"] == 0 and unchanged["settled"] == 0 and unchanged["failed"] == 0  # nothing planned

    # Another photograph uploaded under an existing key: new size and ETag, so that entry alone is redone.
    before = storage.read_bytes(f"{out}/{photos[2].name}")
    storage.upload_whole(photos[4], f"{remote_inbox}/{photos[2].name}")
    replaced = colorize_archive(input=remote_inbox, output=out, model=bundle_url, settings=SIZE_64, inbox=True)
    assert replaced["done"] == 1 and replaced["settled"] == 0 and replaced["failed"] == 0
    after = _pixels(storage.read_bytes(f"{out}/{photos[2].name}"))
    assert after.shape != _pixels(before).shape  # the new photograph's colorization, at its own size
    with Image.open(photos[4]) as original:
        assert after.shape[:2] == (original.height, original.width)
