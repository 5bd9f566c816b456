"""Download one image URL and accept it only when every check passes.

Order matters for cost: policy headers and the declared type are checked before the body is read,
the byte cap while it streams, magic bytes and the full decode once it is in memory.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from scraping.fetch_outcomes import Invalid, Refused
from scraping.http_fetch import HttpFetcher
from scraping.image_check import CheckedImage, check_image
from scraping.robots import NO_IMAGES, header_values, parse_directives

# Declared types we still open (servers often send these for images); anything else text-like is refused.
_BINARY_TYPES = frozenset({"application/octet-stream", "binary/octet-stream", "application/binary", ""})


@dataclass(frozen=True)
class DownloadedImage:
    data: bytes
    sha256: str
    image: CheckedImage
    final_url: str
    http_status: int
    declared_mime: str
    retries: int
    redirects: int


def declared_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def download_image(fetcher: HttpFetcher, url: str) -> DownloadedImage:
    settings = fetcher.settings
    with fetcher.open(url) as fetched:
        response = fetched.response
        directives = parse_directives(header_values(response))
        blocked = sorted(directives & NO_IMAGES)
        if blocked:
            raise Refused("x-robots-tag", f"X-Robots-Tag: {', '.join(blocked)}", response.status_code)
        declared = declared_type(response.headers.get("Content-Type"))
        if not declared.startswith("image/") and declared not in _BINARY_TYPES:
            raise Invalid("content-type", f"declared {declared!r}, not an image", response.status_code)
        data = fetched.read_body(settings.max_bytes, settings.download_deadline_s)
        final_url, status, retries, redirects = fetched.url, response.status_code, fetched.retries, fetched.redirects
    if not data:
        raise Invalid("empty", "empty body", status)
    checked = check_image(data, settings.max_pixels)
    return DownloadedImage(
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        image=checked,
        final_url=final_url,
        http_status=status,
        declared_mime=declared,
        retries=retries,
        redirects=redirects,
    )
