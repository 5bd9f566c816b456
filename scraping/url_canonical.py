"""URL canonicalisation, so that one resource written several ways is fetched once."""

from __future__ import annotations

from urllib.parse import quote, urljoin, urlsplit, urlunsplit

HTTP_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters left as they are when re-quoting: reserved ones keep their meaning, '%' keeps escapes.
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"
_SAFE_QUERY = _SAFE_PATH + "?"


def _requote(part: str, safe: str) -> str:
    # unquote only the unreserved characters' escapes would be ideal; unquote+quote is close and
    # keeps reserved escapes such as %2F because '%' is safe and quote() leaves valid escapes alone.
    return quote(part, safe=safe)


def remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4: '/a/./b/../c' -> '/a/c' (urljoin does this only when joining)."""
    output: list[str] = []
    for segment in path.split("/")[1:] if path.startswith("/") else path.split("/"):
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    trailing = "/" if path.endswith(("/.", "/..")) else ""
    return "/" + "/".join(output) + trailing


def canonical_url(url: str, base: str | None = None) -> str:
    """Absolute, fragment-free, lower-case scheme and host, no default port, normalised escapes.

    Non-http(s) URLs are returned joined but otherwise untouched (the caller refuses them).
    """
    url = url.strip()
    try:
        joined = urljoin(base, url) if base else url
        parts = urlsplit(joined)
        port = parts.port
    except ValueError:  # "http://[bad", "http://h:99999": left as written; the guard refuses them
        return url
    scheme = parts.scheme.lower()
    if scheme not in HTTP_SCHEMES:
        return joined
    host = (parts.hostname or "").rstrip(".")
    try:
        host = host.encode("idna").decode("ascii") if host and not host.isascii() else host.lower()
    except UnicodeError:
        host = host.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{netloc}"
    path = _requote(remove_dot_segments(parts.path or "/"), _SAFE_PATH)
    query = _requote(parts.query, _SAFE_QUERY)
    return urlunsplit((scheme, netloc, path, query, ""))


def host_key(url: str) -> str:
    """`host:port` of an http(s) URL: the unit of politeness (robots.txt, rate limits)."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError:
        return ""
    return f"{(parts.hostname or '').lower()}:{port}"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def is_http(url: str) -> bool:
    return urlsplit(url).scheme.lower() in HTTP_SCHEMES
