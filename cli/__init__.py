"""The `tintype` console script: one subcommand per flow, plus the local tools (gallery, serve, studio).

Each module `<name>_command.py` has `register(subparsers)` and sets `run` on its parser; adding a
subcommand is adding its name to COMMAND_NAMES.
"""
