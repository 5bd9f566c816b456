"""Run one batch of a scrape: a URL list, or a crawl from seed pages, into the raw store.

A bounded thread pool serves every host at once; the shared per-host limiter keeps each host
polite, and URL lists are interleaved host by host so that one slow host does not fill the pool.
A crawl fetches its pages in waves chosen by the frontier (`crawl_frontier.py`), merged in rank order,
so its page order is the site's, not the network's timing.
Resumable: URLs with a final status in the manifest are skipped, failed ones are retried until
they have `max_attempts` attempts. Progress goes to an optional callback with the running counts.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from itertools import zip_longest
from typing import Any, Callable, Iterable

from scraping.address_guard import AddressGuard
from scraping.crawl_frontier import CrawlFrontier, PageTask
from scraping.fetch_outcomes import ERROR, OK, SETTING_OF_CODE, FetchOutcome, Invalid
from scraping.host_rate_limiter import shared_limiter
from scraping.http_fetch import HttpFetcher
from scraping.http_session import build_session
from scraping.image_download import declared_type, download_image
from scraping.page_parser import ImageRef, ParsedPage, parse_page
from scraping.raw_store import ManifestWriter, RawStore, is_retriable
from scraping.robots import (
    NO_FOLLOW,
    NO_IMAGES,
    RobotsPolicy,
    header_values,
    parse_directives,
)
from scraping.scrape_settings import ScrapeSettings
from scraping.url_canonical import canonical_url, host_key
from scraping.url_lists import ListedUrl

Progress = Callable[[dict[str, Any]], None]
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", ""})
PROGRESS_INTERVAL_S = 5.0


@dataclass
class ScrapeSummary:
    images_ok: int = 0  # stored by this run
    images_skipped: int = 0  # already final in the manifest (or out of attempts): not fetched again
    images_already_ok: int = 0  # of those, stored by an earlier run (they count toward max_images)
    images_failed: int = 0  # refused, invalid or error in this run
    pages: int = 0
    bytes: int = 0
    seconds: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)  # "status/code" -> count

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def interleave_by_host(entries: Iterable[ListedUrl]) -> list[ListedUrl]:
    """Round-robin over hosts, first-seen order within each host."""
    by_host: dict[str, list[ListedUrl]] = defaultdict(list)
    for entry in entries:
        by_host[host_key(entry.url) if "://" in entry.url else ""].append(entry)
    return [entry for group in zip_longest(*by_host.values()) for entry in group if entry is not None]


class Scraper:
    def __init__(
        self, store: RawStore, settings: ScrapeSettings, batch: str = "batch", progress: Progress | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self.progress = progress
        self.limiter = shared_limiter(settings.min_host_delay_s, settings.max_per_host)
        self.guard = AddressGuard(settings.allow_private, settings.allowed_networks)
        self.session = build_session(settings, self.guard.check_peer)
        self.fetcher = HttpFetcher(self.session, settings, self.guard, self.limiter)
        self.robots = RobotsPolicy(self.fetcher, settings.resolved_user_agent(), self.limiter, settings.respect_robots)
        self.fetcher.permit = self.robots.check
        self.writer = ManifestWriter(store, batch, settings.manifest_flush_rows)
        self.batch = batch
        self.history = store.history()
        self.summary = ScrapeSummary()
        self._last_progress = 0.0

    # -- one image -------------------------------------------------------------------------------

    def _image_row(self, ref: ImageRef, page: str, depth: int | None) -> dict[str, Any]:
        row: dict[str, Any] = {
            "url": ref.url, "kind": "image", "page": page, "depth": depth, "status": OK, "error": None,
            "detail": None, "http_status": None, "final_url": None, "sha256": None, "bytes": None,
            "width": None, "height": None, "mime": None, "declared_mime": None, "path": None,
            "alt": ref.alt, "title": ref.title, "licences": list(ref.licences), "retries": 0,
            "attempt": (self.history[ref.url].attempts if ref.url in self.history else 0) + 1,
            "batch": self.batch, "fetched_at": _now(),
        }
        try:
            image = download_image(self.fetcher, ref.url)
        except FetchOutcome as outcome:
            row.update(status=outcome.status, error=outcome.code, detail=outcome.detail[:500], http_status=outcome.http_status)
            if outcome.code in SETTING_OF_CODE:  # final only under a setting at least this strict
                name = SETTING_OF_CODE[outcome.code]
                row["judged_under"] = {name: getattr(self.settings, name)}
            return row
        except (OSError, ValueError, RuntimeError) as error:  # one odd URL must not end the batch
            row.update(status=ERROR, error="internal", detail=f"{type(error).__name__}: {error}"[:500])
            return row
        path = self.store.put(image.data, image.sha256, image.image.extension)
        row.update(
            http_status=image.http_status, final_url=image.final_url, sha256=image.sha256, bytes=len(image.data),
            width=image.image.width, height=image.image.height, mime=image.image.mime,
            declared_mime=image.declared_mime, path=path, retries=image.retries,
        )
        return row

    # -- one page --------------------------------------------------------------------------------

    def _fetch_page(self, task: PageTask) -> tuple[dict[str, Any], ParsedPage | None]:
        row: dict[str, Any] = {
            "url": task.url, "kind": "page", "page": task.referrer or None, "depth": task.depth, "status": OK,
            "error": None, "detail": None, "http_status": None, "final_url": None, "images": 0, "links": 0,
            "directives": [], "batch": self.batch, "fetched_at": _now(),
        }
        try:
            with self.fetcher.open(task.url) as fetched:
                response = fetched.response
                row.update(http_status=response.status_code, final_url=fetched.url)
                mime = declared_type(response.headers.get("Content-Type"))
                if mime not in HTML_TYPES:
                    raise Invalid("content-type", f"declared {mime!r}, not HTML")
                header_directives = parse_directives(header_values(response))
                body = fetched.read_body(self.settings.max_page_bytes, self.settings.download_deadline_s)
                encoding = response.encoding if "charset" in response.headers.get("Content-Type", "") else None
                final_url = fetched.url
        except FetchOutcome as outcome:
            row.update(status=outcome.status, error=outcome.code, detail=outcome.detail[:500])
            return row, None
        except (OSError, ValueError, RuntimeError) as error:
            row.update(status=ERROR, error="internal", detail=f"{type(error).__name__}: {error}"[:500])
            return row, None
        html = body.decode(encoding, errors="replace") if encoding else body
        parsed = parse_page(html, final_url, self.settings.max_links_per_page)
        parsed.directives = parsed.directives | header_directives
        row.update(images=len(parsed.images), links=parsed.link_count, directives=sorted(parsed.directives))
        return row, parsed

    # -- bookkeeping -----------------------------------------------------------------------------

    def _record(self, row: dict[str, Any]) -> None:
        self.writer.add(row)
        key = f"{row['status']}/{row['error']}" if row["error"] else row["status"]
        self.summary.outcomes[key] = self.summary.outcomes.get(key, 0) + 1
        if row["kind"] == "page":
            self.summary.pages += 1
        elif row["status"] == OK:
            self.summary.images_ok += 1
            self.summary.bytes += row["bytes"] or 0
        else:
            self.summary.images_failed += 1
        now = time.monotonic()
        if self.progress and now - self._last_progress > PROGRESS_INTERVAL_S:
            self._last_progress = now
            self.progress(self.summary.to_dict())

    def _wanted_image(self, url: str) -> bool:
        entry = self.history.get(url)
        if is_retriable(entry, self.settings.max_attempts, self.settings):
            return True
        self.summary.images_skipped += 1
        if entry is not None and entry.status == OK:
            self.summary.images_already_ok += 1
        return False

    def _budget_left(self, images_in_flight: int) -> bool:
        cap = self.settings.max_images
        return cap is None or self.summary.images_ok + self.summary.images_already_ok + images_in_flight < cap

    def _budget_spent(self) -> bool:
        cap = self.settings.max_images
        return cap is not None and self.summary.images_ok + self.summary.images_already_ok >= cap

    # -- the two modes ---------------------------------------------------------------------------

    def scrape_urls(self, entries: Iterable[ListedUrl]) -> ScrapeSummary:
        """Download every listed URL (canonicalised, deduplicated, host-interleaved)."""
        started = time.monotonic()
        seen: set[str] = set()
        refs: deque[ImageRef] = deque()
        for entry in interleave_by_host(entries):
            url = canonical_url(entry.url)
            if url not in seen:
                seen.add(url)
                if self._wanted_image(url):
                    refs.append(ImageRef(url, entry.alt, entry.title))
        self._run(refs, None)
        self.summary.seconds = round(time.monotonic() - started, 3)
        return self.summary

    def crawl(self, seeds: list[str]) -> ScrapeSummary:
        """Crawl from `seeds` (same site), downloading the images the pages show."""
        started = time.monotonic()
        s = self.settings
        frontier = CrawlFrontier(seeds, s.max_depth, s.max_pages, s.include, s.exclude, s.max_links_per_page)
        self._run(deque(), frontier)
        self.summary.seconds = round(time.monotonic() - started, 3)
        return self.summary

    def _take_page(
        self, task: PageTask, row: dict[str, Any], parsed: ParsedPage | None, frontier: CrawlFrontier,
        queue: deque[tuple[ImageRef, str | None, int | None]], seen_images: set[str],
    ) -> None:
        """Record a fetched page, queue the images it shows and give its links to the frontier."""
        self._record(row)
        if parsed is None:
            return
        shown = 0
        if not parsed.directives & NO_IMAGES:
            shown = len(parsed.images)
            for ref in parsed.images:
                if ref.url not in seen_images:
                    seen_images.add(ref.url)
                    if self._wanted_image(ref.url):
                        queue.append((ref, row["final_url"] or task.url, task.depth))
        if not parsed.directives & NO_FOLLOW:
            frontier.add_links(task, parsed.links, parsed.next_pages, images=shown, link_count=parsed.link_count)

    def _run(self, images: deque[ImageRef], frontier: CrawlFrontier | None) -> None:
        queue: deque[tuple[ImageRef, str | None, int | None]] = deque((ref, None, None) for ref in images)
        seen_images: set[str] = {ref.url for ref in images}
        in_flight: dict[Future, tuple[str, Any]] = {}
        backlog = max(2, self.settings.threads * 2)
        # Pages go in waves of up to `backlog` (two per thread keeps the pool busy across the wave's
        # tail): the next wave is chosen only once every page of this one is merged, in the order they
        # were handed out, so which fetch finished first never changes the crawl.
        wave: list[PageTask] = []
        fetched: dict[int, tuple[dict[str, Any], ParsedPage | None]] = {}  # a wave's pages by rank
        with ThreadPoolExecutor(max_workers=max(1, self.settings.threads), thread_name_prefix="scrape") as pool:
            while True:
                if frontier is not None and len(fetched) == len(wave):
                    for task in wave:
                        self._take_page(task, *fetched[task.rank], frontier, queue, seen_images)
                    wave, fetched = (frontier.pop_wave(backlog) if not self._budget_spent() else []), {}
                    for task in wave:
                        in_flight[pool.submit(self._fetch_page, task)] = ("page", task)
                images_in_flight = sum(1 for kind, _ in in_flight.values() if kind == "image")
                while len(in_flight) < backlog and queue and self._budget_left(images_in_flight):
                    ref, page, depth = queue.popleft()
                    in_flight[pool.submit(self._image_row, ref, page or "", depth)] = ("image", ref)
                    images_in_flight += 1
                if not in_flight:
                    break
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    kind, item = in_flight.pop(future)
                    if kind == "image":
                        self._record(future.result())
                    else:
                        fetched[item.rank] = future.result()
        self.writer.flush()
        if self.progress:
            self.progress(self.summary.to_dict())

    def close(self) -> None:
        self.writer.flush()
        self.session.close()


def scrape_url_list(
    store_root: str, entries: Iterable[ListedUrl], settings: ScrapeSettings, batch: str, progress: Progress | None = None
) -> ScrapeSummary:
    scraper = Scraper(RawStore(store_root), settings, batch, progress)
    try:
        return scraper.scrape_urls(entries)
    finally:
        scraper.close()


def crawl_seeds(
    store_root: str, seeds: list[str], settings: ScrapeSettings, batch: str, progress: Progress | None = None
) -> ScrapeSummary:
    scraper = Scraper(RawStore(store_root), settings, batch, progress)
    try:
        return scraper.crawl(seeds)
    finally:
        scraper.close()
