"""The `tintype` console script: one subcommand per flow, plus the local tools (gallery, serve, studio).

Each module `<name>_command.py` has `register(subparsers)` and sets `run` on its parser; adding a
subcommand is adding its name to COMMAND_NAMES.

Importing the package sets tintype's Prefect defaults (no analytics, a patient temporary server),
where the user has not set them, before any command module can import Prefect.
"""

from flows.prefect_defaults import apply_prefect_defaults

apply_prefect_defaults()
