"""A real gallery site on 127.0.0.1, built from real photos in ../shared/data (read in place).

Every hostile endpoint the scraper must survive lives here too; `GallerySite.hits` records each
request (path, monotonic time) so tests can check what was, and was not, fetched.
"""

from __future__ import annotations

import io
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

import pytest
from PIL import Image

from scraping.scrape_settings import ScrapeSettings

PRIVATE_TARGET = "http://10.255.255.1/latest/meta-data/x.jpg"  # refused by the guard before any connection


def bomb_png(side: int = 20000) -> bytes:
    """A 1-bit PNG claiming side x side pixels: ~50 KB on the wire, side^2 pixels once decoded."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def _thumbnail(data: bytes) -> bytes:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image.thumbnail((64, 64))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


@dataclass
class GallerySite:
    photos: dict[str, bytes]  # "/img/<name>.jpg" -> bytes of a real photo
    pages: dict[str, str] = field(default_factory=dict)
    hits: list[tuple[str, float]] = field(default_factory=list)
    base: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    counters: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base + path

    def count(self, path: str) -> int:
        with self.lock:
            self.counters[path] = self.counters.get(path, 0) + 1
            return self.counters[path]

    def requests_for(self, path: str) -> list[float]:
        return [t for p, t in self.hits if p == path]


def _gallery_pages(site: GallerySite) -> None:
    lic = '<link rel="license" href="https://creativecommons.org/licenses/by-sa/4.0/">'
    pixel = "data:image/gif;base64,R0lGODlhAQABAAAAACw="
    site.pages["/gallery/page1.html"] = f"""<!doctype html><html><head><title>Gallery 1</title>{lic}
<meta property="og:image" content="/img/p6.jpg"><link rel="next" href="page2.html"></head><body>
<img src="/img/p0-640.jpg" srcset="/img/p0-640.jpg 640w, /img/p0-1280.jpg 1280w" alt="srcset photo" title="Zero">
<img src="{pixel}" data-src="/img/p1.jpg" alt="lazy photo">
<img src="{pixel}" data-srcset="/img/p2-small.jpg 1x, /img/p2.jpg 2x" alt="lazy srcset">
<img class="lazy" data-original="/img/p3.jpg" alt="data-original photo">
<picture><source srcset="/img/p4-640.jpg 640w, /img/p4.jpg 1280w" type="image/jpeg"><img src="/img/p4-fallback.jpg" alt="picture photo"></picture>
<figure><a href="/img/p5.jpg"><img src="/thumb/p5.jpg" alt="thumb five"></a><figcaption>Photo five</figcaption>
<a rel="license" href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a></figure>
<img src="/img/p1.jpg#again" alt="same URL again"><img src="/dup/p1-copy.jpg" alt="same bytes, other URL">
<a href="/about.html">about</a> <a href="/files/report.pdf">report</a> <a href="mailto:curator@example.org">mail</a>
<a href="javascript:alert(1)">js</a> <img src="ftp://127.0.0.1/pub/x.jpg" alt="ftp"> <img src="file:///etc/passwd" alt="file">
<img src="/private/secret.jpg" alt="robots disallowed">
<img src="/hostile/429.jpg"><img src="/hostile/flaky.jpg"><img src="/hostile/slow.jpg"><img src="/hostile/loop-a.jpg">
<img src="/hostile/to-private.jpg"><img src="/hostile/huge.jpg"><img src="/hostile/huge-chunked.jpg">
<img src="/hostile/lie.jpg"><img src="/hostile/html-type.jpg"><img src="/hostile/truncated.jpg"><img src="/hostile/bomb.png">
<img src="/hostile/noai.jpg"><img src="/hostile/other-bot-only.jpg">
<a href="page2.html" rel="next">next</a></body></html>"""
    site.pages["/gallery/page2.html"] = """<html><head><title>Gallery 2</title></head><body>
<img src="/img/p7.jpg" alt="seven"><img src="/img/p8.jpg" alt="eight">
<a href="/links.html">index</a> <a href="/private/page.html">private</a> <a href="/noimages.html">noimages</a>
<a href="/nofollow.html">nofollow</a> <a href="page3.html" rel="next">next</a></body></html>"""
    site.pages["/gallery/page3.html"] = """<html><body><img src="/img/p9.jpg" alt="nine">
