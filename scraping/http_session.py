"""The one requests Session a scrape uses: pooled connections and an identifiable User-Agent.

Retries and redirects are not delegated to urllib3: `http_fetch` does both itself, so that every
attempt passes the rate limiter and every redirect hop passes the address guard and robots.txt.
"""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter

from scraping.scrape_settings import ScrapeSettings

ACCEPT_IMAGES = "image/avif,image/webp,image/jpeg,image/png,image/*;q=0.8,*/*;q=0.5"


def build_session(settings: ScrapeSettings) -> requests.Session:
    session = requests.Session()
    pool = max(10, settings.threads)
    adapter = HTTPAdapter(pool_connections=pool, pool_maxsize=pool, max_retries=0, pool_block=False)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update({"User-Agent": settings.resolved_user_agent(), "Accept": ACCEPT_IMAGES})
    session.trust_env = False  # no proxy or netrc from the environment: the guard checks the real target
    return session
