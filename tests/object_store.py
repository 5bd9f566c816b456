"""A real S3-compatible server on 127.0.0.1 for the tests (moto's standalone server, as s3fs's own tests
use), and a fresh bucket per test with the endpoint and throwaway credentials in the environment,
where the stages' storage (safe_files/data_root_storage.py) finds them like any user's."""

from __future__ import annotations

import uuid
from typing import Iterator

import pytest

TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "tintype-test", "AWS_SECRET_ACCESS_KEY": "tintype-test-secret",
                    "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The server's URL; stopped at the session's end."""
    moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed (pip install -c constraints.txt -e '.[test]')")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint, monkeypatch) -> str:
    """`s3://<new bucket>` on the test server; endpoint and credentials set in this test's environment
    (child processes inherit them)."""
    import boto3

    from safe_files import data_root_storage

    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    for name, value in TEST_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    data_root_storage._filesystem.cache_clear()  # a filesystem made before this environment would not see it
    name = f"tintype-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    yield f"s3://{name}"
    data_root_storage._filesystem.cache_clear()
