"""``ecc bench ingest``: the physical limit (binary COPY) against the HTTP ingest path.

Both measurements write the same kind of readings into the same ``reading`` table of the same
database: a bench site with 100 meters (a third each counter, delta and gauge), 1-minute data,
each batch 100 meters × (batch / 100) minutes. COPY data and HTTP bodies are encoded before the
clock starts, so both numbers measure the server side. The API runs without its rollup worker
while it is timed; the queued rollup work is then folded and timed on its own
(``rollup_refresh_rows_per_s``), as TimescaleDB's continuous-aggregate refresh is a separate
background job. The bench data is deleted afterwards.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import orjson
import psycopg
from rich.console import Console
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from accounts import keys
from core.db import libpq_url
from core.errors import NotFound
from core.settings import Settings
from metering import registry
from metering.rollups import refresh_all
from shell.bench.server import free_port, start_api
from shell.runtime import open_database

SITE = "BENCH-INGEST"
N_METERS = 100
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
COPY_SQL = "COPY reading (meter_id, ts, value, energy) FROM STDIN (FORMAT BINARY)"


def _meters(engine: Engine) -> dict[str, int]:
    kinds = ["counter", "delta", "gauge"]
    with Session(engine) as session:
        try:
            registry.get_site(session, SITE)
        except NotFound:
            registry.create_site(session, registry.SiteIn(code=SITE, name="ingest benchmark"))
        existing = registry.meter_infos(session, [f"{SITE}-{i:03d}" for i in range(N_METERS)])
        for i in range(N_METERS):
            code = f"{SITE}-{i:03d}"
            if code not in existing:
                kind = kinds[i % 3]
                registry.create_meter(
                    session,
                    registry.MeterIn(
                        code=code,
                        name=code,
                        site=SITE,
                        carrier="electricity",
                        unit="kW" if kind == "gauge" else "kWh",
                        kind=kind,
                        interval_s=60,
                    ),
                )
        session.commit()
        return {
            code: info.id
            for code, info in registry.meter_infos(
                session, [f"{SITE}-{i:03d}" for i in range(N_METERS)]
            ).items()
        }


def _series(n_minutes: int, start: datetime, meter_index: int) -> tuple[np.ndarray, np.ndarray]:
    t0 = int(start.timestamp())
    ts = t0 + 60 * np.arange(n_minutes, dtype=np.int64)
    rng = np.random.default_rng(meter_index)
    step = rng.uniform(0.5, 2.0, n_minutes)
    values = np.cumsum(step) + 1000.0 if meter_index % 3 == 0 else step * 60
    return ts, values


def _copy_payload(ids: list[int], n_minutes: int, start: datetime) -> bytes:
    rec = np.dtype(
        [
            ("nf", ">i2"),
            ("l1", ">i4"),
            ("m", ">i4"),
            ("l2", ">i4"),
            ("ts", ">i8"),
            ("l3", ">i4"),
            ("v", ">f8"),
            ("l4", ">i4"),
        ]
    )
    parts = [b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8]
    for i, mid in enumerate(ids):
        ts, values = _series(n_minutes, start, i)
        arr = np.empty(n_minutes, dtype=rec)
        arr["nf"], arr["l1"], arr["m"], arr["l2"] = 4, 4, mid, 8
        arr["ts"] = (ts - int(PG_EPOCH.timestamp())) * 1_000_000
        arr["l3"], arr["v"], arr["l4"] = 8, values, -1
        parts.append(arr.tobytes())
    parts.append(b"\xff\xff")
    return b"".join(parts)


def _bodies(
    codes: list[str], n_minutes: int, start: datetime, batch: int, clients: int
) -> list[list[bytes]]:
    """Per client, its requests in time order: client k owns every k-th meter (a gateway)."""
    series = [_series(n_minutes, start, i) for i in range(len(codes))]
    iso = [datetime.fromtimestamp(int(t), UTC).isoformat() for t in series[0][0]]
    out = []
    for k in range(clients):
        mine = list(range(k, len(codes), clients))
        per = max(1, batch // len(mine))
        bodies = []
        for lo in range(0, n_minutes, per):
            hi = min(lo + per, n_minutes)
            doc = {
                "series": [
                    {"meter": codes[i], "ts": iso[lo:hi], "value": series[i][1][lo:hi].tolist()}
                    for i in mine
                ]
            }
            bodies.append(orjson.dumps(doc))
        out.append(bodies)
    return out


def _cleanup(engine: Engine, ids: list[int]) -> None:
    with engine.begin() as conn:
        path = conn.execute(text("SELECT value FROM ecc_meta WHERE key='timeseries_path'")).scalar()
        conn.execute(text("DELETE FROM reading WHERE meter_id = ANY(:m)"), {"m": ids})
        if path == "postgresql":
            conn.execute(text("DELETE FROM rollup_pending WHERE meter_id = ANY(:m)"), {"m": ids})
            for level in ("15m", "1h"):
                conn.execute(
                    text(f"DELETE FROM rollup_{level} WHERE meter_id = ANY(:m)"), {"m": ids}
                )


def run_ingest_bench(
    settings: Settings, *, rows: int, clients: int, batch: int, workers: int, console: Console
) -> dict:
    url, engine = open_database(settings, upgrade=True)
    ids_by_code = _meters(engine)
    codes, ids = list(ids_by_code), list(ids_by_code.values())
    _cleanup(engine, ids)
    n_minutes = max(rows // N_METERS, 1)
    n_rows = n_minutes * N_METERS
    copy_start = datetime(2020, 1, 1, tzinfo=UTC)
    api_start = copy_start + timedelta(days=400)

    console.print(f"preparing {n_rows:,} readings for each path …")
    chunk = -(-n_minutes // clients)
    payloads = [
        _copy_payload(
            ids, min(chunk, n_minutes - k * chunk), copy_start + timedelta(minutes=k * chunk)
        )
        for k in range(clients)
        if n_minutes - k * chunk > 0
    ]
    per_client = _bodies(codes, n_minutes, api_start, batch, clients)

    def copy_one(payload: bytes) -> None:
        with psycopg.connect(libpq_url(url)) as conn, conn.cursor().copy(COPY_SQL) as cp:
            cp.write(payload)

    console.print(f"binary COPY with {len(payloads)} connections …")
    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(payloads)) as pool:
        list(pool.map(copy_one, payloads))
    copy_s = time.perf_counter() - t0
    _cleanup(engine, ids)

    with Session(engine) as session:
        key = keys.create_key(session, "ingest", f"bench-{int(time.time() * 1000)}")
        session.commit()
    port = free_port()
    n_requests = sum(len(b) for b in per_client)
    console.print(
        f"HTTP ingest: {n_requests} requests of ~{batch:,} readings, {clients} clients, "
        f"{workers} API workers …"
    )
    proc = start_api(
        url,
        port,
        workers,
        {"ECC_WRITE_WAIT_S": "60", "ECC_MAX_INFLIGHT_WRITES": "4", "ECC_ROLLUP_WORKER": "false"},
    )
    accepted = 0
    lock = threading.Lock()
    try:

        def client_loop(bodies: list[bytes]) -> None:
            nonlocal accepted
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                timeout=300,
                headers={"Authorization": f"Bearer {key}", "content-type": "application/json"},
            ) as c:
                for body in bodies:
                    r = c.post("/api/v1/readings", content=body)
                    r.raise_for_status()
                    with lock:
                        accepted += r.json()["accepted"]

        t0 = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            for f in [pool.submit(client_loop, bodies) for bodies in per_client]:
                f.result()
        api_s = time.perf_counter() - t0
        proc.terminate()
        proc.wait(timeout=30)
        console.print("folding the queued rollup work …")
        t0 = time.perf_counter()
        with psycopg.connect(libpq_url(url)) as conn:
            refresh_all(conn)
        refresh_s = time.perf_counter() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
        _cleanup(engine, ids)
    if accepted != n_rows:
        raise RuntimeError(f"API accepted {accepted} of {n_rows} readings")
    with engine.connect() as conn:
        path = conn.execute(text("SELECT value FROM ecc_meta WHERE key='timeseries_path'")).scalar()
    copy_rate, api_rate, refresh_rate = n_rows / copy_s, n_rows / api_s, n_rows / refresh_s
    return {
        "copy_rows_per_s": round(copy_rate),
        "api_rows_per_s": round(api_rate),
        "ratio": round(api_rate / copy_rate, 3),
        "rollup_refresh_rows_per_s": round(refresh_rate),
        "api_plus_rollups_rows_per_s": round(n_rows / (api_s + refresh_s)),
        "rows": n_rows,
        "batch": batch,
        "clients": clients,
        "api_workers": workers,
        "path": path,
        "meters": "100 (34 counter, 33 delta, 33 gauge)",
    }
