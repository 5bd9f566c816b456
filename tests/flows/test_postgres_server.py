"""The Prefect server on PostgreSQL: a throwaway cluster on 127.0.0.1, a server on it, a real flow run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from flows import prefect_services as services
from tests.preprocessing.shards.shard_inputs import link_real_photos

PG_BIN = next((str(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None) \
    if Path("/usr/lib/postgresql").is_dir() else None
if PG_BIN is None and shutil.which("initdb"):
    PG_BIN = str(Path(shutil.which("initdb")).resolve().parent)

pytestmark = pytest.mark.skipif(PG_BIN is None, reason="PostgreSQL server binaries (initdb, pg_ctl) are absent: apt-get install -y postgresql")


def _as_postgres_user() -> list[str]:
    """initdb refuses to run as root: run the cluster as the `postgres` account when we are root."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as an unprivileged user")
    return ["runuser", "-u", "postgres", "--"]


@pytest.fixture
def postgres_url():
    folder = Path(tempfile.mkdtemp(prefix="tintype-pg-", dir="/tmp"))
    prefix = _as_postgres_user()
    if prefix:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", services.free_port()
    subprocess.run(prefix + [f"{PG_BIN}/initdb", "-D", str(data), "-U", "tintype", "--auth=trust"], check=True,
                   capture_output=True)
    options = f"-h 127.0.0.1 -p {port} -k {folder}"
    subprocess.run(prefix + [f"{PG_BIN}/pg_ctl", "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+asyncpg://tintype@127.0.0.1:{port}/postgres", port
    finally:
        subprocess.run(prefix + [f"{PG_BIN}/pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_flow_runs_against_a_server_on_postgres(postgres_url, tmp_path, caltech_dir):
    url, pg_port = postgres_url
    port = services.free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env = services.server_environment(port, ui=False, base={**base, "PREFECT_HOME": str(tmp_path / "home")})
    env["PREFECT_API_DATABASE_CONNECTION_URL"] = url
    server = services.start_server(port, env, tmp_path / "server.log")
    try:
        services.wait_healthy(port, server)
        images = tmp_path / "images"
        link_real_photos(caltech_dir, images, 6)
        done = subprocess.run([sys.executable, "-m", "cli", "clean", "--images", str(images), "--out",
                               str(tmp_path / "data")], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    finally:
        services.stop(server)
    rows = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(pg_port), "-U", "tintype", "-d", "postgres", "-At", "-c",
                           "select f.name, r.state_type from flow_run r join flow f on f.id = r.flow_id"],
                          capture_output=True, text=True, check=True).stdout.split()
    assert "clean|COMPLETED" in rows, rows
