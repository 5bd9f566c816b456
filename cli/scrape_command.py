"""`tintype scrape (--seed URL ... | --url-list FILE) --out DATA`: fetch images into DATA/raw/."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_scrape_arguments(parser: argparse.ArgumentParser) -> None:
    """The scrape options, shared with build-dataset (where the source may be --images instead)."""
    source = parser.add_argument_group("scrape source (one of)")
    source.add_argument("--seed", action="append", metavar="URL", help="a gallery or catalogue page to crawl (repeatable)")
    source.add_argument("--url-list", metavar="FILE", help="image URLs: .txt (one a line), .csv/.tsv/.jsonl/.parquet with a url column")
    scrape = parser.add_argument_group("scraping")
    scrape.add_argument("--max-images", type=int, help="stop after this many stored images")
    scrape.add_argument("--max-depth", type=int, default=2, help="link depth from the seeds (default 2; pagination adds none)")
    scrape.add_argument("--max-pages", type=int, default=200, help="pages per site (default 200)")
    scrape.add_argument("--include", action="append", default=[], metavar="REGEX", help="follow only page URLs matching one of these")
    scrape.add_argument("--exclude", action="append", default=[], metavar="REGEX", help="never follow page URLs matching these")
    scrape.add_argument("--allow-private", action="store_true", help="allow loopback/private hosts (tests, local demo)")
    scrape.add_argument("--threads", type=int, default=16, help="download threads per batch (default 16)")
    scrape.add_argument("--per-host", type=int, default=4, help="concurrent requests per host (default 4)")
    scrape.add_argument("--host-delay", type=float, default=0.1, help="seconds between request starts per host (default 0.1; robots Crawl-delay raises it)")
    scrape.add_argument("--contact-url", help="URL in our User-Agent where site owners can reach you")
    scrape.add_argument("--max-bytes", type=int, default=50_000_000, help="largest image body accepted (default 50 MB)")


def scrape_options(args: argparse.Namespace) -> dict:
    options = {
        "include": tuple(args.include), "exclude": tuple(args.exclude), "max_per_host": args.per_host,
        "min_host_delay_s": args.host_delay, "max_bytes": args.max_bytes,
    }
    if args.contact_url:
        options["contact_url"] = args.contact_url
    return options


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("scrape", help="seed pages or a URL list -> images + manifest in DATA/raw")
    add_scrape_arguments(parser)
    parser.add_argument("--out", default="data", help="data root; images go to OUT/raw (default: ./data)")
    parser.add_argument("--workers", type=int, default=2, help="batches (sites or URL-list parts) at once")
    parser.set_defaults(run=run)


def check_source(args: argparse.Namespace) -> None:
    """Fail before any flow starts when the URL list is missing (a clear message, not a traceback)."""
    if args.url_list and not Path(args.url_list).is_file():
        raise SystemExit(f"URL list not found: {args.url_list}")


def run(args: argparse.Namespace) -> int:
    if bool(args.seed) == bool(args.url_list):
        raise SystemExit("tintype scrape: give --seed URL (repeatable) or --url-list FILE, not both")
    check_source(args)
    from flows.scrape import scrape

    totals = scrape(
        seeds=args.seed, url_list=args.url_list, out=args.out, max_images=args.max_images, max_depth=args.max_depth,
        max_pages=args.max_pages, allow_private=args.allow_private, threads=args.threads, workers=args.workers,
        options=scrape_options(args),
    )
    print(json.dumps(totals, indent=1))
    return 0
