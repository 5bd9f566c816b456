"""The crawl's page order: deterministic, and a link farm cannot spend the page budget before the gallery."""

from __future__ import annotations

import random

from scraping.crawl_frontier import CrawlFrontier
from scraping.raw_store import RawStore
from scraping.scrape_runner import crawl_seeds
from tests.gallery_sites import FARM_LINKS, GALLERY_PAGES, GALLERY_PHOTOS

SLOW_S = 0.3


def test_a_link_farm_cannot_starve_a_paginated_gallery(farm_gallery_site, scrape_settings_factory, tmp_path):
    site = farm_gallery_site
    settings = scrape_settings_factory(max_pages=40, max_depth=2, threads=6, max_per_host=4)
    jitter = random.Random(20)
    # Three timings that reorder which fetch completes first: the gallery slow, the farm slow, random.
    delays = {
        "gallery slow": lambda path: SLOW_S if path.startswith("/gallery/") else 0.0,
        "farm slow": lambda path: SLOW_S if path.startswith("/farm/") else 0.0,
        "random": lambda path: jitter.uniform(0.0, SLOW_S),
    }
    photos = {site.url(path) for path in site.photos}
    missed: dict[str, int] = {}
    orders: dict[str, list[str]] = {}
    for name, delay in delays.items():
        site.delay = delay
        raw = tmp_path / name.replace(" ", "-")
        summary = crawl_seeds(str(raw), [site.url("/index.html")], settings, "crawl")
        rows = list(RawStore(raw).rows())
        stored = {row["url"] for row in rows if row["kind"] == "image" and row["status"] == "ok"}
        missed[name] = len(photos - stored)
        orders[name] = [row["url"].removeprefix(site.base) for row in rows if row["kind"] == "page"]
        assert summary.pages == len(orders[name]) <= 40, "max_pages holds"
    assert missed == {name: 0 for name in delays}, f"photos missed of {GALLERY_PHOTOS}: {missed}; page orders: {orders}"
    first = orders["gallery slow"]
    assert all(order == first for order in orders.values()), f"page order depends on timing: {orders}"
    gallery = [f"/gallery/{n}.html" for n in range(1, GALLERY_PAGES + 1)]
    assert first[:3] == ["/index.html", "/farm/0.html", "/gallery/1.html"] and first[3:8] == gallery[1:], first
    farm_pages = [page for page in first if page.startswith("/farm/0-")]
    assert len(first) == 40 and len(farm_pages) == 40 - 8, "the rest of the budget goes to the farm, last"


def _drain(frontier: CrawlFrontier, wave_size: int) -> list[list[str]]:
    waves = []
    while wave := frontier.pop_wave(wave_size):
        waves.append([task.url.removeprefix("http://h.test") for task in wave])
    return waves


def test_frontier_order_prefers_pagination_then_image_pages_and_puts_link_farms_last():
    farm_links = [f"http://h.test/farm/0-{k}.html" for k in range(FARM_LINKS)]

    def crawl(merge_order: list[int]) -> list[list[str]]:
        frontier = CrawlFrontier(["http://h.test/"], max_depth=3, max_pages=1000, max_links_per_page=200)
        [home] = frontier.pop_wave(4)
        frontier.add_links(home, ["http://h.test/farm/0.html", "http://h.test/plain.html", "http://h.test/g/1.html"], [],
                           images=0, link_count=3)
        wave = frontier.pop_wave(4)
        assert [t.url for t in wave] == ["http://h.test/farm/0.html", "http://h.test/plain.html", "http://h.test/g/1.html"]
        farm, plain, gallery = wave
        results = [  # (page, links, next pages, images shown, links on the page)
            (farm, farm_links[:200], [], 0, FARM_LINKS),  # the parser took the first 200 of 10,000
            (plain, ["http://h.test/about.html", "http://h.test/farm/0-3.html"], [], 0, 2),
            (gallery, ["http://h.test/item/1.html", "http://h.test/"], ["http://h.test/g/2.html"], 3, 2),
        ]
        for index in merge_order:  # the order in which fetches completed
            page, links, next_pages, images, link_count = results[index]
            frontier.add_links(page, links, next_pages, images=images, link_count=link_count)
        return _drain(frontier, 4)

    waves = crawl([0, 1, 2])
    assert waves == crawl([2, 1, 0]) == crawl([1, 2, 0]), "completion order does not change the crawl order"
    # rel=next first, then pages linked from a page with images, then plain pages; a link-heavy page
    # without images has its links crawled last, never in a wave with better pages
    assert waves[0] == ["/g/2.html", "/item/1.html", "/about.html", "/farm/0-3.html"], waves[0]
    assert all(url.startswith("/farm/") for wave in waves[1:] for url in wave)
    taken = [url for wave in waves for url in wave]
    assert taken[4:] == [f"/farm/0-{k}.html" for k in range(200) if k != 3], "the first 200 farm links, in page order"


def test_frontier_caps_links_taken_from_one_page_and_keeps_the_best_rank_of_a_url_seen_twice():
    frontier = CrawlFrontier(["http://h.test/"], max_depth=3, max_pages=1000, max_links_per_page=5)
    [home] = frontier.pop_wave(1)
    frontier.add_links(home, [f"http://h.test/{k}.html" for k in range(50)], [], images=0, link_count=50)
    assert len(frontier) == 5, "links beyond the per-page cap are not taken"
    [first, *_] = frontier.pop_wave(1)
    # /4.html is queued as a link-farm child; a gallery page then names it as its rel=next page
    frontier.add_links(first, [], ["http://h.test/4.html"], images=2, link_count=1)
    assert [t.url for t in frontier.pop_wave(1)] == ["http://h.test/4.html"]
