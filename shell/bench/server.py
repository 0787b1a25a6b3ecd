"""What every benchmark needs: a free port and the real API under uvicorn in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from shell.processes import wait_until_answering


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_api(
    url: str, port: int, workers: int, env: dict[str, str] | None = None, timeout_s: float = 30.0
) -> subprocess.Popen:
    """uvicorn with ``workers`` processes on 127.0.0.1:``port`` against ``url``; waits for
    ``/healthz`` and returns the process (the caller terminates it)."""
    environ = {**os.environ, "ECC_DATABASE_URL": url, **(env or {})}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=environ,
    )
    wait_until_answering(proc, f"http://127.0.0.1:{port}/healthz", "the API", timeout_s)
    return proc
