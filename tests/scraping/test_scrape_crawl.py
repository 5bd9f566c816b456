"""Crawl the generated gallery site and check every outcome in the manifest."""

from __future__ import annotations

import hashlib

from PIL import Image

from scraping.raw_store import RawStore
from scraping.scrape_runner import crawl_seeds


def _by_url(store: RawStore, site, kind: str = "image") -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for row in store.rows():
        if row["kind"] == kind:
            rows.setdefault(row["url"].replace(site.base, ""), []).append(row)
    return rows


def test_crawl_finds_photos_and_survives_every_hostile_endpoint(gallery_site, scrape_settings_factory, tmp_path):
    site = gallery_site
    raw = tmp_path / "raw"
    summary = crawl_seeds(str(raw), [site.url("/gallery/page1.html")], scrape_settings_factory(), "crawl")
    store = RawStore(raw)
    images = _by_url(store, site)
    pages = _by_url(store, site, "page")
    once = {url: rows[0] for url, rows in images.items()}
    assert all(len(rows) == 1 for rows in images.values()), "every image URL is attempted once"

    def outcome(path: str) -> tuple[str, str | None]:
        return once[path]["status"], once[path]["error"]

    # the photographs, each the biggest candidate its element offers
    wanted = ["/img/p0-1280.jpg", "/img/p1.jpg", "/img/p2.jpg", "/img/p3.jpg", "/img/p4.jpg", "/img/p5.jpg",
              "/img/p6.jpg", "/img/p7.jpg", "/img/p8.jpg", "/img/p9.jpg", "/img/p10.jpg", "/img/p13.jpg",
              "/img/p15.jpg", "/dup/p1-copy.jpg"]
    for path in wanted:
        assert outcome(path) == ("ok", None), (path, once.get(path))
    for smaller in ["/img/p0-640.jpg", "/img/p2-small.jpg", "/img/p4-640.jpg", "/img/p4-fallback.jpg", "/thumb/p5.jpg"]:
        assert smaller not in once, f"{smaller} is a smaller candidate and must not be fetched"
    assert not site.requests_for("/thumb/p5.jpg")

    # provenance travels with the image
    p0 = once["/img/p0-1280.jpg"]
    assert p0["page"] == site.url("/gallery/page1.html") and p0["alt"] == "srcset photo" and p0["title"] == "Zero"
    p5 = once["/img/p5.jpg"]
    assert p5["alt"] == "thumb five" and p5["title"] == "Photo five"
    assert "https://creativecommons.org/licenses/by/4.0/" in p5["licences"]
    assert "https://creativecommons.org/licenses/by-sa/4.0/" in p5["licences"]
    # stored content-addressed, whole, and equal to what the server sent
    photo = site.photos["/img/p7.jpg"]
    p7 = once["/img/p7.jpg"]
    assert p7["sha256"] == hashlib.sha256(photo).hexdigest() and p7["bytes"] == len(photo)
    stored = raw / p7["path"]
    assert stored == raw / p7["sha256"][:2] / f"{p7['sha256']}.jpg" and stored.read_bytes() == photo
    with Image.open(stored) as image:
        assert (image.width, image.height) == (p7["width"], p7["height"]) and p7["mime"] == "image/jpeg"
    # duplicates: the same URL written twice is one row; equal bytes at two URLs share one file
    assert once["/dup/p1-copy.jpg"]["sha256"] == once["/img/p1.jpg"]["sha256"]
    assert len(site.requests_for("/img/p1.jpg")) == 1

    # hostile endpoints, each with its expected outcome
    assert outcome("/private/secret.jpg") == ("refused", "robots")
    assert not site.requests_for("/private/secret.jpg")
    assert outcome("/hostile/429.jpg") == ("ok", None) and once["/hostile/429.jpg"]["retries"] == 1
    first, second = site.requests_for("/hostile/429.jpg")
    assert second - first >= 0.95, "Retry-After: 1 was honoured"
    assert outcome("/hostile/flaky.jpg") == ("ok", None) and once["/hostile/flaky.jpg"]["retries"] == 2
    assert outcome("/hostile/slow.jpg") == ("error", "timeout")
    assert outcome("/hostile/loop-a.jpg") == ("error", "redirect-loop")
    assert outcome("/hostile/to-private.jpg") == ("refused", "private-address")
    assert outcome("/hostile/huge.jpg") == ("invalid", "too-big")
    assert outcome("/hostile/huge-chunked.jpg") == ("invalid", "too-big")
    assert outcome("/hostile/lie.jpg") == ("invalid", "not-image")
    assert outcome("/hostile/html-type.jpg") == ("invalid", "content-type")
    assert outcome("/hostile/truncated.jpg") == ("invalid", "truncated")
    assert outcome("/hostile/bomb.png") == ("invalid", "too-large")
    assert outcome("/hostile/noai.jpg") == ("refused", "x-robots-tag")
    assert outcome("/hostile/other-bot-only.jpg") == ("ok", None)
    assert once["ftp://127.0.0.1/pub/x.jpg"]["status"] == "refused"
    assert once["ftp://127.0.0.1/pub/x.jpg"]["error"] == "scheme"
    assert once["file:///etc/passwd"]["error"] == "scheme"
    assert not any(url.startswith(("mailto:", "javascript:", "data:")) for url in once)

    # pages: robots-disallowed page refused, meta robots honoured, non-pages never fetched
    assert pages["/private/page.html"][0]["status"] == "refused"
    assert "/img/p11.jpg" not in once
    assert "/img/p12.jpg" not in once, "noimageai page: images not taken"
    assert "/img/p14.jpg" not in once and "/behind-nofollow.html" not in pages, "nofollow page: links not followed"
    assert not site.requests_for("/files/report.pdf")
    hub = pages["/links.html"][0]
    assert hub["status"] == "ok" and hub["links"] == 10_000
    assert len(pages) <= 20 and summary.pages == len(pages)
    assert summary.images_ok == sum(1 for row in once.values() if row["status"] == "ok")
    # only files for ok rows, and no temporary leftovers
    files = {p for p in raw.rglob("*") if p.is_file() and p.parent.name != "manifest"}
    assert files == {raw / row["path"] for row in once.values() if row["status"] == "ok"}
    assert not [p for p in raw.rglob(".*")]