<a href="page1.html">back to the start</a></body></html>"""
    site.pages["/about.html"] = "<html><body><p>About us</p><img src='/img/p10.jpg' alt='ten'></body></html>"
    site.pages["/private/page.html"] = "<html><body><img src='/img/p11.jpg'></body></html>"
    site.pages["/noimages.html"] = (
        "<html><head><meta name='robots' content='noimageai'></head><body><img src='/img/p12.jpg'></body></html>"
    )
    site.pages["/nofollow.html"] = (
        "<html><head><meta name='robots' content='nofollow'></head><body><img src='/img/p13.jpg'>"
        "<a href='/behind-nofollow.html'>x</a></body></html>"
    )
    site.pages["/behind-nofollow.html"] = "<html><body><img src='/img/p14.jpg'></body></html>"
    site.pages["/clean/index.html"] = (  # no hostile endpoints: safe to crawl with --allow-private
        "<html><body>" + "".join(f"<img src='/img/p{n}.jpg' alt='photo {n}'>" for n in (1, 3, 5, 7, 8, 9, 10, 13))
        + "<a href='/clean/more.html'>more</a></body></html>"
    )
    site.pages["/clean/more.html"] = "<html><body><img src='/img/p15.jpg'><img src='/img/p2.jpg'></body></html>"
    links = "".join(f'<a href="/l/{n}.html">{n}</a>\n' for n in range(10_000))
    site.pages["/links.html"] = f"<html><body><img src='/img/p15.jpg'>{links}</body></html>"


class _QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1, no request log, and `_send` for a whole response."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading (byte cap): expected
            pass


def _serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """A loopback server on a free port, answering from a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _Handler(_QuietHandler):
    site: GallerySite

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: C901 - one route table
        site = self.site
        path = self.path.split("?", 1)[0]
        with site.lock:
            site.hits.append((path, time.monotonic()))
        photo = site.photos["/img/p1.jpg"]
        if path == "/robots.txt":
            return self._send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        if path in site.pages:
            return self._send(200, site.pages[path].encode(), "text/html; charset=utf-8")
        if path in site.photos:
            return self._send(200, site.photos[path], "image/jpeg")
        if path.startswith("/thumb/"):
            return self._send(200, _thumbnail(photo), "image/jpeg")
        if path == "/dup/p1-copy.jpg":
            return self._send(200, photo, "image/jpeg")
        if path == "/hostile/429.jpg":
            if site.count(path) == 1:
                return self._send(429, b"slow down", "text/plain", {"Retry-After": "1"})
            return self._send(200, site.photos["/img/p2.jpg"], "image/jpeg")
        if path == "/hostile/flaky.jpg":
            if site.count(path) <= 2:
                return self._send(500, b"oops", "text/plain")
            return self._send(200, site.photos["/img/p3.jpg"], "image/jpeg")
        if path == "/hostile/slow.jpg":
            time.sleep(1.5)
            return self._send(200, photo, "image/jpeg")
        if path == "/hostile/loop-a.jpg":
            return self._redirect("/hostile/loop-b.jpg")
        if path == "/hostile/loop-b.jpg":
            return self._redirect("/hostile/loop-a.jpg")
        if path == "/hostile/to-private.jpg":
            return self._redirect(PRIVATE_TARGET)
        if path == "/hostile/huge.jpg":
            return self._send(200, photo + b"\x00" * 3_000_000, "image/jpeg")
        if path == "/hostile/huge-chunked.jpg":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for _ in range(50):
                    block = b"\xff" * 65536
                    self.wfile.write(f"{len(block):x}\r\n".encode() + block + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        if path == "/hostile/drip.jpg":  # each byte well within the read timeout, the whole far too slow
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(photo)))
            self.end_headers()
            try:
                for index in range(40):
                    self.wfile.write(photo[index : index + 1])
                    self.wfile.flush()
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        if path == "/hostile/lie.jpg":
            return self._send(200, b"<html><body>not a photo</body></html>", "image/jpeg")
        if path == "/hostile/html-type.jpg":
            return self._send(200, photo, "text/html")
        if path == "/hostile/truncated.jpg":
            return self._send(200, photo[: len(photo) * 6 // 10], "image/jpeg")
        if path == "/hostile/bomb.png":
            return self._send(200, site.photos["bomb"], "image/png")
        if path == "/hostile/noai.jpg":
            return self._send(200, photo, "image/jpeg", {"X-Robots-Tag": "noai, noimageai"})
        if path == "/hostile/other-bot-only.jpg":
            return self._send(200, site.photos["/img/p4.jpg"], "image/jpeg", {"X-Robots-Tag": "otherbot: noindex"})
        return self._send(404, b"not found", "text/plain")


def start_site(photo_files: list[Path]) -> tuple[ThreadingHTTPServer, GallerySite]:
    names = [
        "p0-640", "p0-1280", "p1", "p2-small", "p2", "p3", "p4-640", "p4", "p4-fallback", "p5", "p6", "p7",
        "p8", "p9", "p10", "p11", "p12", "p13", "p14", "p15",
    ]
    photos = {f"/img/{name}.jpg": photo_files[i].read_bytes() for i, name in enumerate(names)}
    photos["bomb"] = bomb_png()
    site = GallerySite(photos=photos)
    _gallery_pages(site)
    server = _serve(type("GalleryHandler", (_Handler,), {"site": site}))
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    return server, site


@pytest.fixture
def gallery_site(caltech_dir: Path):
    files = sorted((caltech_dir / "airplanes").glob("*.jpg"))[:20]
    server, site = start_site(files)
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


class _RouteHandler(_QuietHandler):
    routes: dict[str, tuple[int, bytes, str]]
    hits: list[tuple[str, float]]

    def do_GET(self) -> None:
        self.hits.append((self.path, time.monotonic()))
        self._send(*self.routes.get(self.path, (404, b"not found", "text/plain")))


@pytest.fixture
def route_server():
    """start(routes) -> (base URL, hits): a loopback server answering fixed routes."""
    servers: list[ThreadingHTTPServer] = []

    def start(routes: dict[str, tuple[int, bytes, str]]) -> tuple[str, list[tuple[str, float]]]:
        hits: list[tuple[str, float]] = []
        server = _serve(type("RouteHandler", (_RouteHandler,), {"routes": routes, "hits": hits}))
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", hits

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def loopback_settings(**overrides: object) -> ScrapeSettings:
    """Fast, loopback-only settings: only 127.0.0.1 is allowed, every other private address refused."""
    values: dict[str, object] = dict(
        allowed_networks=("127.0.0.1/32",),
        min_host_delay_s=0.0,
        max_per_host=4,
        threads=6,
        connect_timeout_s=1.0,
        read_timeout_s=0.5,
        backoff_base_s=0.05,
        backoff_max_s=0.2,
        max_retries=3,
        max_bytes=1_000_000,
        max_depth=2,
        max_pages=20,
        max_attempts=3,
    )
    values.update(overrides)
    return ScrapeSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def scrape_settings_factory():
    return loopback_settings


# -- a paginated gallery beside a link farm ----------------------------------------------------------

FARM_LINKS = 10_000  # links on every farm page, each to another farm page
GALLERY_PAGES = 6
GALLERY_PHOTOS = 17


@dataclass
class FarmGallerySite:
    """`/index.html` links a link farm (`/farm/<id>.html`, generated on the fly) before a gallery of
    GALLERY_PAGES pages chained by rel=next (some by `<link>`, some by `<a>`) showing GALLERY_PHOTOS
    real photos. `delay(path)` is slept before each page is answered, so a test can reorder which
    fetch completes first."""

    photos: dict[str, bytes]  # "/photos/<n>.jpg" -> bytes of a real photo
    base: str = ""
    delay: Callable[[str], float] = lambda path: 0.0
    hits: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base + path

    def page(self, path: str) -> str | None:
        if path == "/index.html":  # the farm first: discovery order alone favours it
            return "<html><body><a href='/farm/0.html'>more links</a> <a href='/gallery/1.html'>gallery</a></body></html>"
        if path.startswith("/farm/") and path.endswith(".html"):
            farm_id = path[len("/farm/"):-len(".html")]
            links = "".join(f"<a href='/farm/{farm_id}-{k}.html'>{k}</a>\n" for k in range(FARM_LINKS))
            return f"<html><body>{links}</body></html>"
        number = path.removeprefix("/gallery/").removesuffix(".html")
        if not (path.startswith("/gallery/") and number.isdigit() and 1 <= int(number) <= GALLERY_PAGES):
            return None
        page_number = int(number)
        photos = [p for i, p in enumerate(sorted(self.photos, key=_photo_number)) if i % GALLERY_PAGES == page_number - 1]
        images = "".join(f"<figure><img src='{p}' alt='photo'></figure>" for p in photos)
        nxt = f"{page_number + 1}.html"
        head = f"<link rel='next' href='{nxt}'>" if page_number % 2 and page_number < GALLERY_PAGES else ""
        tail = f"<a rel='next' href='{nxt}'>next</a>" if page_number % 2 == 0 and page_number < GALLERY_PAGES else ""
        return f"<html><head>{head}</head><body>{images}<a href='/index.html'>home</a>{tail}</body></html>"


def _photo_number(path: str) -> int:
    return int(path.removeprefix("/photos/").removesuffix(".jpg"))


class _FarmGalleryHandler(_QuietHandler):
    site: FarmGallerySite

    def do_GET(self) -> None:
        site = self.site
        path = self.path.split("?", 1)[0]
        with site.lock:
            site.hits.append(path)
        if path == "/robots.txt":
            return self._send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        if path in site.photos:
            return self._send(200, site.photos[path], "image/jpeg")
        if (html := site.page(path)) is not None:
            time.sleep(site.delay(path))
            return self._send(200, html.encode(), "text/html; charset=utf-8")
        return self._send(404, b"not found", "text/plain")


@pytest.fixture
def farm_gallery_site(caltech_dir: Path):
    files = sorted((caltech_dir / "airplanes").glob("*.jpg"))[:GALLERY_PHOTOS]
    site = FarmGallerySite(photos={f"/photos/{n}.jpg": file.read_bytes() for n, file in enumerate(files)})
    server = _serve(type("FarmGalleryHandler", (_FarmGalleryHandler,), {"site": site}))
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
