"""`tintype demo`: the whole `pipeline` flow on built-in defaults, in Prefect's embedded mode.

A sample gallery of colour scenes is drawn (nothing is downloaded) and served on 127.0.0.1; the
pipeline scrapes it, cleans it, writes Lab shards, trains a tiny colorizer for a minute and
colorizes a black-and-white sample archive. To extend the demo, add a step to `run` and a line to
`_where_to_look`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.argument_types import AT_LEAST_ONE
from cli.progress_display import add_quiet_argument, progress_display
from flows.sample_settings import SAMPLE_SHARDS, SAMPLE_STEPS, sample_training


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the whole pipeline on a built-in sample (a few minutes on a CPU)")
    parser.add_argument("--out", default="demo-out", help="where the demo writes (default: ./demo-out)")
    parser.add_argument("--steps", type=AT_LEAST_ONE, default=SAMPLE_STEPS, help=f"training steps (default {SAMPLE_STEPS}: about a minute on 2 cores)")
    add_quiet_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from flows.pipeline import pipeline
    from flows.pipeline_parameters import (
        ColorizeParameters,
        DatasetParameters,
        TrainingParameters,
    )
    from preprocessing.images.sample_pictures import write_gallery
    from scraping.gallery_site import serve_gallery
    from scraping.scrape_settings import ScrapeSettings

    out = Path(args.out).resolve()
    gallery = out / "sample-gallery"
    write_gallery(gallery)
    server, url = serve_gallery(gallery)  # a real web gallery on 127.0.0.1, scraped like any site
    print(f"sample gallery served at {url}", flush=True)
    try:
        with progress_display(args.quiet):
            result = pipeline(
                dataset=DatasetParameters(seeds=[url], out=str(out / "data"), scrape=ScrapeSettings(allow_private=True),
                                          shards=SAMPLE_SHARDS),
                training=TrainingParameters(out=str(out / "runs" / "demo"), settings=sample_training(args.steps)),
                colorize=ColorizeParameters(output=str(out / "colorized")),
            )
    finally:
        server.shutdown()
    _where_to_look(out, result)
    with progress_display(args.quiet):
        _colorize_with_default_model(out, result)
    return 0


def _colorize_with_default_model(out: Path, result: dict) -> None:
    """Black-and-white photos through the shipped default model, with a before/after sheet: grayscale
    versions of the photos scikit-image ships (installed by `make setup`), else the sample archive."""
    from flows.colorize_archive import colorize_archive
    from inference.model_loading import default_bundle_path
    from preprocessing.images.sample_pictures import write_gray_package_photos

    bundle = default_bundle_path()
    if not (bundle / "version.txt").is_file():
        print(f"default model:    not found at {bundle}; skipped")
        return
    photos = out / "photo-archive"
    source = photos if write_gray_package_photos(photos) else Path(result["archive"])
    target = out / "colorized-default-model"
    totals = colorize_archive(input=str(source), output=str(target), model=str(bundle))
    print(f"default model:    {bundle}  ({(bundle / 'version.txt').read_text().strip()})")
    print(f"colorized out:    {target}/  ({_counts(totals.get('done', 0), totals.get('settled', 0))} from {source})")
    if totals.get("contact_sheet"):
        print(f"before / after:   {totals['contact_sheet']}  (the default model)")


def _where_to_look(out: Path, result: dict) -> None:
    print()
    print(f"sample gallery:   {out / 'sample-gallery'}/  (scraped from the local web server)")
    print(f"raw + clean:      {out / 'data' / 'raw'}/  {out / 'data' / 'clean'}/  (contact-sheet.png: what cleaning dropped)")
    print(f"dataset card:     {result['dataset_card']}")
    print(f"model bundle:     {result['bundle']}  (metrics.jsonl and samples/ beside it)")
    print(f"archive in:       {result['archive']}/")
    print(f"colorized out:    {result['colorized']}/  ({_counts(result['colorized_images'], result.get('settled_images', 0))})")
    if result.get("contact_sheet"):
        print(f"before / after:   {result['contact_sheet']}")
    print("UI:               `make serve`, then open http://127.0.0.1:4200 (runs, subflows and their artifacts)")


def _counts(done: int, settled: int) -> str:
    """'5 images', or on a re-run '0 images now, 5 done by an earlier run'."""
    return f"{done} images" + (f" now, {settled} done by an earlier run" if settled else "")
