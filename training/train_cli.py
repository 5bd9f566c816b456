"""Deprecated: `python -m training.train_cli ...` is `python -m cli.train_command ...` (the same
arguments, the training loop without Prefect); this spelling goes in the next release."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from cli.train_command import main

    print("python -m training.train_cli is deprecated and goes in the next release; use python -m cli.train_command",
          file=sys.stderr)
    sys.exit(main(prog="python -m training.train_cli"))
