"""A database outage mid-ingest: our own PostgreSQL cluster (never the machine's) is stopped for
5 s while gateways send batches. Every answer is 2xx or 503 with ``Retry-After`` within a
bounded time, ``/healthz`` says the database is down, error answers close the connection, and
afterwards every 2xx batch is stored exactly once (the 503 ones, resent, too)."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest

from core.db import make_engine
from core.settings import Settings
from migrations import runner as migrate
from tests.support.live_server import LiveServer, new_key
from tests.support.pg_cluster import PgCluster

BATCH = 200
T0 = datetime(2026, 1, 1, tzinfo=UTC)
OUTAGE_S = 5.0
BOUND_S = 10.0  # connect timeout 3 s + pool wait + margin


@pytest.fixture
def cluster() -> PgCluster:
    with PgCluster() as pg:
        yield pg


def _batch(meter: str, n: int) -> dict:
    ts = [(T0 + timedelta(minutes=n * BATCH + i)).isoformat() for i in range(BATCH)]
    return {"series": [{"meter": meter, "ts": ts, "value": [1.0] * BATCH}]}


def test_postgres_stopped_5_s_mid_ingest(cluster: PgCluster, tmp_path: Path) -> None:
    url = cluster.url
    engine = make_engine(Settings(database_url=url), pool_size=1)
    migrate.upgrade(engine)
    _, secret = new_key(engine, "admin")
    engine.dispose()
    env = {"ECC_ALARM_ENGINE": "false", "ECC_DB_CONNECT_TIMEOUT_S": "3"}
    with LiveServer(url, tmp_path, env=env) as srv, srv.client(secret, timeout_s=30) as c:
        assert c.post("/api/v1/sites", json={"code": "OUT", "name": "outage"}).status_code == 201
        meter = {"code": "OUT-M", "name": "m", "site": "OUT", "carrier": "electricity"}
        meter |= {"unit": "kWh", "kind": "delta", "interval_s": 60}
        assert c.post("/api/v1/meters", json=meter).status_code == 201

        answers: list[tuple[int, int, float, dict]] = []  # (batch, status, seconds, headers)
        stop = threading.Event()

        def gateway(first: int) -> None:
            n = first
            with srv.client(secret, timeout_s=30) as g:
                while not stop.is_set():
                    t = time.monotonic()
                    r = g.post("/api/v1/readings", json=_batch("OUT-M", n))
                    answers.append((n, r.status_code, time.monotonic() - t, dict(r.headers)))
                    n += 2
                    time.sleep(0.02)

        threads = [threading.Thread(target=gateway, args=(k,)) for k in (0, 1)]
        for th in threads:
            th.start()
        time.sleep(1.0)
        cluster.stop("fast")
        down_at = time.monotonic()
        time.sleep(1.0)
        t = time.monotonic()
        health = c.get("/healthz")
        health_s = time.monotonic() - t
        while time.monotonic() - down_at < OUTAGE_S:
            time.sleep(0.05)
        cluster.start()
        time.sleep(3.0)
        stop.set()
        for th in threads:
            th.join(60)

        assert health.status_code == 503 and health.json()["database"] == "down", health.text
        assert health.headers["retry-after"] and health_s < BOUND_S
        statuses = {s for _, s, _, _ in answers}
        assert statuses <= {200, 503}, statuses
        assert 503 in statuses and 200 in statuses
        failed = [(n, h) for n, s, _, h in answers if s == 503]
        assert all(h.get("retry-after") and h.get("connection") == "close" for _, h in failed)
        assert max(sec for _, _, sec, _ in answers) < BOUND_S
        ok = {n for n, s, _, _ in answers if s == 200}
        for n, _ in failed:  # a gateway resends what got 503
            r = c.post("/api/v1/readings", json=_batch("OUT-M", n))
            assert r.status_code == 200, r.text
            assert r.json()["accepted"] + r.json()["duplicates"] == BATCH
        assert c.get("/healthz").json()["database"] == "up"
        print(
            f"\noutage: {len(answers)} answers, {len(ok)} × 200, {len(failed)} × 503, "
            f"slowest {max(sec for _, _, sec, _ in answers):.2f} s, healthz {health_s:.2f} s"
        )

    sent = ok | {n for n, _ in failed}
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT count(*), count(DISTINCT ts), min(ts), max(ts) FROM reading"
        ).fetchone()
    assert rows[0] == rows[1] == BATCH * len(sent)


def test_slow_body_gets_408_and_a_closed_connection(db_url: str, engine, tmp_path: Path) -> None:  # noqa: ANN001
    env = {"ECC_BODY_READ_TIMEOUT_S": "1", "ECC_ALARM_ENGINE": "false"}
    _, secret = new_key(engine, "ingest")
    with LiveServer(db_url, tmp_path, env=env) as srv:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
            s.sendall(
                b"POST /api/v1/readings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                + secret.encode()
                + b'\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"readings"'
            )
            t = time.monotonic()
            data = b""
            while chunk := s.recv(4096):
                data += chunk
            took = time.monotonic() - t
        head = data.split(b"\r\n\r\n")[0].lower()
        assert head.startswith(b"http/1.1 408"), data
        assert b"connection: close" in head
        assert took < 3  # answered after the 1-s timeout, and the server closed the socket
        r = httpx.get(f"{srv.url}/healthz")
        assert r.status_code == 200
