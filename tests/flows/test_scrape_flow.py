"""The scrape flow and build-dataset's scrape step, through the CLI, under a real Prefect server."""

from __future__ import annotations

import pytest

from cli.main import main
from preprocessing.shards.dataset_card import read_card
from scraping.raw_store import RawStore


def test_scrape_command_crawls_into_the_raw_store(prefect_server, gallery_site, tmp_path, capsys):
    out = tmp_path / "data"
    seed = gallery_site.url("/clean/index.html")
    code = main(["scrape", "--seed", seed, "--out", str(out), "--allow-private", "--min-host-delay-s", "0", "--threads", "4"])
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
        "build-dataset", "--url-list", str(url_list), "--out", str(out), "--allow-private", "--min-host-delay-s", "0",
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
def test_commands_refuse_bad_sources_before_any_flow(argv, message, capsys):
    code = main(argv)  # one line on stderr and exit code 2, not an exception
    refusal = capsys.readouterr().err.strip()
    assert code == 2 and refusal.startswith("error: ") and "\n" not in refusal and message in refusal, refusal


def test_scrape_flow_fans_out_url_batches_and_a_rerun_adds_nothing(prefect_server, gallery_site, tmp_path):
    from flows.scrape import scrape
    from scraping.scrape_settings import ScrapeSettings

    paths = [f"/img/p{n}.jpg" for n in (1, 2, 3, 5, 7, 8, 9)] + ["/hostile/lie.jpg", "/nowhere.jpg"]
    url_list = tmp_path / "urls.csv"
    url_list.write_text("url,caption\n" + "".join(f"{gallery_site.url(p)},photo {p}\n" for p in paths))
    settings = ScrapeSettings(allowed_networks=("127.0.0.1/32",), min_host_delay_s=0.0, max_attempts=2, threads=4)
    first = scrape(url_list=str(url_list), out=str(tmp_path), batch_size=4, workers=2, settings=settings)
    assert len(list((tmp_path / "raw" / "batches").glob("*.jsonl"))) == 3
    assert first["images_ok"] == 7 and first["outcomes"] == {"error/http-404": 1, "invalid/not-image": 1, "ok": 7}
    rows = [r for r in RawStore(tmp_path / "raw").rows()]
    assert {r["alt"] for r in rows if r["url"].endswith("/img/p7.jpg")} == {"photo /img/p7.jpg"}
    second = scrape(url_list=str(url_list), out=str(tmp_path), batch_size=4, workers=2, settings=settings)
    assert second["images_ok"] == 0 and second["images_already_ok"] == 7
    assert second["outcomes"] == {"error/http-404": 1}, "only the failed URL is tried again"
    third = scrape(url_list=str(url_list), out=str(tmp_path), batch_size=4, workers=2, settings=settings)
    assert third["outcomes"] == {}, "attempt limit reached"
    assert len([r for r in RawStore(tmp_path / "raw").rows()]) == len(rows) + 1
