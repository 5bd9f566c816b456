"""`tintype gallery DIR [--port P]`: serve a folder of images as a web gallery on 127.0.0.1."""

from __future__ import annotations

import argparse
import threading

from cli.argument_types import AT_LEAST_ONE, PORT, require_folder


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("gallery", help="serve a local image folder as a web gallery on 127.0.0.1")
    parser.add_argument("folder", help="folder of images; each sub-folder becomes an album")
    parser.add_argument("--port", type=PORT, default=8765, help="port on 127.0.0.1 (default 8765; 0 picks a free one)")
    parser.add_argument("--per-page", type=AT_LEAST_ONE, default=48, help="pictures per gallery page")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    require_folder(args.folder, "image folder")
    from scraping.gallery_site import serve_gallery

    server, url = serve_gallery(args.folder, args.port, args.per_page)
    print(f"gallery of {args.folder} at {url} (Ctrl-C stops it)", flush=True)
    try:
        threading.Event().wait()
    finally:
        server.shutdown()
    return 0
