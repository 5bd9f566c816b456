"""Every knob of a scrape in one plain dataclass: its default, its type and a one-line description.

The `tintype scrape` options and the scrape flow's form are derived from these fields (the
`description` in each field's metadata is the help text and the form's label)."""

from __future__ import annotations

from dataclasses import dataclass, field

from safe_files.image_decode import DATASET_MAX_PIXELS

DEFAULT_CONTACT_URL = "https://github.com/tintype/tintype#scraping"
ROBOTS_TOKEN = "tintype"


@dataclass(frozen=True)
class ScrapeSettings:
    """How images are fetched from the web: politeness, limits, crawl scope and threads."""

    # identity
    contact_url: str = field(default=DEFAULT_CONTACT_URL, metadata={"description": "URL in our User-Agent where site owners can reach you."})
    user_agent: str = field(default="", metadata={"description": 'User-Agent header; empty: "tintype/<version> (+contact_url)".'})
    # HTTP
    connect_timeout_s: float = field(default=10.0, metadata={"description": "Seconds to wait for a connection."})
    read_timeout_s: float = field(default=20.0, metadata={"description": "Seconds to wait between received bytes."})
    download_deadline_s: float = field(default=120.0, metadata={"description": "Seconds one body may take in all (a slow-drip body cannot hold a worker forever)."})
    max_retries: int = field(default=3, metadata={"description": "Retries per request on connection errors, timeouts, 429 and 5xx."})
    backoff_base_s: float = field(default=1.0, metadata={"description": "First retry's delay in seconds (doubling, with jitter)."})
    backoff_max_s: float = field(default=60.0, metadata={"description": "Longest delay between retries in seconds."})
    max_retry_after_s: float = field(default=300.0, metadata={"description": "A longer Retry-After gives up on the URL (retried on a re-run)."})
    max_redirects: int = field(default=8, metadata={"description": "Redirects followed per URL."})
    max_bytes: int = field(default=50_000_000, metadata={"description": "Largest image body accepted, in bytes."})
    max_pixels: int = field(default=DATASET_MAX_PIXELS, metadata={"description": "Largest image accepted, in pixels (a 8000 x 8000 scan; preprocessing's cap too)."})
    max_page_bytes: int = field(default=5_000_000, metadata={"description": "Largest HTML page read, in bytes."})
    # politeness
    respect_robots: bool = field(default=True, metadata={"description": "Obey robots.txt, X-Robots-Tag and meta robots."})
    min_host_delay_s: float = field(default=0.1, metadata={"description": "Seconds between request starts on one host (robots Crawl-delay raises it)."})
    max_per_host: int = field(default=4, metadata={"description": "Concurrent requests on one host."})
    # address guard
    allow_private: bool = field(default=False, metadata={"description": "Allow loopback/private hosts (tests, local galleries)."})
    allowed_networks: tuple[str, ...] = field(default=(), metadata={"description": "CIDRs allowed although private (tests: 127.0.0.1/32)."})
    # crawl
    max_depth: int = field(default=2, metadata={"description": "Link depth from the seeds (pagination adds none)."})
    max_pages: int = field(default=200, metadata={"description": "Pages read per site."})
    max_images: int | None = field(default=None, metadata={"description": "Stop after this many stored images (empty: no cap)."})
    max_links_per_page: int = field(default=200, metadata={"description": "Links taken from one page; a page with more and no images is link-heavy: its links are crawled last.", "ge": 1})
    include: tuple[str, ...] = field(default=(), metadata={"description": "Follow only page URLs matching one of these regexes."})
    exclude: tuple[str, ...] = field(default=(), metadata={"description": "Never follow page URLs matching these regexes."})
    # parallelism and resumption
    threads: int = field(default=16, metadata={"description": "Download threads per batch."})
    max_attempts: int = field(default=3, metadata={"description": 'Attempts per URL: one whose attempts all ended in "error" is not tried again.'})
    manifest_flush_rows: int = field(default=500, metadata={"description": "Manifest rows buffered before a part is written."})

    def resolved_user_agent(self) -> str:
        if self.user_agent:
            return self.user_agent
        from importlib.metadata import PackageNotFoundError, version

        try:
            ours = version("tintype")
        except PackageNotFoundError:
            ours = "dev"
        return f"{ROBOTS_TOKEN}/{ours} (+{self.contact_url})"
