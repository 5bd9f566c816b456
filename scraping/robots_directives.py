"""Indexing directives from `X-Robots-Tag` headers and `<meta name="robots">` tags.

A directive may be scoped to one crawler (`X-Robots-Tag: googlebot: noindex`); only unscoped ones
and those scoped to our token (or `*`) apply. What we honour:
- on an image response: noai, noimageai, noindex, none -> the image is refused;
- on a page: noai, noimageai, noindex, none -> its images are not taken; nofollow, none -> its
  links are not followed.
"""

from __future__ import annotations

from typing import Iterable

from scraping.scrape_settings import ROBOTS_TOKEN

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
