"""Subcommands of `tintype`. Each module has `register(subparsers)` and sets `run` on its parser."""

from flows.commands import (
    build_dataset_command,
    clean_command,
    colorize_command,
    demo_command,
    gallery_command,
    scrape_command,
    serve_command,
    studio_command,
    train_command,
)

COMMAND_MODULES = [
    build_dataset_command,
    clean_command,
    colorize_command,
    demo_command,
    gallery_command,
    scrape_command,
    serve_command,
    studio_command,
    train_command,
]
