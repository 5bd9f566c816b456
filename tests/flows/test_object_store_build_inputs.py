"""build-dataset's inputs in a bucket on a real S3 server on 127.0.0.1 (and a real Prefect server): a
gallery on 127.0.0.1 scraped into s3://, cleaned and sharded from the bucket; and a folder of real
photos in s3:// as --images. Each gives the samples the same build from a local root gives."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from cli.main import main
from preprocessing.shards.dataset_card import read_card, shard_paths
from preprocessing.shards.shard_plan import ShardSettings
from safe_files import data_root_storage as storage
from tests.gallery_sites import loopback_settings

SHARDS = ShardSettings(short_side=48, val_fraction=0.2, part_size=4, maxcount=3)


def _samples(card_location: str | Path) -> dict[str, dict]:
    """`__key__` -> (the sample's size and sha256, its source's scheme) of every sample, from a card on disk or in a bucket."""
    card = read_card(card_location)
    shard_dir = storage.parent_of(storage.location(card_location))
    found: dict[str, dict] = {}
    for split in ("train", "val"):
        for location in shard_paths(shard_dir, card, split):
            with tarfile.open(fileobj=io.BytesIO(storage.read_bytes(location))) as archive:
                for member in archive.getmembers():
                    if member.name.endswith(".json"):
                        meta = json.loads(archive.extractfile(member).read())
                        key = member.name.split(".")[0]
                        assert key not in found, f"{key} twice"
                        found[key] = {"split": split, "sha256": meta["sha256"], "size": (meta["sample_width"], meta["sample_height"]),
                                      "remote": storage.is_remote(meta["source"])}
    return found


def test_a_gallery_scraped_into_s3_is_cleaned_and_sharded_from_the_bucket(prefect_server, gallery_site, s3_bucket, tmp_path):
    from flows.build_dataset import build_dataset

    seed = gallery_site.url("/clean/index.html")
    scrape = loopback_settings(min_host_delay_s=0.0, threads=4)
    data = f"{s3_bucket}/data"
    card_url = build_dataset(seeds=[seed], out=data, scrape=scrape, shards=SHARDS, workers=2)
    assert card_url == f"{data}/shards/dataset.json"
    kept = [json.loads(line)["path"] for line in storage.read_lines(f"{data}/clean/kept.jsonl")]
    assert kept and all(path.startswith(f"{data}/raw/") for path in kept), "the cleaning read the raw store by URL"
    local = build_dataset(seeds=[seed], out=str(tmp_path / "data"), scrape=scrape, shards=SHARDS, workers=2)
    remote_samples, local_samples = _samples(card_url), _samples(local)
    assert len(remote_samples) == len(kept) >= 8
    assert {k: {**v, "remote": None} for k, v in remote_samples.items()} == {k: {**v, "remote": None} for k, v in local_samples.items()}
    assert all(v["remote"] for v in remote_samples.values()) and not any(v["remote"] for v in local_samples.values())
    assert read_card(card_url)["totals"] == read_card(local)["totals"]


def test_build_dataset_from_photos_in_a_bucket_matches_the_local_folder(prefect_server, s3_bucket, tmp_path, bsds_dir, capsys):
    photos = sorted(bsds_dir.rglob("*.jpg"))[:10]
    assert len(photos) == 10
    folder = tmp_path / "photos"
    (folder / "nested").mkdir(parents=True)
    for index, photo in enumerate(photos):  # a sub-folder too: the listing is recursive on both sides
        target = folder / ("nested" if index % 3 == 0 else "") / photo.name
        target.write_bytes(photo.read_bytes())
        storage.upload_whole(target, f"{s3_bucket}/photos/{target.relative_to(folder)}")
    storage.write_whole(f"{s3_bucket}/photos/notes.txt", b"not a photo: skipped by its suffix\n")
    storage.write_whole(f"{s3_bucket}/photos/.hidden/x.jpg", photos[0].read_bytes())  # hidden: skipped as on disk
    (folder / "notes.txt").write_text("not a photo: skipped by its suffix\n")

    common = ["--short-side", "48", "--val-fraction", "0.2", "--part-size", "4", "--workers", "2", "--quiet"]
    data = f"{s3_bucket}/data"
    assert main(["build-dataset", "--images", f"{s3_bucket}/photos", "--out", data, *common]) == 0
    assert main(["build-dataset", "--images", str(folder), "--out", str(tmp_path / "data"), *common]) == 0
    capsys.readouterr()
    remote, local = _samples(f"{data}/shards/dataset.json"), _samples(tmp_path / "data" / "shards" / "dataset.json")
    assert len(remote) == 10
    assert {k: {**v, "remote": None} for k, v in remote.items()} == {k: {**v, "remote": None} for k, v in local.items()}
    assert all(v["remote"] for v in remote.values())
    report = json.loads(storage.read_bytes(f"{data}/clean/report.json"))
    assert report["inputs"] == 10 and report["kept"] == 10
    assert storage.is_file(f"{data}/clean/contact-sheet.png")

    # The clean step on its own, over the same objects and root: the same verdicts.
    assert main(["clean", "--images", f"{s3_bucket}/photos", "--out", data, "--quiet"]) == 0
    assert "kept 10 of 10" in capsys.readouterr().out


def test_an_empty_or_wrong_photo_prefix_is_one_clear_line(prefect_server, s3_bucket, capsys):
    code = main(["clean", "--images", f"{s3_bucket}/no-such-photos", "--out", f"{s3_bucket}/data", "--quiet"])
    refusal = capsys.readouterr().err.strip().splitlines()[-1]
    assert code != 0 and refusal.startswith("error: ") and f"no objects below {s3_bucket}/no-such-photos" in refusal, refusal
