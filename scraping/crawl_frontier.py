"""Which pages to visit next: breadth-first, same site, include/exclude patterns, depth and page caps.

`rel=next` pagination keeps its page's depth (page 7 of a gallery is as near as page 1); ordinary
links add one. Every URL is canonicalised before the seen-check, so it is queued once.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

from scraping.url_canonical import canonical_url, is_http

# Links to these are files, not pages: never queued (images among them are found by the parser).
NOT_PAGES = (
    ".pdf", ".zip", ".gz", ".tar", ".rar", ".7z", ".mp3", ".mp4", ".mov", ".avi", ".webm", ".doc", ".docx",
    ".xls", ".xlsx", ".ppt", ".pptx", ".txt", ".csv", ".json", ".xml", ".css", ".js", ".ico", ".svg",
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff", ".bmp", ".avif",
)


@dataclass(frozen=True)
class PageTask:
    url: str
    depth: int
    referrer: str = ""


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
    ) -> None:
        self.max_depth = max_depth
        self.max_pages = max_pages
        self.include = [re.compile(pattern) for pattern in include]
        self.exclude = [re.compile(pattern) for pattern in exclude]
        self.sites = {site_of(canonical_url(seed)) for seed in seeds}
        self._queue: deque[PageTask] = deque()
        self._seen: set[str] = set()
        self.handed_out = 0
        for seed in seeds:
            self._push(canonical_url(seed), 0, "", seed=True)

    def _on_site(self, url: str) -> bool:
        host_site = site_of(url)
        return any(host_site == site or host_site.endswith("." + site) for site in self.sites)

    def _wanted(self, url: str) -> bool:
        if not is_http(url) or not self._on_site(url) or urlsplit(url).path.lower().endswith(NOT_PAGES):
            return False
        if self.include and not any(p.search(url) for p in self.include):
            return False
        return not any(p.search(url) for p in self.exclude)

    def _push(self, url: str, depth: int, referrer: str, seed: bool = False) -> None:
        if url in self._seen or depth > self.max_depth:
            return
        if not seed and not self._wanted(url):
            return
        self._seen.add(url)
        self._queue.append(PageTask(url, depth, referrer))

    def add_links(self, page: PageTask, links: list[str], next_pages: list[str]) -> None:
        for url in next_pages:
            self._push(canonical_url(url), page.depth, page.url)
        for url in links:
            self._push(canonical_url(url), page.depth + 1, page.url)

    def pop(self) -> PageTask | None:
        if self.handed_out >= self.max_pages or not self._queue:
            return None
        self.handed_out += 1
        return self._queue.popleft()

    def __len__(self) -> int:
        return len(self._queue) if self.handed_out < self.max_pages else 0


def group_seeds_by_site(seeds: list[str]) -> list[list[str]]:
    """Seeds of one site crawl together (one frontier, one seen-set); sites in first-seen order."""
    groups: dict[str, list[str]] = {}
    for seed in seeds:
        groups.setdefault(site_of(canonical_url(seed)), []).append(seed)
    return list(groups.values())
