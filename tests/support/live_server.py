"""Run the real API in a uvicorn subprocess for end-to-end concurrency and crash tests.

Usage (see tests/test_concurrency.py and tests/test_durability.py)::

    @pytest.fixture
    def server(db_url, tmp_path):
        with LiveServer(db_url, tmp_path) as srv:   # started, /healthz answered
            yield srv                               # srv.url, srv.pid
                                                    # stopped gracefully on exit

    srv.kill()   # SIGKILL: no shutdown hooks, no flush, nothing; then waits until PostgreSQL
                 # has ended the dead process's sessions (tagged with PGAPPNAME)
    srv.stop()   # SIGTERM: uvicorn's graceful shutdown (SIGKILL if it does not end in time)

The subprocess imports the app from the same source tree as these tests (``--app-dir``), runs
in its own working directory (no stray ``.env``) and gets every ``ECC_*`` variable from here
only, so a developer's environment cannot change its limits.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from accounts import keys
from tests.support.paths import REPO_ROOT

API = "/api/v1"
US = timedelta(microseconds=1)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """One uvicorn process serving ``api.app:create_app`` on a free 127.0.0.1 port."""

    def __init__(
        self,
        db_url: str,
        workdir: Path,
        *,
        env: dict[str, str] | None = None,
        startup_timeout_s: float = 30.0,
        port: int | None = None,
    ) -> None:
        self.db_url = db_url
        self.workdir = Path(workdir) / f"server-{uuid.uuid4().hex[:6]}"
        self.workdir.mkdir(parents=True)
        self.extra_env = dict(env or {})
        self.startup_timeout_s = startup_timeout_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self.fixed_port = port  # a restart on the same address (clients keep their URL)
        self.log_path = self.workdir / "uvicorn.log"
        self.forced_kill = False  # stop() had to escalate to SIGKILL
        # Tags the server's database sessions (libpq reads PGAPPNAME) so a crash test can wait
        # for PostgreSQL to finish or abort what the dead process had already sent.
        self.app_name = f"ecc-live-{uuid.uuid4().hex[:10]}"

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self.port is not None, "server not started"
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None, "server not started"
        return self.proc.pid

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ECC_")}
        env.update(
            {
                "ECC_DATABASE_URL": self.db_url,
                "ECC_DATA_DIR": str(self.workdir / "data"),
                "ECC_LOG_LEVEL": "warning",
                "PYTHONUNBUFFERED": "1",
                "PGAPPNAME": self.app_name,
            }
        )
        env.update(self.extra_env)
        return env

    def start(self) -> LiveServer:
        last_error = "not started"
        for _ in range(3):  # a free port can be taken between probing and binding: retry
            self.port = self.fixed_port or free_port()
            log = self.log_path.open("ab")
            try:
                self.proc = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "api.app:create_app",
                        "--factory",
                        "--app-dir",
                        str(REPO_ROOT),
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(self.port),
                        "--log-level",
                        "warning",
                        "--no-access-log",
                        "--no-server-header",  # as `ecc serve`
                        "--timeout-graceful-shutdown",
                        "5",
                    ],
                    cwd=self.workdir,
                    env=self._env(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            finally:
                log.close()
            ok, last_error = self._wait_healthy()
            if ok:
                return self
            self.kill()
        raise RuntimeError(f"live server did not become healthy: {last_error}\n{self.log()}")

    def _wait_healthy(self) -> tuple[bool, str]:
        assert self.proc is not None
        deadline = time.monotonic() + self.startup_timeout_s
        error = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False, f"exited with {self.proc.returncode}"
            try:
                r = httpx.get(f"{self.url}/healthz", timeout=2.0)
                if r.status_code == 200 and r.json().get("status") == "ok":
                    return True, ""
                error = f"/healthz answered {r.status_code}: {r.text[:200]}"
            except httpx.HTTPError as exc:
                error = repr(exc)
            time.sleep(0.05)
        return False, f"timeout after {self.startup_timeout_s} s ({error})"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, db_timeout_s: float = 30.0) -> int | None:
        """SIGKILL the server (a crash: no graceful shutdown), reap it, and wait until its
        database sessions are gone.

        A commit the process sent just before it died can still complete on the server after
        the process is gone; only once its sessions have ended is what the database holds
        final, so checks after a crash compare one settled state.
        """
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        code = self.proc.wait(timeout=10)
        self.wait_sessions_gone(db_timeout_s)
        return code

    def db_sessions(self) -> int:
        url = self.db_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as conn:
            return conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                (self.app_name,),
            ).fetchone()[0]

    def wait_sessions_gone(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while (left := self.db_sessions()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert left == 0, f"{left} sessions of the dead server still open after {timeout_s} s"

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """Graceful stop (SIGTERM → uvicorn drains and runs the lifespan exit).

        uvicorn ≥ 0.29 re-raises the signal once it has shut down, so a clean exit is
        ``0`` or ``-SIGTERM``; ``forced_kill`` tells whether it had to be SIGKILLed.
        """
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.forced_kill = True
                return self.kill()
        return self.proc.returncode

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- client helpers --------------------------------------------------------------------

    def client(self, secret: str, timeout_s: float = 60.0) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, timeout=timeout_s, headers={"Authorization": f"Bearer {secret}"}
        )


def new_key(engine: Any, role: str) -> tuple[str, str]:
    """A fresh API key: ``(name, secret)``; the name identifies its rows in ``ingest_log``."""
    name = f"{role}-{uuid.uuid4().hex[:10]}"
    with Session(engine) as s:
        secret = keys.create_key(s, role, name)
        s.commit()
    return name, secret


def create_meters(client: httpx.Client, site: str, meters: dict[str, str]) -> None:
    """Create ``site`` and the meters ``{code: kind}`` (kWh, electricity) through the API."""
    r = client.post(f"{API}/sites", json={"code": site, "name": site})
    assert r.status_code == 201, r.text
    for code, kind in meters.items():
        r = client.post(
            f"{API}/meters",
            json={
                "code": code,
                "name": code,
                "site": site,
                "carrier": "electricity",
                "unit": "kWh",
                "kind": kind,
                "interval_s": 60,
            },
        )
        assert r.status_code == 201, r.text


def post_readings(client: httpx.Client, readings: list[dict]) -> httpx.Response:
    return client.post(f"{API}/readings", json={"readings": readings})


def series(
    client: httpx.Client, code: str, start: str, end: str, resolution: str = "raw"
) -> list[dict]:
    r = client.get(
        f"{API}/meters/{code}/series", params={"start": start, "end": end, "resolution": resolution}
    )
    assert r.status_code == 200, r.text
    return r.json()["points"]


# -- expectations and checks -----------------------------------------------------------------


def iso(ts: datetime) -> str:
    return ts.isoformat()


def hour_bucket(ts: datetime) -> datetime:
    """Start label of the end-closed bucket (start, start + 1 h] that holds ``ts``."""
    t = ts - US
    return t.replace(minute=0, second=0, microsecond=0)


def expected_hourly(points: list[tuple[datetime, float]]) -> dict[datetime, float]:
    out: dict[datetime, float] = defaultdict(float)
    for ts, energy in points:
        out[hour_bucket(ts)] += energy
    return dict(out)


def api_hourly(
    client: httpx.Client, code: str, start: datetime, end: datetime
) -> tuple[dict[datetime, float], int]:
    pts = series(client, code, iso(start), iso(end), "1h")
    return ({datetime.fromisoformat(p["ts"]): p["value"] for p in pts}, sum(p["n"] for p in pts))


def stored(engine, codes: list[str]) -> set[tuple[str, datetime, float]]:  # noqa: ANN001
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT m.code, r.ts, r.value FROM reading r JOIN meter m ON m.id = r.meter_id "
                "WHERE m.code = ANY(:c)"
            ),
            {"c": codes},
        ).all()
    return {(c, ts, v) for c, ts, v in rows}


def pending_rollups(engine, codes: list[str]) -> int:  # noqa: ANN001
    """Queued rollup work of these meters (0 where rollups are written with the readings)."""
    with engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('rollup_pending')")).scalar() is None:
            return 0
        return conn.execute(
            text(
                "SELECT count(*) FROM rollup_pending p JOIN meter m ON m.id = p.meter_id "
                "WHERE m.code = ANY(:c)"
            ),
            {"c": codes},
        ).scalar()


def rollups_match_readings(engine, codes: list[str], wait_s: float = 20.0) -> None:  # noqa: ANN001
    """Every rollup level holds exactly the count and energy of the stored readings.

    Rollups may be folded in after the commit (a queue drained by the API's background
    worker): wait for the queue of these meters to drain first, which needs a live server.
    """
    deadline = time.monotonic() + wait_s
    while (left := pending_rollups(engine, codes)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left == 0, f"{left} rollup ranges still queued after {wait_s} s"
    with engine.connect() as conn:
        raw = dict(
            (c, (n, e))
            for c, n, e in conn.execute(
                text(
                    "SELECT m.code, count(*), coalesce(sum(r.energy), 0) FROM reading r "
                    "JOIN meter m ON m.id = r.meter_id WHERE m.code = ANY(:c) GROUP BY m.code"
                ),
                {"c": codes},
            ).all()
        )
        for level in ("1m", "15m", "1h", "1d"):
            agg = dict(
                (c, (n, e))
                for c, n, e in conn.execute(
                    text(
                        f"SELECT m.code, sum(r.n), coalesce(sum(r.energy), 0) "
                        f"FROM rollup_{level} r "
                        f"JOIN meter m ON m.id = r.meter_id WHERE m.code = ANY(:c) GROUP BY m.code"
                    ),
                    {"c": codes},
                ).all()
            )
            assert agg == raw, f"rollup_{level} disagrees with reading: {agg} != {raw}"
