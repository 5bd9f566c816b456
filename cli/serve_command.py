"""`tintype serve [--port 4200]`: a local Prefect server with the UI, every deployment, and a worker.

The server binds 127.0.0.1 and keeps its SQLite database in $PREFECT_HOME (./.prefect under make).
Ctrl-C stops the worker, then the server.
"""

from __future__ import annotations

import argparse
import signal
import socket
import time
from pathlib import Path

from cli.argument_types import PORT


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="Prefect server + UI on 127.0.0.1, all deployments, a worker (Ctrl-C stops)")
    parser.add_argument("--port", type=PORT, default=4200, help="port on 127.0.0.1 (default 4200; 0 picks a free one)")
    parser.add_argument("--pause-schedules", action="store_true",
                        help="deploy every schedule paused (resume one in the UI, or `prefect deployment schedule resume`)")
    parser.add_argument("--logs", default=None, help="folder for server.log and worker.log (default: $PREFECT_HOME/serve-logs)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from flows import prefect_services as services

    port = args.port or services.free_port()
    with socket.socket() as probe:  # a port in use is refused now (cli/main.py), not after the server's start-up
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    env = services.server_environment(port)
    logs = Path(args.logs or Path(env["PREFECT_HOME"]) / "serve-logs")
    logs.mkdir(parents=True, exist_ok=True)
    for sig in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C or `kill PID` (even where a shell ignored SIGINT)
        signal.signal(sig, _interrupt)
    server = worker = None
    try:
        print(f"starting the Prefect server on 127.0.0.1:{port} (log: {logs / 'server.log'}) ...", flush=True)
        server = services.start_server(port, env, logs / "server.log")
        services.wait_healthy(port, server)
        services.ensure_work_pool_and_limit(env)
        print("deploying everything in prefect.yaml ...", flush=True)
        services.deploy_all(env)
        if args.pause_schedules:
            print(f"schedules paused: {', '.join(services.pause_schedules(env)) or 'none'}", flush=True)
        worker = services.start_worker(env, logs / "worker.log")
        api = env["PREFECT_API_URL"]
        print(f"\nPrefect UI: http://127.0.0.1:{port}\n"
              f"work pool '{services.WORK_POOL}' has a worker (log: {logs / 'worker.log'}); Ctrl-C stops everything.\n"
              f"In another terminal:\n  export PREFECT_API_URL={api}\n"
              f"  .venv/bin/prefect deployment run build-dataset/default\n", flush=True)
        while True:
            if server.poll() is not None:
                print(f"the Prefect server exited ({server.returncode}); see {logs / 'server.log'}", flush=True)
                return 1
            if worker.poll() is not None:  # a crashed worker is restarted; its runs are resumed by a re-run
                print(f"the worker exited ({worker.returncode}); starting a new one", flush=True)
                worker = services.start_worker(env, logs / "worker.log")
            time.sleep(2.0)
    except KeyboardInterrupt:
        print("stopping the worker and the server ...", flush=True)
        return 0
    finally:
        services.stop(worker)
        services.stop(server)
        print("stopped.", flush=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
