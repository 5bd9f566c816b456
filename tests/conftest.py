"""Shared fixtures: a real Prefect server for the session, and the real photos in ../shared/data."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from flows.prefect_defaults import apply_prefect_defaults

# Prefect settings must be in the environment before prefect is imported anywhere.
_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="tintype-test-prefect-"))
os.environ.setdefault("PREFECT_HOME", str(_PREFECT_HOME))
apply_prefect_defaults()  # as `tintype` does (flows/prefect_defaults.py)
os.environ.setdefault("PREFECT_UI_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

# Fixtures that tests in several folders use (flows, inference, training, studio, scraping).
pytest_plugins = ["tests.model_inputs", "tests.gallery_sites", "tests.object_store"]

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_folder(name: str) -> Path:
    """A folder of ../shared/data, or skip the test with the reason."""
    folder = SHARED_DATA / name
    if not folder.is_dir():
        pytest.skip(f"real photos not available: {folder} is absent (see ../shared/data/README.md)")
    return folder


@pytest.fixture(scope="session")
def prefect_server():
    """One real Prefect server (SQLite, temporary database) for every test that runs a flow."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def caltech_dir() -> Path:
    return shared_folder("caltech101")


@pytest.fixture
def bw_archive_dir() -> Path:
    return shared_folder("bw-archive")


@pytest.fixture
def bsds_dir() -> Path:
    return shared_folder("bsds500")
