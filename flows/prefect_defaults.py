"""The Prefect settings every tintype process starts with, unless the user has set them.

Declared here once: `tintype` applies them before it imports Prefect (cli/__init__.py), the served
server and worker get them (flows/prefect_services.py), and so do the tests (tests/conftest.py), so a
command behaves the same with or without make. PREFECT_HOME stays the user's choice (the Makefile
keeps it in ./.prefect). Importing this module does not import Prefect.
"""

from __future__ import annotations

import os
from typing import MutableMapping

PREFECT_DEFAULTS = {
    # Offline, the server's telemetry service only logs "Failed to send telemetry"; we phone nobody.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # The temporary server takes more than Prefect's 20 s default on a small, busy machine.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


def apply_prefect_defaults(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set each default in `environ` where the user has not set it (must run before Prefect is imported)."""
    for name, value in PREFECT_DEFAULTS.items():
        environ.setdefault(name, value)
