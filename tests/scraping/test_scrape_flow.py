"""The scrape flow and build-dataset's scrape step, through the CLI, under a real Prefect server."""

from __future__ import annotations

import pytest

from flows.cli import main
from preprocessing.dataset_card import read_card
from scraping.raw_store import RawStore


def test_scrape_command_crawls_into_the_raw_store(prefect_server, gallery_site, tmp_path, capsys):
    out = tmp_path / "data"
    seed = gallery_site.url("/clean/index.html")
    code = main(["scrape", "--seed", seed, "--out", str(out), "--allow-private", "--host-delay", "0", "--threads", "4"])
    assert code == 0
    printed = capsys.readouterr().out
    assert '"images_ok": 10' in printed and '"raw_dir"' in printed
    rows = [r for r in RawStore(out / "raw").rows() if r["kind"] == "image"]
    assert len(rows) == 10 and all(r["status"] == "ok" for r in rows)
    assert len(list((out / "raw").rglob("*.jpg"))) == 10


def test_build_dataset_scrapes_then_shards(prefect_server, gallery_site, tmp_path):
    out = tmp_path / "data"
    url_list = tmp_path / "urls.txt"
    url_list.write_text("\n".join(gallery_site.url(f"/img/p{n}.jpg") for n in (1, 2, 3, 5, 7, 8, 9, 10)) + "\n")
    code = main([
        "build-dataset", "--url-list", str(url_list), "--out", str(out), "--allow-private", "--host-delay", "0",
        "--max-images", "6", "--val-fraction", "0.2", "--workers", "1",
    ])
    assert code == 0
    stored = [r for r in RawStore(out / "raw").rows() if r["status"] == "ok"]
    assert len(stored) == 6, "--max-images caps the scrape"
    card = read_card(out / "shards" / "dataset.json")
    samples = sum(shard["samples"] for shard in card["shards"])
    assert samples == 6


@pytest.mark.parametrize(
    "argv, message",
    [
        (["scrape", "--out", "x"], "give --seed URL"),
        (["scrape", "--seed", "http://a.test/", "--url-list", "u.txt"], "not both"),
        (["scrape", "--url-list", "/nonexistent/urls.txt"], "URL list not found"),
        (["build-dataset", "--images", "imgs", "--seed", "http://a.test/"], "give one of"),
        (["build-dataset", "--url-list", "/nonexistent/urls.csv"], "URL list not found"),
    ],
)
def test_commands_refuse_bad_sources_before_any_flow(argv, message):
    with pytest.raises(SystemExit, match=message):
        main(argv)
