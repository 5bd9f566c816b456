"""The raw store in a bucket on a real S3 server (moto's, on 127.0.0.1), fed from a real gallery on
127.0.0.1: the same rows and content-addressed objects as on disk, and a SIGKILL mid-scrape then a
re-run: every image stored once, every manifest row naming an object that is there, no URL twice."""

from __future__ import annotations

import collections
import hashlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from safe_files import data_root_storage as storage
from scraping.raw_store import RawStore
from scraping.scrape_runner import scrape_url_list
from scraping.url_lists import read_url_list, write_url_batches
from tests.gallery_sites import loopback_settings

REPO = Path(__file__).resolve().parents[2]
# One thread, a pause between requests and a part every two rows: the kill lands between parts.
_SLOW_SCRAPER = (
    "import sys\n"
    "from scraping.scrape_runner import scrape_url_list\n"
    "from scraping.url_lists import read_url_list\n"
    "from tests.gallery_sites import loopback_settings\n"
    "settings = loopback_settings(threads=1, max_per_host=1, min_host_delay_s=0.3, manifest_flush_rows=2)\n"
    "scrape_url_list(sys.argv[1], read_url_list(sys.argv[2]), settings, 'killed')\n"
)


def _photo_urls(site) -> list[str]:
    return [site.url(path) for path in sorted(site.photos) if path.startswith("/img/")]


def _stored(raw: str | Path) -> list[str]:
    """Relative names of the image objects under the raw store (manifests and URL batches aside)."""
    if storage.is_remote(raw):
        names = [relative for _url, relative, _size in storage.walk_names(raw)]
    else:
        names = [str(path.relative_to(raw)) for path in Path(raw).rglob("*") if path.is_file()]
    return sorted(name for name in names if not name.startswith(("manifest/", "batches/")))


def test_a_url_list_scraped_into_s3_gives_the_rows_and_objects_a_local_root_gets(gallery_site, s3_bucket, tmp_path):
    urls = _photo_urls(gallery_site)[:8] + [gallery_site.url("/hostile/lie.jpg"), gallery_site.url("/nowhere.jpg")]
    listing = tmp_path / "urls.txt"
    listing.write_text("\n".join(urls) + "\n")
    storage.upload_whole(listing, f"{s3_bucket}/lists/urls.txt")  # the URL list itself in the bucket too
    raw = f"{s3_bucket}/data/raw"
    [batch] = write_url_batches(f"{s3_bucket}/lists/urls.txt", raw, batch_size=100)
    assert batch == f"{raw}/batches/urls-00000.jsonl" and storage.is_file(batch)
    remote = scrape_url_list(raw, read_url_list(batch), loopback_settings(), "s3")
    local = scrape_url_list(str(tmp_path / "raw"), read_url_list(listing), loopback_settings(), "disk")
    assert remote.outcomes == local.outcomes == {"error/http-404": 1, "invalid/not-image": 1, "ok": 8}

    def outcome(root: str | Path) -> dict[str, tuple]:
        return {row["url"]: (row["status"], row["error"], row["sha256"], row["path"]) for row in RawStore(root).rows()}

    assert outcome(raw) == outcome(tmp_path / "raw")
    assert _stored(raw) == _stored(tmp_path / "raw") and len(_stored(raw)) == 8
    for row in RawStore(raw).rows():
        if row["path"]:  # each object whole: its bytes are the content its name says
            assert hashlib.sha256(storage.read_bytes(f"{raw}/{row['path']}")).hexdigest() == row["sha256"]
    again = scrape_url_list(raw, read_url_list(batch), loopback_settings(), "s3")
    assert again.images_ok == 0 and again.images_already_ok == 8 and again.outcomes == {"error/http-404": 1}


def test_a_kill_mid_scrape_into_s3_then_a_rerun_gives_every_image_once(gallery_site, s3_bucket, tmp_path):
    urls = _photo_urls(gallery_site)
    listing = tmp_path / "urls.txt"
    listing.write_text("\n".join(urls) + "\n")
    raw = f"{s3_bucket}/data/raw"
    child = subprocess.Popen([sys.executable, "-c", _SLOW_SCRAPER, raw, str(listing)], cwd=REPO)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(storage.glob(f"{raw}/manifest", "*.jsonl")) < 2:
        if child.poll() is not None:
            pytest.fail("the scraper finished before it could be killed; give it more work")
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    rows = list(RawStore(raw).rows())
    assert 4 <= len(rows) < len(urls), "killed in the middle"
    stored = set(_stored(raw))
    assert {row["path"] for row in rows} <= stored, "a row is written only after the image it names"

    summary = scrape_url_list(raw, read_url_list(listing), loopback_settings(), "rerun")
    assert summary.images_already_ok == len(rows) and summary.images_ok == len(urls) - len(rows)
    rows = list(RawStore(raw).rows())
    per_url = collections.Counter(row["url"] for row in rows)
    assert sorted(per_url) == sorted(urls) and set(per_url.values()) == {1}, "every URL once"
    assert all(row["status"] == "ok" for row in rows)
    assert set(_stored(raw)) == {row["path"] for row in rows} and len(_stored(raw)) == len(urls), "every image once"
