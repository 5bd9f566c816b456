"""How long to wait before retrying: Retry-After when the server says, else exponential backoff with jitter.

GET a URL politely: guarded and robots-checked redirects, per-host slots, retries with backoff.

`HttpFetcher.open(url)` is a context manager yielding a `Fetched` whose streaming response body
has not been read yet; the host slot is held until the block exits, so a slow body counts
against the host's concurrency like any other request.
"""

from __future__ import annotations

import random
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable, Iterator

import requests
import urllib3

from scraping.address_guard import AddressGuard
from scraping.fetch_outcomes import FetchError, Invalid
from scraping.host_rate_limiter import HostRateLimiter
from scraping.scrape_settings import ScrapeSettings
from scraping.url_canonical import canonical_url, host_key

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def backoff_delay(attempt: int, base_s: float, max_s: float, rng: random.Random | None = None) -> float:
    """Attempt 0, 1, 2 ... -> base * 2**attempt, capped, times a jitter in [0.5, 1.5)."""
    rng = rng or random
    return min(max_s, base_s * (2**attempt)) * (0.5 + rng.random())


REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass
class Fetched:
    url: str  # the URL that answered (after redirects)
    response: requests.Response
    redirects: int
    retries: int

    def read_body(self, max_bytes: int, deadline_s: float) -> bytes:
        """The whole body, refusing more than `max_bytes` or a transfer slower than `deadline_s`."""
        declared = self.response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise Invalid("too-big", f"Content-Length {declared} > {max_bytes} bytes")
        started = time.monotonic()
        chunks: list[bytes] = []
        size = 0
        raw = self.response.raw
        try:
            # read1 returns after one socket read, so a body dripping a byte at a time meets the
            # deadline check; iter_content would block until 64 KiB had arrived.
            while chunk := raw.read1(65536, decode_content=True):
                size += len(chunk)
                if size > max_bytes:
                    raise Invalid("too-big", f"body exceeds {max_bytes} bytes")
                if time.monotonic() - started > deadline_s:
                    raise FetchError("timeout", f"body not complete after {deadline_s:g} s")
                chunks.append(chunk)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            raise FetchError(_error_code(error), f"{type(error).__name__}: {error}") from error
        return b"".join(chunks)


def _error_code(error: Exception) -> str:
    if isinstance(error, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)):
        return "timeout"
    if isinstance(error, (requests.ConnectionError, urllib3.exceptions.ProtocolError, OSError)):
        # requests wraps read timeouts during streaming in ConnectionError(ReadTimeoutError)
        return "timeout" if "timed out" in str(error).lower() else "connection"
    return "http-client"


class HttpFetcher:
    def __init__(
        self,
        session: requests.Session,
        settings: ScrapeSettings,
        guard: AddressGuard,
        limiter: HostRateLimiter,
        permit: Callable[[str], None] | None = None,
    ) -> None:
        self.session = session
        self.settings = settings
        self.guard = guard
        self.limiter = limiter
        self.permit = permit  # robots.txt check for every hop; raises Refused

    def _attempt(self, url: str, stack: ExitStack) -> tuple[requests.Response, int]:
        """One logical request with retries; on return the response's host slot is held by `stack`."""
        settings = self.settings
        host = host_key(url)
        retries = 0
        while True:
            attempt_stack = ExitStack()
            attempt_stack.enter_context(self.limiter.slot(host))
            try:
                response = self.session.get(
                    url,
                    stream=True,
                    allow_redirects=False,
                    timeout=(settings.connect_timeout_s, settings.read_timeout_s),
                )
            except requests.RequestException as error:
                attempt_stack.close()
                code = _error_code(error)
                transient = isinstance(error, (requests.ConnectionError, requests.Timeout))
                if retries >= settings.max_retries or not transient:
                    raise FetchError(code, f"{type(error).__name__}: {error}") from error
                self.limiter.defer(host, backoff_delay(retries, settings.backoff_base_s, settings.backoff_max_s))
                retries += 1
                continue
            if response.status_code not in RETRY_STATUSES:
                stack.push(attempt_stack)
                stack.callback(response.close)
                return response, retries
            response.close()
            attempt_stack.close()
            code = f"http-{response.status_code}"
            if retries >= settings.max_retries:
                raise FetchError(code, f"still {response.status_code} after {retries} retries", response.status_code)
            wait = parse_retry_after(response.headers.get("Retry-After"))
            if wait is not None and wait > settings.max_retry_after_s:
                raise FetchError(
                    code, f"Retry-After {wait:.0f} s exceeds the {settings.max_retry_after_s:.0f} s cap", response.status_code
                )
            if wait is None:
                wait = backoff_delay(retries, settings.backoff_base_s, settings.backoff_max_s)
            self.limiter.defer(host, wait)
            retries += 1

    @contextmanager
    def open(self, url: str, check_robots: bool = True) -> Iterator[Fetched]:
        """Fetch `url`, following up to max_redirects redirects, each hop re-checked."""
        seen: set[str] = set()
        current = url
        retries = 0
        with ExitStack() as stack:
            for hop in range(self.settings.max_redirects + 1):
                self.guard.check(current)
                if self.permit and check_robots:
                    self.permit(current)
                hop_stack = ExitStack()
                response, hop_retries = self._attempt(current, hop_stack)
                retries += hop_retries
                if response.status_code in REDIRECT_STATUSES and response.headers.get("Location"):
                    hop_stack.close()
                    seen.add(current)
                    target = canonical_url(response.headers["Location"], base=current)
                    if target in seen:
                        raise FetchError("redirect-loop", f"{current} -> {target} was already visited", response.status_code)
                    current = target
                    continue
                stack.push(hop_stack)
                if response.status_code >= 400:
                    raise FetchError(f"http-{response.status_code}", response.reason or "", response.status_code)
                yield Fetched(url=current, response=response, redirects=hop, retries=retries)
                return
            raise FetchError("too-many-redirects", f"more than {self.settings.max_redirects} redirects")
