"""Refuse URLs that are not http(s) or whose host resolves to a non-public address.

Every hop of a redirect chain goes through `check`, so a public page cannot bounce the crawler to
a router, a cloud metadata endpoint or localhost. Resolution results are cached briefly per host.
The HTTP client resolves the name again when it connects, so `check_peer` is also run on every
new connection's actual peer address (http_session), which a DNS answer that changes in between
(rebinding) cannot get past.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from urllib.parse import urlsplit

from scraping.fetch_outcomes import Refused
from scraping.url_canonical import HTTP_SCHEMES

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    )


class AddressGuard:
    def __init__(
        self, allow_private: bool = False, allowed_networks: tuple[str, ...] = (), cache_seconds: float = 60.0
    ) -> None:
        self.allow_private = allow_private
        self.allowed_networks = tuple(ipaddress.ip_network(n, strict=False) for n in allowed_networks)
        self.cache_seconds = cache_seconds
        self._cache: dict[tuple[str, int], tuple[float, list[IPAddress]]] = {}
        self._lock = threading.Lock()

    def _resolve(self, host: str, port: int) -> list[IPAddress]:
        key = (host, port)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit and now - hit[0] < self.cache_seconds:
                return hit[1]
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise Refused("dns", f"{host}: {error}") from error
        addresses = sorted({ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}, key=str)
        with self._lock:
            self._cache[key] = (now, addresses)
        return addresses

    def _allowed(self, address: IPAddress) -> bool:
        if self.allow_private or is_public(address):
            return True
        return any(address in network for network in self.allowed_networks)

    def check_peer(self, address: str) -> None:
        """Raise Refused("private-address") when a connected socket's peer is not allowed."""
        peer = ipaddress.ip_address(address.split("%")[0])
        if not self._allowed(peer):
            raise Refused("private-address", f"connected to {peer} (use --allow-private for local hosts)")

    def check(self, url: str) -> None:
        """Raise Refused("bad-url" | "scheme" | "no-host" | "dns" | "private-address") unless `url` may be fetched."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise Refused("bad-url", f"{url!r}: {error}") from error
        scheme = parts.scheme.lower()
        if scheme not in HTTP_SCHEMES:
            raise Refused("scheme", f"only http and https are fetched, not {scheme or 'a relative URL'!r}")
        host = parts.hostname
        if not host:
            raise Refused("no-host", url)
        port = port or (443 if scheme == "https" else 80)
        for address in self._resolve(host, port):
            if not self._allowed(address):
                raise Refused("private-address", f"{host} resolves to {address} (use --allow-private for local hosts)")
