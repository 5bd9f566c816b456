"""Find the photographs and the onward links in one HTML page (beautifulsoup4, stdlib parser).

One candidate per image element, the biggest it offers: `srcset`/`data-srcset` (largest width or
density), lazy-load attributes, then `src`. A `<picture>` is one element (its `<source>`s and
`<img>` together). A thumbnail wrapped in `<a href="full.jpg">` yields the full-size target, not
the thumbnail. `og:image` counts too. Alt text, title, and licence hints (rel=license links and
Creative Commons URLs, on the page or in the image's <figure>) travel with each image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag

from scraping.robots import parse_directives
from scraping.url_canonical import canonical_url

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".bmp", ".avif")
LAZY_SRCSET_ATTRIBUTES = ("data-srcset", "data-lazy-srcset")
LAZY_SRC_ATTRIBUTES = ("data-src", "data-original", "data-lazy-src", "data-lazy", "data-full", "data-large", "data-url")
_LICENCE_URL = re.compile(r"creativecommons\.org/(licenses|publicdomain)/", re.IGNORECASE)
_DESCRIPTOR = re.compile(r"^(\d+(?:\.\d+)?)([wx])$", re.IGNORECASE)


@dataclass(frozen=True)
class ImageRef:
    url: str
    alt: str = ""
    title: str = ""
    licences: tuple[str, ...] = ()


@dataclass
class ParsedPage:
    images: list[ImageRef] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    next_pages: list[str] = field(default_factory=list)
    directives: frozenset[str] = frozenset()
    licences: tuple[str, ...] = ()
    link_count: int = 0  # every <a href>, before the per-page cap


def largest_candidate(srcset: str) -> str | None:
    """The URL in a srcset with the largest width (w) or density (x) descriptor."""
    best: tuple[float, str] | None = None
    for index, candidate in enumerate(_split_srcset(srcset)):
        parts = candidate.split()
        if not parts:
            continue
        url, score = parts[0], 1.0
        if len(parts) > 1 and (match := _DESCRIPTOR.match(parts[1])):
            value = float(match.group(1))
            score = value if match.group(2).lower() == "w" else value * 1000  # 2x beats 1x; w beats small x
        if best is None or score > best[0]:
            best = (score, url)
    return best[1] if best else None


def _split_srcset(srcset: str) -> list[str]:
    # Commas separate candidates, but a URL may contain commas: split on commas followed by space
    # or those that end a descriptor.
    return [part.strip() for part in re.split(r",\s+|,(?=\S+\s+\d)", srcset.strip()) if part.strip()]


def _is_image_url(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(IMAGE_EXTENSIONS)


def _usable(url: str | None) -> bool:
    return bool(url) and not url.strip().lower().startswith("data:")


def _element_candidate(img: Tag) -> str | None:
    for attribute in LAZY_SRCSET_ATTRIBUTES + ("srcset",):
        if _usable(value := img.get(attribute)) and (best := largest_candidate(str(value))) and _usable(best):
            return best
    for attribute in LAZY_SRC_ATTRIBUTES + ("src",):
        if _usable(value := img.get(attribute)):
            return str(value).strip()
    return None


def _picture_candidate(picture: Tag) -> str | None:
    best: tuple[float, str] | None = None
    for source in picture.find_all("source"):
        for attribute in LAZY_SRCSET_ATTRIBUTES + ("srcset",):
            value = source.get(attribute)
            if not _usable(value):
                continue
            for candidate in _split_srcset(str(value)):
                parts = candidate.split()
                score = 1.0
                if len(parts) > 1 and (match := _DESCRIPTOR.match(parts[1])):
                    score = float(match.group(1)) * (1 if match.group(2).lower() == "w" else 1000)
                if best is None or score > best[0]:
                    best = (score, parts[0])
            break
    if best:
        return best[1]
    img = picture.find("img")
    return _element_candidate(img) if isinstance(img, Tag) else None


def _figure_licences(element: Tag) -> tuple[str, ...]:
    figure = element.find_parent("figure")
    if not isinstance(figure, Tag):
        return ()
    found = []
    for anchor in figure.find_all("a", href=True):
        href = str(anchor["href"])
        if "license" in (anchor.get("rel") or []) or _LICENCE_URL.search(href):
            found.append(href)
    return tuple(found)


def _text(value: object) -> str:
    return " ".join(str(value).split()) if value else ""


def parse_page(html: str | bytes, page_url: str, max_links: int = 5000) -> ParsedPage:
    soup = BeautifulSoup(html, "html.parser")
    base = page_url
    if isinstance(base_tag := soup.find("base", href=True), Tag):
        base = canonical_url(str(base_tag["href"]), base=page_url)
    parsed = ParsedPage()

    robots = [str(m.get("content", "")) for m in soup.find_all("meta", attrs={"name": re.compile("^robots$", re.I)})]
    parsed.directives = parse_directives(robots)

    licences = []  # page-wide hints: licence links outside any <figure> (those belong to one image)
    for tag in soup.find_all(["a", "link"], href=True):
        href = str(tag["href"])
        if ("license" in (tag.get("rel") or []) or _LICENCE_URL.search(href)) and tag.find_parent("figure") is None:
            licences.append(canonical_url(href, base=base))
    parsed.licences = tuple(dict.fromkeys(licences))

    seen_images: set[str] = set()

    def add_image(raw: str | None, element: Tag | None, alt: str = "", title: str = "") -> None:
        if not _usable(raw):
            return
        url = canonical_url(str(raw), base=base)
        if url in seen_images:
            return
        seen_images.add(url)
        if element is not None and not title:
            caption = element.find_parent("figure")
            if isinstance(caption, Tag) and isinstance(figcaption := caption.find("figcaption"), Tag):
                title = _text(figcaption.get_text())
        hints = (_figure_licences(element) if element is not None else ()) + parsed.licences
        parsed.images.append(ImageRef(url, _text(alt), _text(title), tuple(dict.fromkeys(hints))))

    linked_thumbnails: set[int] = set()
    for anchor in soup.find_all("a", href=True):
        href = str(anchor["href"])
        if _is_image_url(href):
            inner = anchor.find("img")
            alt = _text(inner.get("alt")) if isinstance(inner, Tag) else ""
            title = _text(anchor.get("title")) or (_text(inner.get("title")) if isinstance(inner, Tag) else "")
            if isinstance(inner, Tag):
                linked_thumbnails.add(id(inner))
            add_image(href, anchor, alt or _text(anchor.get_text()), title)

    for picture in soup.find_all("picture"):
        img = picture.find("img")
        if isinstance(img, Tag):
            if id(img) in linked_thumbnails:
                continue
            linked_thumbnails.add(id(img))
        alt = _text(img.get("alt")) if isinstance(img, Tag) else ""
        title = _text(img.get("title")) if isinstance(img, Tag) else ""
        add_image(_picture_candidate(picture), picture, alt, title)

    for img in soup.find_all("img"):
        if id(img) in linked_thumbnails:
            continue
        add_image(_element_candidate(img), img, _text(img.get("alt")), _text(img.get("title")))

    for meta in soup.find_all("meta"):
        if str(meta.get("property", meta.get("name", ""))).lower() in ("og:image", "og:image:url", "og:image:secure_url"):
            add_image(str(meta.get("content", "")), None, _text(_meta(soup, "og:title")))

    for tag in soup.find_all(["a", "link"], href=True):
        if "next" in (tag.get("rel") or []):
            parsed.next_pages.append(canonical_url(str(tag["href"]), base=base))
    links: dict[str, None] = {}
    for anchor in soup.find_all("a", href=True):
        parsed.link_count += 1
        href = str(anchor["href"])
        if _is_image_url(href) or href.startswith("#"):
            continue
        if len(links) < max_links:
            links[canonical_url(href, base=base)] = None
    parsed.links = list(links)
    return parsed


def _meta(soup: BeautifulSoup, prop: str) -> str:
    tag = soup.find("meta", attrs={"property": prop})
    return str(tag.get("content", "")) if isinstance(tag, Tag) else ""
