"""What a site allows: robots.txt per origin (Protego, fetched once), and X-Robots-Tag / meta robots directives.

Indexing directives from `X-Robots-Tag` headers and `<meta name="robots">` tags.

A directive may be scoped to one crawler (`X-Robots-Tag: googlebot: noindex`); only unscoped ones
and those scoped to our token (or `*`) apply. What we honour:
- on an image response: noai, noimageai, noindex, none -> the image is refused;
- on a page: noai, noimageai, noindex, none -> its images are not taken; nofollow, none -> its
  links are not followed.

robots.txt per origin, fetched once and cached, parsed with Protego.

Protego rather than urllib.robotparser: the standard library ignores the `*` and `$` wildcards
that most large sites use (`Disallow: /*.jpg$`) and applies first-match instead of the
longest-match precedence of RFC 9309, so it would both over- and under-block.
RFC 9309 for failures: 4xx (no robots.txt) allows everything; 5xx or an unreachable host is
treated as complete disallow for this run. Crawl-delay (or Request-rate) raises the host's gap
in the rate limiter.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Iterable
from urllib.parse import urlsplit

from protego import Protego

from scraping.fetch_outcomes import FetchOutcome, Refused
from scraping.host_rate_limiter import HostRateLimiter
from scraping.scrape_settings import ROBOTS_TOKEN
from scraping.url_canonical import host_key, origin

KNOWN = frozenset(
    {
        "all", "noindex", "nofollow", "none", "noarchive", "nosnippet", "noimageindex", "notranslate",
        "noai", "noimageai", "nocache", "max-snippet", "max-image-preview", "max-video-preview",
        "unavailable_after", "indexifembedded",
    }
)
NO_IMAGES = frozenset({"noai", "noimageai", "noindex", "none"})
NO_FOLLOW = frozenset({"nofollow", "none"})


def parse_directives(values: Iterable[str], token: str = ROBOTS_TOKEN) -> frozenset[str]:
    """Directives (lower case, without values) that apply to crawler `token`."""
    found: set[str] = set()
    token = token.lower()
    for value in values:
        scope: str | None = None
        for raw in value.split(","):
            item = raw.strip().lower()
            if not item:
                continue
            head, sep, rest = item.partition(":")
            head = head.strip()
            if sep and head not in KNOWN:  # "googlebot: noindex" starts a scoped list
                scope = head
                item = rest.strip()
                if not item:
                    continue
            name = item.split(":", 1)[0].strip()
            if scope is None or scope in (token, "*"):
                found.add(name)
    return frozenset(found)


def header_values(response: object, name: str = "X-Robots-Tag") -> list[str]:
    """Every value of a possibly repeated header, kept apart (requests joins them with commas,
    which would let one crawler-scoped value swallow the next)."""
    raw_headers = getattr(getattr(response, "raw", None), "headers", None)
    if raw_headers is not None and hasattr(raw_headers, "getlist"):
        return list(raw_headers.getlist(name))
    value = response.headers.get(name)  # type: ignore[attr-defined]
    return [value] if value else []


if TYPE_CHECKING:
    from scraping.http_fetch import HttpFetcher

MAX_ROBOTS_BYTES = 512_000  # RFC 9309: parse at least 500 KiB
MAX_CRAWL_DELAY_S = 60.0  # honoured up to a minute per request; longer is taken as one minute
_ALLOW_ALL = Protego.parse("")
_DISALLOW_ALL = Protego.parse("User-agent: *\nDisallow: /\n")


class RobotsPolicy:
    def __init__(self, fetcher: "HttpFetcher", user_agent: str, limiter: HostRateLimiter, enabled: bool = True) -> None:
        self.fetcher = fetcher
        self.user_agent = user_agent
        self.limiter = limiter
        self.enabled = enabled
        self._rules: dict[str, Protego] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def _download(self, site: str) -> Protego:
        try:
            with self.fetcher.open(f"{site}/robots.txt", check_robots=False) as fetched:
                body = fetched.read_body(MAX_ROBOTS_BYTES, self.fetcher.settings.download_deadline_s)
        except Refused:
            raise
        except FetchOutcome as outcome:
            status = outcome.http_status or 0
            return _ALLOW_ALL if 400 <= status < 500 and status != 429 else _DISALLOW_ALL
        return Protego.parse(body.decode("utf-8", errors="replace"))

    def rules(self, url: str) -> Protego:
        site = origin(url)
        with self._lock:
            rules = self._rules.get(site)
            if rules is not None:
                return rules
            lock = self._locks.setdefault(site, threading.Lock())
        with lock:  # one download per origin, however many threads ask at once
            with self._lock:
                if site in self._rules:
                    return self._rules[site]
            rules = self._download(site)
            delay = rules.crawl_delay(self.user_agent)
            rate = rules.request_rate(self.user_agent)
            if rate and rate.requests:
                delay = max(delay or 0.0, rate.seconds / rate.requests)
            if delay:
                self.limiter.set_delay(host_key(url), min(float(delay), MAX_CRAWL_DELAY_S))
            with self._lock:
                self._rules[site] = rules
            return rules

    def check(self, url: str) -> None:
        """Raise Refused("robots") when robots.txt disallows `url` for our user agent."""
        if not self.enabled or urlsplit(url).path == "/robots.txt":
            return
        if not self.rules(url).can_fetch(url, self.user_agent):
            raise Refused("robots", f"disallowed by {origin(url)}/robots.txt")
