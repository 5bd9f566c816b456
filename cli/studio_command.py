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

from cli.colorize_command import DEFAULT_MODEL

DEFAULT_PORT = 8765


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("studio", help="a local web page to colorize pictures, compare before/after and download")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--model", default=None, help="a model bundle folder to offer first (e.g. RUN/bundle)")
    parser.add_argument("--models-dir", default="models", help="every bundle found under this folder is offered too (default ./models)")
    parser.add_argument("--work-dir", default=None, help="where jobs and results are kept (default: a temporary folder, removed on exit)")
    parser.add_argument("--max-upload-mb", type=float, default=40.0, help="largest upload in MB (default 40)")
    parser.add_argument("--max-megapixels", type=float, default=64.0, help="larger pictures are refused as likely decompression bombs (default 64)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.model and not (Path(args.model) / "version.txt").is_file():
        print(f"error: no model bundle at {args.model} (a bundle folder holds weights.pt, config.json, version.txt ...)", file=sys.stderr)
        return 2
    import uvicorn

    from studio.app import create_app
    from studio.studio_config import StudioConfig

    try:
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        listener = socket.create_server((args.host, args.port), family=family)  # bound first so --port 0 can print the real port
    except OSError as error:
        print(f"error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 2
    work_dir = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="tintype-studio-"))
    config = StudioConfig(
        work_dir=work_dir, model=Path(args.model) if args.model else None, default_model=Path(DEFAULT_MODEL),
        models_dir=Path(args.models_dir), max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
        max_pixels=int(args.max_megapixels * 1_000_000), device=args.device,
    )
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
