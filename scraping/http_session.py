"""The one requests Session a scrape uses: pooled connections and an identifiable User-Agent.

Retries and redirects are not delegated to urllib3: `http_fetch` does both itself, so that every
attempt passes the rate limiter and every redirect hop passes the address guard and robots.txt.
Every new connection also checks the address it actually reached (`peer_check`): the guard's
look-up before a request cannot see a DNS answer that changes by the time requests resolves the
name again (DNS rebinding), the connected socket can.
"""

from __future__ import annotations

from typing import Callable

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from scraping.scrape_settings import ScrapeSettings

ACCEPT_IMAGES = "image/avif,image/webp,image/jpeg,image/png,image/*;q=0.8,*/*;q=0.5"
PeerCheck = Callable[[str], None]  # raises when the connected address is not allowed


def _checked_pool_classes(peer_check: PeerCheck) -> dict[str, type]:
    def connect_checked(connection: HTTPConnection, connect) -> object:
        sock = connect()
        try:
            peer_check(sock.getpeername()[0])
        except BaseException:
            sock.close()
            raise
        return sock

    class CheckedHTTPConnection(HTTPConnection):
        def _new_conn(self):  # type: ignore[override]
            return connect_checked(self, super()._new_conn)

    class CheckedHTTPSConnection(HTTPSConnection):
        def _new_conn(self):  # type: ignore[override]
            return connect_checked(self, super()._new_conn)

    class CheckedHTTPConnectionPool(HTTPConnectionPool):
        ConnectionCls = CheckedHTTPConnection

    class CheckedHTTPSConnectionPool(HTTPSConnectionPool):
        ConnectionCls = CheckedHTTPSConnection

    return {"http": CheckedHTTPConnectionPool, "https": CheckedHTTPSConnectionPool}


class PeerCheckedAdapter(HTTPAdapter):
    def __init__(self, peer_check: PeerCheck | None, **kwargs) -> None:
        self.peer_check = peer_check
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        if self.peer_check is not None:
            self.poolmanager.pool_classes_by_scheme = _checked_pool_classes(self.peer_check)


def build_session(settings: ScrapeSettings, peer_check: PeerCheck | None = None) -> requests.Session:
    session = requests.Session()
    pool = max(10, settings.threads)
    adapter = PeerCheckedAdapter(peer_check, pool_connections=pool, pool_maxsize=pool, max_retries=0, pool_block=False)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update({"User-Agent": settings.resolved_user_agent(), "Accept": ACCEPT_IMAGES})
    session.trust_env = False  # no proxy or netrc from the environment: the guard checks the real target
    return session
