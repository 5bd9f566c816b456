"""Subcommands of `tintype`. Each module `<name>_command.py` has `register(subparsers)` and sets
`run` on its parser; adding a subcommand is adding its name here."""

from importlib import import_module

COMMAND_NAMES = ("build_dataset", "clean", "colorize", "demo", "gallery", "scrape", "serve", "studio", "train")
COMMAND_MODULES = [import_module(f"flows.commands.{name}_command") for name in COMMAND_NAMES]
