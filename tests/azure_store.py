"""A real Azure Blob server on 127.0.0.1 for the az:// tests: azurite (Microsoft's storage emulator, an
npm package; `make azurite` installs it into .azurite/), and a fresh container per test, with the
emulator's well-known development account put where adlfs looks for it (AZURE_STORAGE_CONNECTION_STRING)
like any user's credentials: nothing in the stages names it."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[1]
LOCAL_AZURITE = REPO / ".azurite" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's documented development account (public, the same in every install; not a secret).
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
LISTENING = re.compile(r"listens on (http://127\.0\.0\.1:\d+)")


def _azurite_command() -> str:
    found = str(LOCAL_AZURITE) if LOCAL_AZURITE.is_file() else shutil.which("azurite-blob")
    if found is None:
        pytest.skip("azurite is not installed (make azurite, or npm install -g azurite): no Azure Blob server to test against")
    return found


@pytest.fixture(scope="session")
def azurite_endpoint(tmp_path_factory) -> Iterator[str]:
    """The blob service's URL (a free port, a temporary workspace); stopped at the session's end."""
    pytest.importorskip("adlfs", reason="adlfs is not installed (pip install -c constraints.txt -e '.[test,azure]')")
    command = [_azurite_command(), "--blobHost", "127.0.0.1", "--blobPort", "0",
               "--location", str(tmp_path_factory.mktemp("azurite")), "--skipApiVersionCheck", "--loose",
               "--disableTelemetry", "--silent"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, seen = time.monotonic() + 60, []
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                raise RuntimeError(f"azurite exited ({server.wait()}): {''.join(seen)[-2000:]}")
            seen.append(line)
            if match := LISTENING.search(line):
                break
        else:
            raise RuntimeError(f"azurite did not start in 60 s: {''.join(seen)[-2000:]}")
        # Keep reading its output, so that a full pipe never blocks it.
        threading.Thread(target=lambda: [None for _line in server.stdout], daemon=True).start()
        yield match.group(1)
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def az_container(azurite_endpoint, monkeypatch) -> Iterator[str]:
    """`az://<new container>` on the emulator; its connection string in this test's environment."""
    from safe_files import data_root_storage

    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING",
                       f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
                       f"BlobEndpoint={azurite_endpoint}/{DEV_ACCOUNT};")
    data_root_storage._filesystem.cache_clear()  # a filesystem made before this environment would not see it
    name = f"tintype-{uuid.uuid4().hex[:12]}"
    filesystem, _ = data_root_storage.filesystem_of(f"az://{name}")
    filesystem.mkdir(name)
    yield f"az://{name}"
    data_root_storage._filesystem.cache_clear()
