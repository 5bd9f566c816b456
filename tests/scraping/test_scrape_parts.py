"""The scraper's parts one at a time: guard, robots, limiter, backoff, directives, URLs, lists, parser."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from scraping.address_guard import AddressGuard
from scraping.fetch_outcomes import Refused
from scraping.host_rate_limiter import HostRateLimiter
from scraping.http_fetch import backoff_delay, parse_retry_after
from scraping.page_parser import largest_candidate, parse_page
from scraping.raw_store import RawStore
from scraping.robots import NO_IMAGES, parse_directives
from scraping.scrape_runner import crawl_seeds, interleave_by_host, scrape_url_list
from scraping.url_canonical import canonical_url
from scraping.url_lists import ListedUrl, UrlListError, read_url_list, write_url_batches


@pytest.mark.parametrize(
    "url, code",
    [
        ("http://127.0.0.1/x.jpg", "private-address"),
        ("http://localhost/x.jpg", "private-address"),
        ("http://10.1.2.3/x.jpg", "private-address"),
        ("http://192.168.0.1/x.jpg", "private-address"),
        ("http://169.254.169.254/latest/meta-data/", "private-address"),
        ("http://[::1]/x.jpg", "private-address"),
        ("http://[::ffff:10.0.0.1]/x.jpg", "private-address"),
        ("http://0.0.0.0/x.jpg", "private-address"),
        ("ftp://example.org/x.jpg", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("javascript:alert(1)", "scheme"),
    ],
)
def test_address_guard_refuses_non_public_targets_and_other_schemes(url, code):
    with pytest.raises(Refused) as refused:
        AddressGuard().check(url)
    assert refused.value.code == code


def test_address_guard_allows_public_addresses_and_opt_ins():
    AddressGuard().check("http://93.184.215.14/photo.jpg")  # a public literal: no DNS, no connection
    AddressGuard(allowed_networks=("127.0.0.1/32",)).check("http://127.0.0.1:8080/x.jpg")
    with pytest.raises(Refused):
        AddressGuard(allowed_networks=("127.0.0.1/32",)).check("http://10.0.0.1/x.jpg")
    AddressGuard(allow_private=True).check("http://10.0.0.1/x.jpg")


def test_rate_limiter_caps_concurrency_and_spaces_starts():
    limiter = HostRateLimiter(min_delay_s=0.05, max_per_host=2)
    active, peak, starts = [0], [0], []
    lock = threading.Lock()

    def request() -> None:
        with limiter.slot("h:80"):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
                starts.append(time.monotonic())
            time.sleep(0.1)
            with lock:
                active[0] -= 1

    threads = [threading.Thread(target=request) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    assert peak[0] == 2
    assert min(b - a for a, b in zip(starts, starts[1:])) >= 0.045
    limiter.defer("h:80", 0.3)
    before = time.monotonic()
    with limiter.slot("h:80"):
        assert time.monotonic() - before >= 0.25
    with limiter.slot("other:80"):  # other hosts are not held back
        pass


def test_retry_after_and_backoff():
    assert parse_retry_after("7") == 7.0
    future = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 <= parse_retry_after(future) <= 31
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    delays = [backoff_delay(attempt, 1.0, 8.0) for attempt in range(6)]
    assert 0.5 <= delays[0] < 1.5 and 2.0 <= delays[2] < 6.0 and all(d < 12.0 for d in delays)


def test_robots_directives_are_scoped_to_our_token():
    assert parse_directives(["noai, noimageai"]) & NO_IMAGES == {"noai", "noimageai"}
    assert parse_directives(["otherbot: noindex"]) == frozenset()
    assert "noindex" in parse_directives(["tintype: noindex"])
    assert "none" in parse_directives(["googlebot: nofollow", "none"])
    assert parse_directives(["unavailable_after: 25 Jun 2010 15:00:00 PST"]) == {"unavailable_after"}


def test_canonical_urls():
    assert canonical_url("HTTP://Example.ORG:80/a/../b/c.jpg#frag") == "http://example.org/b/c.jpg"
    assert canonical_url("../img/x y.jpg", base="https://h.test/g/p.html") == "https://h.test/img/x%20y.jpg"
    assert canonical_url("https://h.test:8443") == "https://h.test:8443/"
    assert canonical_url("https://bücher.example/x") == "https://xn--bcher-kva.example/x"
    assert canonical_url("mailto:a@b") == "mailto:a@b"


def test_url_lists_in_every_format(tmp_path):
    urls = ["http://a.test/1.jpg", "http://b.test/2.jpg"]
    (tmp_path / "list.txt").write_text("# comment\n" + "\n".join(urls) + "\n\n")
    (tmp_path / "list.csv").write_text("id,url,caption\n1,http://a.test/1.jpg,a cat\n2,http://b.test/2.jpg,\n")
    (tmp_path / "list.jsonl").write_text("".join(json.dumps({"url": u, "title": "t"}) + "\n" for u in urls))
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"url": urls, "caption": ["a cat", None]}), tmp_path / "list.parquet")
    for name in ("list.txt", "list.csv", "list.jsonl", "list.parquet"):
        assert [e.url for e in read_url_list(tmp_path / name)] == urls, name
    assert next(iter(read_url_list(tmp_path / "list.csv"))).alt == "a cat"
    assert next(iter(read_url_list(tmp_path / "list.parquet"))).alt == "a cat"
    (tmp_path / "bad.csv").write_text("link\nhttp://a.test/1.jpg\n")
    with pytest.raises(UrlListError, match="no 'url' column"):
        list(read_url_list(tmp_path / "bad.csv"))
    (tmp_path / "bad.jsonl").write_text('{"url": "http://a.test/1.jpg"}\n{oops\n')
    with pytest.raises(UrlListError, match=r"bad.jsonl:2"):
        list(read_url_list(tmp_path / "bad.jsonl"))
    with pytest.raises(UrlListError, match="not found"):
        read_url_list(tmp_path / "missing.txt")


def test_url_batches_are_deterministic(tmp_path):
    (tmp_path / "urls.txt").write_text("".join(f"http://h.test/{i}.jpg\n" for i in range(25)))
    first = write_url_batches(tmp_path / "urls.txt", tmp_path / "raw", batch_size=10)
    contents = [p.read_bytes() for p in first]
    second = write_url_batches(tmp_path / "urls.txt", tmp_path / "raw", batch_size=10)
    assert first == second and [p.read_bytes() for p in second] == contents and len(first) == 3
    assert [e.url for e in read_url_list(first[2])] == [f"http://h.test/{i}.jpg" for i in range(20, 25)]


def test_interleave_by_host_round_robins():
    entries = [ListedUrl(u) for u in ("http://a/1", "http://a/2", "http://a/3", "http://b/1", "http://c/1")]
    assert [e.url for e in interleave_by_host(entries)] == ["http://a/1", "http://b/1", "http://c/1", "http://a/2", "http://a/3"]


def test_parser_prefers_largest_candidates_and_handles_ten_thousand_links():
    assert largest_candidate("s.jpg 320w, l.jpg 1280w, m.jpg 640w") == "l.jpg"
    assert largest_candidate("a.jpg, b.jpg 2x") == "b.jpg"
    links = "".join(f'<a href="/l/{n}.html">{n}</a>' for n in range(10_000))
    started = time.perf_counter()
    parsed = parse_page(f"<html><body>{links}<img src='/x.jpg'></body></html>", "http://h.test/", max_links=500)
    assert time.perf_counter() - started < 10
    assert parsed.link_count == 10_000 and len(parsed.links) == 500 and [i.url for i in parsed.images] == ["http://h.test/x.jpg"]


def test_robots_crawl_delay_and_failures(route_server, scrape_settings_factory, tmp_path, caltech_dir):
    photo = sorted((caltech_dir / "airplanes").glob("*.jpg"))[0].read_bytes()
    images = {f"/img/{n}.jpg": (200, photo, "image/jpeg") for n in range(3)}
    robots = (200, b"User-agent: *\nCrawl-delay: 0.4\nDisallow: /*.png$\n", "text/plain")
    base, hits = route_server({"/robots.txt": robots, **images, "/img/x.png": (200, photo, "image/png")})
    urls = [ListedUrl(f"{base}/img/{n}.jpg") for n in range(3)] + [ListedUrl(f"{base}/img/x.png")]
    summary = scrape_url_list(str(tmp_path / "a"), urls, scrape_settings_factory(), "delay")
    assert summary.images_ok == 3 and summary.outcomes["refused/robots"] == 1, "wildcard rule honoured"
    starts = sorted(t for path, t in hits if path.startswith("/img/"))
    assert len(starts) == 3 and min(b - a for a, b in zip(starts, starts[1:])) >= 0.38, "Crawl-delay honoured"

    base, hits = route_server({"/robots.txt": (503, b"down", "text/plain"), **images})
    summary = scrape_url_list(str(tmp_path / "b"), [ListedUrl(f"{base}/img/0.jpg")], scrape_settings_factory(max_retries=1), "down")
    assert summary.outcomes == {"refused/robots": 1} and not [p for p, _ in hits if p.startswith("/img/")]

    base, hits = route_server(images)  # no robots.txt at all (404): everything allowed
    summary = scrape_url_list(str(tmp_path / "c"), [ListedUrl(f"{base}/img/0.jpg")], scrape_settings_factory(), "none")
    assert summary.images_ok == 1


def test_url_list_scrape_records_every_outcome(gallery_site, scrape_settings_factory, tmp_path):
    site = gallery_site
    lines = [site.url(p) for p in ("/img/p1.jpg", "/img/p7.jpg", "/hostile/truncated.jpg", "/hostile/to-private.jpg",
                                  "/private/secret.jpg", "/nowhere.jpg")]
    lines += [site.url("/img/p1.jpg#dup"), site.url("/img/p1.jpg"), "ftp://127.0.0.1/x.jpg", "mailto:a@b.test",
              "http://10.0.0.7/x.jpg", "http://[bad/x.jpg", "http://127.0.0.1:99999/x.jpg", "not a url",
              site.url("/hostile/drip.jpg")]
    (tmp_path / "urls.txt").write_text("\n".join(lines) + "\n")
    raw = tmp_path / "raw"
    settings = scrape_settings_factory(download_deadline_s=1.0)
    started = time.monotonic()
    summary = scrape_url_list(str(raw), read_url_list(tmp_path / "urls.txt"), settings, "list")
    assert time.monotonic() - started < 3.5, "the dripping body is cut at the 1 s deadline"
    rows = {r["url"].replace(site.base, ""): (r["status"], r["error"]) for r in RawStore(raw).rows()}
    assert rows == {
        "/img/p1.jpg": ("ok", None),
        "/img/p7.jpg": ("ok", None),
        "/hostile/truncated.jpg": ("invalid", "truncated"),
        "/hostile/to-private.jpg": ("refused", "private-address"),
        "/private/secret.jpg": ("refused", "robots"),
        "/nowhere.jpg": ("error", "http-404"),
        "ftp://127.0.0.1/x.jpg": ("refused", "scheme"),
        "mailto:a@b.test": ("refused", "scheme"),
        "http://10.0.0.7/x.jpg": ("refused", "private-address"),
        "http://[bad/x.jpg": ("refused", "bad-url"),
        "http://127.0.0.1:99999/x.jpg": ("refused", "bad-url"),
        "not a url": ("refused", "scheme"),
        "/hostile/drip.jpg": ("error", "timeout"),
    }
    assert summary.images_ok == 2 and len(site.requests_for("/img/p1.jpg")) == 1


def test_flapping_server_exhausting_retries_is_an_error_then_retried(route_server, scrape_settings_factory, tmp_path):
    base, hits = route_server({"/robots.txt": (200, b"", "text/plain"), "/x.jpg": (503, b"busy", "text/plain")})
    settings = scrape_settings_factory(max_retries=2)
    summary = scrape_url_list(str(tmp_path), [ListedUrl(f"{base}/x.jpg")], settings, "busy")
    assert summary.outcomes == {"error/http-503": 1}
    assert len([p for p, _ in hits if p == "/x.jpg"]) == 3, "one try and two retries"
    crawl_seeds(str(tmp_path), [f"{base}/x.jpg"], settings, "seed-is-an-image")  # a seed that is not HTML
    page_rows = [r for r in RawStore(tmp_path).rows() if r["kind"] == "page"]
    assert page_rows[0]["status"] == "error" and page_rows[0]["error"] == "http-503"


def test_frontier_depth_pagination_patterns_and_page_cap():
    from scraping.crawl_frontier import CrawlFrontier, group_seeds_by_site

    frontier = CrawlFrontier(["http://www.h.test/g/1.html"], max_depth=1, max_pages=5, exclude=(r"/tag/",), include=(r"/g/|/a/",))
    seed = frontier.pop()
    assert seed.url == "http://www.h.test/g/1.html" and seed.depth == 0
    frontier.add_links(
        seed,
        ["http://h.test/a/x.html", "http://cdn.h.test/g/y.html", "http://other.test/g/z.html", "http://h.test/g/tag/t.html",
         "http://h.test/b/nope.html", "http://h.test/g/report.pdf", "http://h.test/a/x.html#top"],
        ["http://www.h.test/g/2.html"],
    )
    queued = []
    while (task := frontier.pop()) is not None:
        queued.append((task.url, task.depth))
    assert queued == [("http://www.h.test/g/2.html", 0), ("http://h.test/a/x.html", 1), ("http://cdn.h.test/g/y.html", 1)]
    deeper = CrawlFrontier(["http://h.test/"], max_depth=0, max_pages=10)
    root = deeper.pop()
    deeper.add_links(root, ["http://h.test/a.html"], ["http://h.test/?page=2"])
    assert [t.url for t in iter(deeper.pop, None)] == ["http://h.test/?page=2"], "pagination adds no depth"
    assert group_seeds_by_site(["http://a.test/1", "http://www.a.test/2", "http://b.test/"]) == [
        ["http://a.test/1", "http://www.a.test/2"], ["http://b.test/"]
    ]


def test_connection_level_check_catches_what_the_name_check_let_through(route_server, scrape_settings_factory):
    """As after a DNS rebinding: the pre-request check passed, the socket reached a private address."""
    from scraping.http_fetch import HttpFetcher
    from scraping.http_session import build_session

    base, hits = route_server({"/x.jpg": (200, b"x", "image/jpeg")})
    settings = scrape_settings_factory()
    permissive = AddressGuard(allow_private=True)
    strict = AddressGuard()
    fetcher = HttpFetcher(build_session(settings, strict.check_peer), settings, permissive, HostRateLimiter(0.0, 4))
    with pytest.raises(Refused) as refused:
        with fetcher.open(f"{base}/x.jpg"):
            pass
    assert refused.value.code == "private-address" and "connected to 127.0.0.1" in refused.value.detail
    assert hits == [], "nothing was sent on the refused connection"
    allowed = HttpFetcher(build_session(settings, permissive.check_peer), settings, permissive, HostRateLimiter(0.0, 4))
    with allowed.open(f"{base}/x.jpg") as fetched:
        assert fetched.read_body(100, 5) == b"x"


def test_refusals_a_setting_decided_are_retried_when_the_setting_is_relaxed(route_server, scrape_settings_factory, tmp_path, caltech_dir):
    photo = sorted(caltech_dir.glob("*/*.jpg"))[0].read_bytes()
    base, hits = route_server({"/robots.txt": (200, b"", "text/plain"), "/big.jpg": (200, photo, "image/jpeg")})
    urls = [ListedUrl(f"{base}/big.jpg")]
    raw = str(tmp_path)
    fetches = lambda: len([p for p, _ in hits if p == "/big.jpg"])  # noqa: E731

    strict = scrape_settings_factory(max_bytes=len(photo) // 2)
    assert scrape_url_list(raw, urls, strict, "small-cap").outcomes == {"invalid/too-big": 1}
    assert scrape_url_list(raw, urls, strict, "small-cap-again").images_skipped == 1  # same cap: final
    assert fetches() == 1
    private = scrape_settings_factory(allowed_networks=())  # 127.0.0.1 now counts as private
    summary = scrape_url_list(raw, urls, private, "private")  # a larger cap than the first run's: retried
    assert summary.outcomes == {"refused/private-address": 1} and fetches() == 1
    assert scrape_url_list(raw, urls, private, "private-again").images_skipped == 1

    relaxed = scrape_settings_factory(allowed_networks=(), allow_private=True)
    assert scrape_url_list(raw, urls, relaxed, "allowed").images_ok == 1 and fetches() == 2
    again = scrape_url_list(raw, urls, relaxed, "allowed-again")  # the latest final word (ok) stands
    assert again.images_skipped == 1 and again.images_already_ok == 1 and fetches() == 2