def test_rerun_skips_fetched_urls_and_retries_failed_ones_up_to_the_limit(
    gallery_site, scrape_settings_factory, tmp_path
):
    site = gallery_site
    raw = str(tmp_path / "raw")
    settings = scrape_settings_factory(max_attempts=2, max_depth=0)
    seed = [site.url("/gallery/page1.html")]
    first = crawl_seeds(raw, seed, settings, "crawl")
    hits_after_first = len(site.hits)
    second = crawl_seeds(raw, seed, settings, "crawl")
    new_paths = [path for path, _ in site.hits[hits_after_first:]]
    assert second.images_ok == 0 and second.images_skipped >= first.images_ok
    assert not [p for p in new_paths if p.startswith("/img/")], "stored images are not fetched again"
    assert "/hostile/slow.jpg" in new_paths and "/hostile/loop-a.jpg" in new_paths, "errors are retried"
    assert "/hostile/lie.jpg" not in new_paths, "final outcomes are not retried"
    hits_after_second = len(site.hits)
    crawl_seeds(raw, seed, settings, "crawl")
    third_paths = [path for path, _ in site.hits[hits_after_second:]]
    assert "/hostile/slow.jpg" not in third_paths, "attempt limit (2) reached"
    rows = [r for r in RawStore(raw).rows() if r["url"] == site.url("/hostile/slow.jpg")]
    assert sorted(r["attempt"] for r in rows) == [1, 2]


def test_max_images_caps_a_crawl(gallery_site, scrape_settings_factory, tmp_path):
    raw = tmp_path / "raw"
    settings = scrape_settings_factory(max_images=5)
    summary = crawl_seeds(str(raw), [gallery_site.url("/gallery/page1.html")], settings, "crawl")
    assert summary.images_ok == 5
    assert len([p for p in raw.rglob("*.jpg")]) <= 5
    again = crawl_seeds(str(raw), [gallery_site.url("/gallery/page1.html")], settings, "crawl")
    assert again.images_ok == 0, "the 5 already stored count toward the cap on a re-run"
