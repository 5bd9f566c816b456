"""build-dataset with cleaning, under a real Prefect server: only clean, unique colour photos reach the shards."""

from __future__ import annotations

import io
import json
import shutil
import tarfile

from PIL import Image

from preprocessing.cleaning.clean_decision import read_dropped
from preprocessing.images.image_inventory import sha256_file
from preprocessing.shards.dataset_card import read_card


def _gallery(folder, bsds_dir, bw_archive_dir, caltech_dir):
    folder.mkdir()
    colour = sorted((bsds_dir / "val").glob("*.jpg"))[:6]
    for path in colour:
        shutil.copy(path, folder / path.name)
    shutil.copy(colour[0], folder / "zz-byte-copy.jpg")
    buffer = io.BytesIO()
    Image.open(colour[1]).convert("RGB").resize((400, 267)).save(buffer, "JPEG", quality=70)
    (folder / "zz-smaller-copy.jpg").write_bytes(buffer.getvalue())
    shutil.copy(bw_archive_dir / "1880Paris.jpg", folder / "sepia.jpg")
    shutil.copy(bw_archive_dir / "BoulevardDuTemple1838.jpg", folder / "gray.jpg")
    gray_caltech = next(p for p in sorted(caltech_dir.glob("*/*.jpg")) if Image.open(p).mode == "L")
    shutil.copy(gray_caltech, folder / "caltech-gray.jpg")
    (folder / "broken.jpg").write_bytes(colour[2].read_bytes()[:3000])
    return colour


def test_build_dataset_shards_only_clean_unique_colour_images(prefect_server, tmp_path, bsds_dir, bw_archive_dir, caltech_dir):
    from flows.build_dataset import build_dataset
    from preprocessing.shards.shard_plan import ShardSettings

    colour = _gallery(tmp_path / "images", bsds_dir, bw_archive_dir, caltech_dir)
    out = tmp_path / "data"
    card_path = build_dataset(images=str(tmp_path / "images"), out=str(out),
                              shards=ShardSettings(short_side=64, val_fraction=0.3, part_size=4))

    dropped = {row["path"].rsplit("/", 1)[1]: row for row in read_dropped(out / "clean")}
    assert {name: row["reason"] for name, row in dropped.items()} == {
        "zz-byte-copy.jpg": "duplicate-bytes",
        "zz-smaller-copy.jpg": "near-duplicate",
        "sepia.jpg": "toned-monochrome",
        "gray.jpg": "grayscale",
        "caltech-gray.jpg": "grayscale",
        "broken.jpg": "truncated",  # a JPEG's first 3000 bytes
    }
    assert dropped["zz-smaller-copy.jpg"]["duplicate_of"].endswith(colour[1].name)
    report = json.loads((out / "clean" / "report.json").read_text())
    assert report["kept"] == 6 and report["inputs"] == 12
    assert (out / "clean" / "contact-sheet.png").stat().st_size > 1000

    card = read_card(card_path)
    assert card["inputs"] == 6
    assert card["totals"]["train"]["samples"] + card["totals"]["val"]["samples"] == 6
    keys = set()
    for shard in card["shards"]:
        with tarfile.open(out / "shards" / shard["name"]) as tar:
            keys |= {member.name.split(".", 1)[0] for member in tar.getmembers()}
    assert keys == {sha256_file(path) for path in colour}

    # a second run finds every step complete and writes the same card content
    again = build_dataset(images=str(tmp_path / "images"), out=str(out), shards=ShardSettings(short_side=64, val_fraction=0.3, part_size=4))
    assert read_card(again)["shards"] == card["shards"]


def test_tintype_clean_colour_filter_setting_moves_the_line(prefect_server, tmp_path, bsds_dir, bw_archive_dir):
    from cli.main import main

    folder = tmp_path / "images"
    folder.mkdir()
    # two sepia prints the balanced setting keeps (scores between the strict and the balanced threshold),
    # one it drops and the lenient one keeps (between balanced and lenient), and three colour photographs
    # every setting keeps
    for name in ("SenecaNative1908.jpg", "1930sGeorgia.jpg", "1880Paris.jpg"):
        shutil.copy(bw_archive_dir / name, folder / name)
    for name in ("8023.jpg", "101085.jpg", "101087.jpg"):
        shutil.copy(bsds_dir / "val" / name, folder / name)
    out = tmp_path / "data"

    def dropped_after(setting: str) -> dict[str, str]:
        assert main(["clean", "--images", str(folder), "--out", str(out), "--colour-filter", setting]) == 0
        report = json.loads((out / "clean" / "report.json").read_text())
        assert report["settings"]["colour"]["colour_filter"] == setting
        return {row["path"].rsplit("/", 1)[1]: row["reason"] for row in read_dropped(out / "clean")}

    assert dropped_after("balanced") == {"1880Paris.jpg": "toned-monochrome"}
    assert dropped_after("strict") == dict.fromkeys(["1880Paris.jpg", "SenecaNative1908.jpg", "1930sGeorgia.jpg"], "toned-monochrome")
    assert dropped_after("lenient") == {}
    assert dropped_after("balanced") == {"1880Paris.jpg": "toned-monochrome"}  # back: nothing sticks
