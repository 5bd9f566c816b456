"""Every knob of a scrape in one plain dataclass (JSON-friendly, so a flow can pass it as a dict)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

DEFAULT_CONTACT_URL = "https://github.com/tintype/tintype#scraping"
ROBOTS_TOKEN = "tintype"


@dataclass(frozen=True)
class ScrapeSettings:
    # identity
    contact_url: str = DEFAULT_CONTACT_URL
    user_agent: str = ""  # empty: "tintype/<version> (+contact_url)"
    # HTTP
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0
    download_deadline_s: float = 120.0  # a slow-drip body cannot hold a worker forever
    max_retries: int = 3  # per request, on connection errors, timeouts, 429 and 5xx
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    max_retry_after_s: float = 300.0  # a longer Retry-After gives up on the URL (retried on a re-run)
    max_redirects: int = 8
    max_bytes: int = 50_000_000
    max_pixels: int = 64_000_000  # same cap as preprocessing's loader: a 8000 x 8000 scan
    max_page_bytes: int = 5_000_000
    # politeness
    respect_robots: bool = True
    min_host_delay_s: float = 0.1  # between request starts on one host; robots Crawl-delay raises it
    max_per_host: int = 4  # concurrent requests on one host
    # address guard
    allow_private: bool = False
    allowed_networks: tuple[str, ...] = ()  # CIDRs allowed although private (tests: 127.0.0.1/32)
    # crawl
    max_depth: int = 2
    max_pages: int = 200
    max_images: int | None = None
    max_links_per_page: int = 5000
    include: tuple[str, ...] = ()  # regexes a followed page URL must match (any)
    exclude: tuple[str, ...] = ()  # regexes that stop a page URL from being followed
    # parallelism and resumption
    threads: int = 16
    max_attempts: int = 3  # a URL whose attempts all ended in "error" is not tried again
    manifest_flush_rows: int = 500

    def resolved_user_agent(self) -> str:
        if self.user_agent:
            return self.user_agent
        from importlib.metadata import PackageNotFoundError, version

        try:
            ours = version("tintype")
        except PackageNotFoundError:
            ours = "dev"
        return f"{ROBOTS_TOKEN}/{ours} (+{self.contact_url})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ScrapeSettings":
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown scrape settings: {sorted(unknown)}")
        cleaned = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return cls(**cleaned)
