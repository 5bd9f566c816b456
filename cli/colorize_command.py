"""`tintype colorize INPUT OUTPUT [--model BUNDLE] [--working-size N] [--saturation X] [--force] [--max-pixels N] [--inbox [--every S]]`.

`--every S` re-runs the colorize-archive flow in this process every S seconds until Ctrl-C (or
SIGTERM). Runs never overlap, and each is a flow run on the configured Prefect API. It does not
rely on a server's scheduler: an ephemeral or test server has none, so a served deployment would
silently never run there. For a server-scheduled inbox use `tintype serve` (its `inbox` deployment).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time

from cli.argument_types import Bounded
from cli.progress_display import add_quiet_argument, progress_display
from cli.settings_arguments import add_settings_arguments, settings_from_arguments
from inference.colorize_settings import ColorizeSettings
from inference.model_loading import default_bundle_path, resolve_bundle

DEFAULT_MODEL = str(default_bundle_path())
COLORIZE_OPTIONS = ("working_size", "saturation", "temperature", "smoothing_sigma", "force", "max_pixels",
                    "c2pa_certificate", "c2pa_private_key")
RENAMED_COLORIZE_OPTIONS = {"--size": "working_size", "--smoothing": "smoothing_sigma"}  # until the next release


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("colorize", help="colorize an image, folder, .zip, .tar(.gz) or list file (the colorize-archive flow)")
    parser.add_argument("input", metavar="INPUT", help="image file, folder, .zip, .tar/.tar.gz or list file (.txt: one path per line); a path or an object-store URL (s3://bucket/archive.zip)")
    parser.add_argument("output", metavar="OUTPUT", help="output folder or .zip, a path or an object-store URL (s3://bucket/colorized); the ledger lives beside the outputs")
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help="model bundle folder or its URL (s3://bucket/runs/r1/bundle), or a shipped model: default (quality) or fast (CPU speed) "
                             "(default: $TINTYPE_MODEL, else models/default)")
    add_settings_arguments(parser, ColorizeSettings, COLORIZE_OPTIONS, RENAMED_COLORIZE_OPTIONS)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--inbox", action="store_true", help="INPUT is a watched folder: plan only entries not finished before")
    parser.add_argument("--every", type=Bounded(int, {"ge": 0}), default=0, metavar="SECONDS",
                        help="with --inbox: re-run every SECONDS in this process, one run at a time (Ctrl-C stops)")
    add_quiet_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    bundle = resolve_bundle(args.model)  # a bundle URL: downloaded into the local cache (one line if missing)
    if not (bundle / "version.txt").is_file():
        print(f"error: no model bundle at {bundle}; pass --model BUNDLE (e.g. RUN/bundle from `tintype train`) "
              "or a shipped model: default, fast", file=sys.stderr)
        return 2
    from safe_files.data_root_storage import exists, is_remote

    if not exists(args.input):  # a path or an object-store URL
        print(f"error: input not found: {args.input}; give an image, a folder, a .zip, a .tar(.gz) or a .txt list of paths",
              file=sys.stderr)
        return 2
    from flows.colorize_archive import colorize_archive

    parameters = dict(
        input=args.input, output=args.output, model=args.model if is_remote(args.model) else str(bundle.resolve()),
        settings=settings_from_arguments(ColorizeSettings, args, COLORIZE_OPTIONS), device=args.device, inbox=args.inbox,
    )
    if args.every:
        if not args.inbox:
            print("error: --every needs --inbox; add --inbox (INPUT is then a watched folder)", file=sys.stderr)
            return 2
        with progress_display(args.quiet):
            return _every(args.every, colorize_archive, parameters)
    with progress_display(args.quiet):
        totals = colorize_archive(**parameters)  # a refusal (OUTPUT inside INPUT) is reported by cli/main.py
    print(json.dumps(totals, indent=1))
    return 1 if totals["failed"] and not totals["done"] else 0


def _every(seconds: int, colorize_archive, parameters: dict) -> int:
    """Run the flow, wait out the rest of the interval, repeat; a failed run is reported and retried
    at the next tick (the ledger keeps what it finished). Ctrl-C or SIGTERM stops it after the run in
    progress (a second Ctrl-C stops at once), exit 0."""
    from prefect.exceptions import TerminationSignal

    from cli.user_errors import is_user_error

    stop = _StopRequest()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.requested.is_set():
            started = time.monotonic()
            try:
                print(json.dumps(colorize_archive(**parameters)), flush=True)
            except TerminationSignal:  # SIGTERM while Prefect's own handler held it: the run is marked crashed
                break
            except Exception as error:
                if is_user_error(error):  # e.g. OUTPUT inside INPUT: no tick will fix it (cli/main.py reports it)
                    raise
                print(f"run failed, retrying in {seconds} s: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            stop.requested.wait(max(0.0, seconds - (time.monotonic() - started)))
    except KeyboardInterrupt:  # the second Ctrl-C
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("stopped", file=sys.stderr, flush=True)
    return 0


class _StopRequest:
    """Signal handler: the first signal asks the loop to stop between runs (a run is never cut in
    half by it), the second one interrupts."""

    def __init__(self) -> None:
        self.requested = threading.Event()

    def __call__(self, signum: int, frame: object) -> None:
        if self.requested.is_set():
            raise KeyboardInterrupt
        self.requested.set()
        print("stopping after the run in progress (Ctrl-C again to stop now)", file=sys.stderr, flush=True)
