"""`tintype studio [--port P] [--host 127.0.0.1] [--model BUNDLE] [--models-dir models]`: the local studio page."""

from __future__ import annotations

import argparse
import ipaddress
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path

from cli.argument_types import PORT
from cli.colorize_command import DEFAULT_MODEL
from cli.settings_arguments import (
    DeprecatedSpelling,
    add_settings_arguments,
    settings_from_arguments,
)
from studio.studio_config import StudioConfig

DEFAULT_PORT = 8765
STUDIO_OPTIONS = ("model", "models_dir", "max_upload_mb", "max_pixels", "device")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("studio", help="a local web page to colorize pictures, compare before/after and download")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=PORT, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--work-dir", default=None, help="where jobs and results are kept (default: a temporary folder, removed on exit)")
    add_settings_arguments(parser, StudioConfig, STUDIO_OPTIONS)
    # The budget was --max-megapixels (millions of pixels) until the colorize setting took its place; until the next release.
    parser.add_argument("--max-megapixels", dest="max_pixels", type=_megapixels, action=DeprecatedSpelling, new="--max-pixels",
                        help=argparse.SUPPRESS)
    parser.set_defaults(run=run)


def _megapixels(text: str) -> int:
    return round(float(text) * 1_000_000)


def run(args: argparse.Namespace) -> int:
    if args.model and not (Path(args.model) / "version.txt").is_file():
        print(f"error: no model bundle at {args.model}; give a bundle folder (it holds weights.pt, config.json, version.txt ...)",
              file=sys.stderr)
        return 2
    import uvicorn

    from studio.app import create_app

    try:
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        listener = socket.create_server((args.host, args.port), family=family)  # bound first so --port 0 can print the real port
    except OSError as error:
        print(f"error: cannot listen on {args.host}:{args.port}: {error.strerror}; "
              "choose another --port (0 picks a free one) or --host", file=sys.stderr)
        return 2
    work_dir = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="tintype-studio-"))
    config = settings_from_arguments(StudioConfig, args, STUDIO_OPTIONS, work_dir=work_dir, default_model=Path(DEFAULT_MODEL))
    app = create_app(config)
    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"tintype studio: http://{shown}:{port}/  (Ctrl-C stops)", flush=True)
    if not ipaddress.ip_address(host).is_loopback:
        print(f"warning: the studio has no login; anyone who can reach {host}:{port} can use it", file=sys.stderr)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    # uvicorn re-raises SIGTERM after its graceful shutdown; as SystemExit it passes the cleanup below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        server.run(sockets=[listener])
    finally:
        app.state.queue.stop()
        if not args.work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)
    return 0
