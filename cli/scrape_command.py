"""`tintype scrape (--seed URL ... | --url-list FILE) --out DATA`: fetch images into DATA/raw/."""

from __future__ import annotations

import argparse
import json

from cli.argument_types import AT_LEAST_ONE, require_file
from cli.progress_display import add_quiet_argument, progress_display
from cli.settings_arguments import add_settings_arguments, settings_from_arguments
from scraping.scrape_settings import ScrapeSettings

# The ScrapeSettings a command line offers (every one is a field of the scrape flow's form).
SCRAPE_OPTIONS = ("max_images", "max_depth", "max_pages", "max_links_per_page", "include", "exclude", "allow_private",
                  "threads", "max_per_host", "min_host_delay_s", "contact_url", "max_bytes")
RENAMED_SCRAPE_OPTIONS = {"--per-host": "max_per_host", "--host-delay": "min_host_delay_s"}


def add_scrape_arguments(parser: argparse.ArgumentParser) -> None:
    """The scrape options, shared with build-dataset (where the source may be --images instead)."""
    source = parser.add_argument_group("scrape source (one of)")
    source.add_argument("--seed", action="append", metavar="URL", help="a gallery or catalogue page to crawl (repeatable)")
    source.add_argument("--url-list", metavar="FILE", help="image URLs: .txt (one a line), .csv/.tsv/.jsonl/.parquet with a url column")
    add_settings_arguments(parser.add_argument_group("scraping"), ScrapeSettings, SCRAPE_OPTIONS, RENAMED_SCRAPE_OPTIONS)


def scrape_settings(args: argparse.Namespace) -> ScrapeSettings:
    return settings_from_arguments(ScrapeSettings, args, SCRAPE_OPTIONS)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("scrape", help="seed pages or a URL list -> images + manifest in DATA/raw")
    add_scrape_arguments(parser)
    parser.add_argument("--out", default="data", help="data root, a path or an object-store URL (s3://bucket/data); images go to OUT/raw (default: ./data)")
    parser.add_argument("--workers", type=AT_LEAST_ONE, default=2, help="batches (sites or URL-list parts) at once")
    add_quiet_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if bool(args.seed) == bool(args.url_list):
        raise ValueError("give --seed URL (repeatable) or --url-list FILE; one of the two, not both")
    require_file(args.url_list, "URL list")
    from flows.scrape import scrape

    with progress_display(args.quiet):
        totals = scrape(seeds=args.seed, url_list=args.url_list, out=args.out, workers=args.workers, settings=scrape_settings(args))
    print(json.dumps(totals, indent=1))
    return 0
