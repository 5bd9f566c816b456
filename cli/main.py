"""The `tintype` console script: one subcommand per flow (each runs the same flow as its deployment).

A user error ends a command with one line on stderr, `error: <what is wrong>; <what to do>`, and exit
code 2 (cli/user_errors.py says which errors are the user's); any other exception keeps its traceback.
`--debug` or TINTYPE_DEBUG=1 shows every traceback and Prefect's own console output.
Nothing heavy is imported before a command runs: `tintype --help` loads neither torch nor Prefect.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module
from typing import NoReturn

COMMAND_NAMES = ("build_dataset", "clean", "colorize", "demo", "gallery", "scrape", "serve", "studio", "train")
USER_ERROR_EXIT = 2  # as argparse's


class _OneLineParser(argparse.ArgumentParser):
    """A bad command line is a user error like any other: one line, exit 2 (not usage + error)."""

    def error(self, message: str) -> NoReturn:
        advice = "" if ";" in message else f"; see {self.prog} --help"  # a range check says what to give
        self.exit(USER_ERROR_EXIT, f"error: {message}{advice}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="tintype", description="Colorize black-and-white photo archives.")
    parser.add_argument("--debug", action="store_true",
                        help="show tracebacks and Prefect's own console output (also: TINTYPE_DEBUG=1)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_NAMES:
        import_module(f"cli.{name}_command").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    from cli.stage_console import install_stage_console
    from cli.user_errors import is_user_error, refusal_line

    args = build_parser().parse_args(argv)
    debug = args.debug or os.environ.get("TINTYPE_DEBUG", "") not in ("", "0", "false")
    if not debug and argv is None:  # the program (console script, python -m cli); an in-process caller keeps its logging
        install_stage_console()
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if debug or not is_user_error(error):
            raise
        print(refusal_line(error, args), file=sys.stderr)
        return USER_ERROR_EXIT


if __name__ == "__main__":
    sys.exit(main())
