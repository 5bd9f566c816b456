"""Serve a local folder of images as a small web gallery on 127.0.0.1.

For building a dataset "from the web" out of a folder (the default model's recipe, the demo, tests):
an index page links one paged gallery per sub-folder (`rel=next` pagination), each picture a
thumbnail `<img>` inside a link to the full-size file, as real galleries do. Pages are generated in
memory; images are streamed from the folder in place.
"""

from __future__ import annotations

import html
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def _albums(root: Path) -> dict[str, list[str]]:
    albums: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            relative = path.relative_to(root)
            album = relative.parent.as_posix() if relative.parent != Path(".") else "all"
            albums.setdefault(album, []).append(relative.as_posix())
    return albums


def _page(title: str, body: str, next_url: str | None = None) -> bytes:
    link = f'<link rel="next" href="{next_url}">' if next_url else ""
    more = f'<p><a rel="next" href="{next_url}">next page</a></p>' if next_url else ""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>{link}</head>"
        f"<body><h1>{html.escape(title)}</h1>{body}{more}</body></html>"
    ).encode()


class GallerySite:
    """Pages for `root`: `/` lists albums, `/album/<name>/<n>.html` shows `per_page` pictures."""

    def __init__(self, root: str | Path, per_page: int = 48) -> None:
        self.root = Path(root).resolve()
        self.per_page = per_page
        self.albums = _albums(self.root)

    def index(self) -> bytes:
        items = "".join(f'<li><a href="/album/{quote(name)}/1.html">{html.escape(name)}</a></li>' for name in self.albums)
        return _page("Gallery", f"<ul>{items}</ul>")

    def album_page(self, name: str, number: int) -> bytes | None:
        pictures = self.albums.get(name)
        start = (number - 1) * self.per_page
        if not pictures or number < 1 or start >= len(pictures):
            return None
        chunk = pictures[start : start + self.per_page]
        figures = "".join(
            f'<figure><a href="/files/{quote(p)}"><img src="/files/{quote(p)}" width="160" '
            f'alt="{html.escape(name)} photograph"></a></figure>'
            for p in chunk
        )
        has_next = start + self.per_page < len(pictures)
        next_url = f"/album/{quote(name)}/{number + 1}.html" if has_next else None
        return _page(f"{name}, page {number}", figures, next_url)

    def file_path(self, relative: str) -> Path | None:
        candidate = (self.root / relative).resolve()
        return candidate if candidate.is_file() and self.root in candidate.parents else None


class _Handler(SimpleHTTPRequestHandler):
    site: GallerySite

    def log_message(self, format: str, *args) -> None:  # quiet: thousands of requests
        pass

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        if path in ("/", "/index.html"):
            return self._send(self.site.index(), "text/html; charset=utf-8")
        if path.startswith("/album/") and path.endswith(".html"):
            name, _, page = path[len("/album/") : -len(".html")].rpartition("/")
            body = self.site.album_page(name, int(page)) if page.isdigit() else None
            return self._send(body, "text/html; charset=utf-8")
        if path.startswith("/files/"):
            file = self.site.file_path(path[len("/files/") :])
            if file:
                self.path = "/" + file.relative_to(self.site.root).as_posix()
                return super().do_GET()
        self.send_error(404)

    def _send(self, body: bytes | None, content_type: str) -> None:
        if body is None:
            return self.send_error(404)
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve_gallery(root: str | Path, port: int = 0, per_page: int = 48) -> tuple[ThreadingHTTPServer, str]:
    """Start serving in a daemon thread on 127.0.0.1; returns the server (call .shutdown()) and its URL."""
    site = GallerySite(root, per_page)
    handler = type("GalleryHandler", (_Handler,), {"site": site})
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(handler, directory=str(site.root)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="gallery-site", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"
