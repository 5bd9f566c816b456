"""One retry policy for tasks that touch disk, network or GPU: exponential backoff with jitter."""

from __future__ import annotations

from typing import Any

from prefect.tasks import exponential_backoff


def retrying(retries: int = 3, base_delay_seconds: float = 2.0) -> dict[str, Any]:
    """Keyword arguments for `@task(...)`."""
    return {
        "retries": retries,
        "retry_delay_seconds": exponential_backoff(backoff_factor=base_delay_seconds),
        "retry_jitter_factor": 0.5,
    }
