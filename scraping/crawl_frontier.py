"""Which pages to visit next: same site, include/exclude patterns, depth and page caps, best first.

The order is a function of the site alone, never of which fetch finished first: pages are handed
out in waves (`pop_wave`), the runner merges a whole wave's links before the next wave, and every
queued page is ranked by a key that names where it was found, not when:

    (link class, depth, the parent's rank, the link's place on the parent)

Link classes, best first: a `rel=next` page (pagination: a gallery's next page), a link from a page
that showed images, a link from a page without images, a link from a link-heavy page without images
(more links than `max_links_per_page`: an index or a link farm). A URL found twice keeps its best key
and its smallest depth. Link-heavy pages' links never share a wave with better pages, so a farm only
gets the page budget that is left once nothing better is queued. At most `max_links_per_page` links
are taken from one page. `rel=next` pagination keeps its page's depth (page 7 of a gallery is as near
as page 1); ordinary links add one. Every URL is canonicalised before the seen-check.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from scraping.url_canonical import canonical_url, is_http

# Links to these are files, not pages: never queued (images among them are found by the parser).
NOT_PAGES = (
    ".pdf", ".zip", ".gz", ".tar", ".rar", ".7z", ".mp3", ".mp4", ".mov", ".avi", ".webm", ".doc", ".docx",
    ".xls", ".xlsx", ".ppt", ".pptx", ".txt", ".csv", ".json", ".xml", ".css", ".js", ".ico", ".svg",
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff", ".bmp", ".avif",
)

# Link classes, best first.
NEXT_PAGE, FROM_IMAGE_PAGE, FROM_PLAIN_PAGE, FROM_LINK_HEAVY_PAGE = range(4)

Key = tuple[int, int, int, int]  # (link class, depth, parent's rank, place on the parent)


@dataclass(frozen=True)
class PageTask:
    url: str
    depth: int
    referrer: str = ""
    rank: int = -1  # its place in the crawl order, set when handed out


def site_of(url: str) -> str:
    """The host without a leading 'www.': a crawl stays on its seed's site (and its subdomains)."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


class CrawlFrontier:
    def __init__(
        self,
        seeds: list[str],
        max_depth: int,
        max_pages: int,
        include: tuple[str, ...] = (),
        exclude: tuple[str, ...] = (),
        max_links_per_page: int | None = None,  # None: every link taken, no page counts as link-heavy
    ) -> None:
        self.max_depth = max_depth
        self.max_pages = max_pages
        self.max_links_per_page = max_links_per_page
        self.include = [re.compile(pattern) for pattern in include]
        self.exclude = [re.compile(pattern) for pattern in exclude]
        self.sites = {site_of(canonical_url(seed)) for seed in seeds}
        self._heap: list[tuple[Key, int, str, str]] = []  # (key, depth, url, referrer); stale entries skipped
        self._queued: dict[str, tuple[Key, int, str]] = {}  # url -> its live (key, depth, referrer)
        self._handed: set[str] = set()
        self.handed_out = 0
        for index, seed in enumerate(seeds):
            self._push(canonical_url(seed), 0, "", (NEXT_PAGE, 0, -1, index), seed=True)

    def _on_site(self, url: str) -> bool:
        host_site = site_of(url)
        return any(host_site == site or host_site.endswith("." + site) for site in self.sites)

    def _wanted(self, url: str) -> bool:
        if not is_http(url) or not self._on_site(url) or urlsplit(url).path.lower().endswith(NOT_PAGES):
            return False
        if self.include and not any(p.search(url) for p in self.include):
            return False
        return not any(p.search(url) for p in self.exclude)

    def _push(self, url: str, depth: int, referrer: str, key: Key, seed: bool = False) -> None:
        if url in self._handed or depth > self.max_depth:
            return
        if (queued := self._queued.get(url)) is not None:
            # found again: the best key (with its referrer) and the smallest depth, whatever came first
            if queued[0] <= key:
                key, referrer = queued[0], queued[2]
            depth = min(depth, queued[1])
            if (key, depth) == queued[:2]:
                return
        elif not seed and not self._wanted(url):
            return
        self._queued[url] = (key, depth, referrer)
        heapq.heappush(self._heap, (key, depth, url, referrer))

    def add_links(
        self, page: PageTask, links: list[str], next_pages: list[str], images: int = 0, link_count: int | None = None
    ) -> None:
        """Queue what `page` links to; `images`: how many it showed, `link_count`: its links before any cap."""
        cap = self.max_links_per_page
        heavy = cap is not None and (len(links) if link_count is None else link_count) > cap
        link_class = FROM_IMAGE_PAGE if images else FROM_LINK_HEAVY_PAGE if heavy else FROM_PLAIN_PAGE
        for place, url in enumerate(next_pages):
            self._push(canonical_url(url), page.depth, page.url, (NEXT_PAGE, page.depth, page.rank, place))
        for place, url in enumerate(links if cap is None else links[:cap], start=len(next_pages)):
            self._push(canonical_url(url), page.depth + 1, page.url, (link_class, page.depth + 1, page.rank, place))

    def pop_wave(self, size: int) -> list[PageTask]:
        """Up to `size` pages, best first, within the page budget; link-heavy pages' links only when
        nothing better is queued."""
        wave: list[PageTask] = []
        while self._heap and len(wave) < max(1, size) and self.handed_out < self.max_pages:
            key, depth, url, referrer = self._heap[0]
            if self._queued.get(url, ())[:2] != (key, depth):  # superseded by a better entry
                heapq.heappop(self._heap)
                continue
            if key[0] == FROM_LINK_HEAVY_PAGE and wave:
                break
            heapq.heappop(self._heap)
            del self._queued[url]
            self._handed.add(url)
            wave.append(PageTask(url, depth, referrer, self.handed_out))
            self.handed_out += 1
        return wave

    def pop(self) -> PageTask | None:
        wave = self.pop_wave(1)
        return wave[0] if wave else None

    def __len__(self) -> int:
        return len(self._queued) if self.handed_out < self.max_pages else 0


def group_seeds_by_site(seeds: list[str]) -> list[list[str]]:
    """Seeds of one site crawl together (one frontier, one seen-set); sites in first-seen order."""
    groups: dict[str, list[str]] = {}
    for seed in seeds:
        groups.setdefault(site_of(canonical_url(seed)), []).append(seed)
    return list(groups.values())
