"""``ecc bench cluster``: the nightly forecasts on a local Ray cluster of 1, then 2, … nodes.

A scratch database is created on the PostgreSQL server (``--server``, default the local one),
migrated, and filled through the HTTP app (in process) with ``sites`` sites of ``meters``
hourly meters each, ``days`` days of synthetic shift loads with noise. For each node count a
``ray.cluster_utils.Cluster`` is started on this machine (one CPU per node), the nightly job
runs on it (``forecasting.cluster.nightly``: one task per unit, a site's meters as one group
trained by the global model and each site total alone) and its wall time is taken; the
stored runs are then deleted so the next node count does the same work. The database is
dropped at the end, whatever happens.

Only meaningful on a quiet machine: the second node is a second process on the same host,
so it only helps when a core is idle. One JSON line out:
``{"nodes": {"1": wall_s, "2": wall_s}, "speedup": {"2": w1 / w2}, "units", "subjects",
"runs", …}``.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from rich.console import Console
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from shell.bench.hourly import add_hourly_site, shift_loads

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
CANDIDATES = ("naive_daily", "naive_weekly", "hgb", "lgbm_global")
HOUR = timedelta(hours=1)


def _admin(server: str, sql: str) -> None:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql)


@contextmanager
def scratch_database(server: str) -> Iterator[str]:
    """A fresh, migrated database on ``server``, dropped on exit; yields its URL."""
    from core.db import make_engine
    from core.settings import Settings
    from migrations import runner as migrate

    name = f"ecc_bench_cluster_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _admin(server, f'CREATE DATABASE "{name}"')
    url = f"{server.rsplit('/', 1)[0]}/{name}"
    try:
        engine = make_engine(Settings(database_url=url), pool_size=1)
        migrate.upgrade(engine)
        engine.dispose()
        yield url
    finally:
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed_plant(url: str, *, sites: int, meters: int, days: int, now: datetime) -> list[str]:
    """``sites`` sites of ``meters`` hourly delta meters, ``days`` days of readings up to
    ``now``, posted through the HTTP app; returns the site codes."""
    from fastapi.testclient import TestClient

    from accounts import keys
    from api.app import create_app
    from core.db import make_engine
    from core.settings import Settings

    settings = Settings(database_url=url)
    engine = make_engine(settings, pool_size=1)
    with Session(engine) as session:
        secret = keys.create_key(session, "admin", "bench-cluster")
        session.commit()
    engine.dispose()
    headers = {"Authorization": f"Bearer {secret}"}
    stamps = [now.replace(minute=0, second=0, microsecond=0) - HOUR * k for k in range(days * 24)]
    stamps.reverse()
    local = [t + timedelta(hours=8) for t in stamps]
    hours = np.array([t.hour for t in local])
    weekdays = np.array([t.weekday() for t in local])
    codes = []
    with TestClient(create_app(settings)) as client:
        for s in range(sites):
            site = f"BC-S{s}"
            series = {
                f"{site}-M{m}": shift_loads(
                    hours, weekdays, 1.0 + m, s * 100 + m, day_sd=0.1, hour_sd=0.1
                )
                for m in range(meters)
            }
            add_hourly_site(client, headers, site, series, stamps)
            codes.append(site)
    return codes


@contextmanager
def local_cluster(nodes: int) -> Iterator[str]:
    """A Ray cluster of ``nodes`` one-CPU nodes on this machine, this process its driver;
    the workers import this checkout."""
    import ray
    from ray.cluster_utils import Cluster

    import forecasting

    root = str(Path(forecasting.__file__).resolve().parents[1])
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (root, old) if p)
    cluster = Cluster()
    try:
        cluster.add_node(num_cpus=1, include_dashboard=False)
        for _ in range(nodes - 1):
            cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)
        yield cluster.address
    finally:
        ray.shutdown()
        cluster.shutdown()
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def _runs(engine: Engine) -> int:
    from models.forecasting import ForecastRun

    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(ForecastRun)) or 0)


def _forget_runs(engine: Engine) -> None:
    from models.forecasting import ForecastRun

    with Session(engine) as session:
        session.execute(delete(ForecastRun))
        session.commit()


def run_cluster_bench(
    *,
    nodes: Sequence[int] = (1, 2),
    sites: int = 4,
    meters: int = 4,
    days: int = 56,
    server: str = DEFAULT_SERVER,
    console: Console | None = None,
) -> dict[str, Any]:
    from core.db import make_engine
    from core.settings import Settings
    from forecasting import cluster
    from forecasting.runs import DAY_AHEAD, WEEK_AHEAD, ForecastJobs

    console = console or Console(stderr=True)
    now = datetime(2026, 3, 4, 18, 30, tzinfo=UTC)  # 02:30 in the plant's zone: the night
    began = time.perf_counter()
    with scratch_database(server) as url:
        console.print(f"seeding {sites} sites × {meters} meters × {days} days (hourly) …")
        seed_plant(url, sites=sites, meters=meters, days=days, now=now)
        engine = make_engine(Settings(database_url=url), pool_size=2)
        jobs = ForecastJobs(
            "CN",
            lambda: now,
            folds={DAY_AHEAD: 3, WEEK_AHEAD: 1},
            candidates=CANDIDATES,
            night_candidates=CANDIDATES,
        )
        with Session(engine) as session:
            units = jobs.plan(session, None, now)
        walls: dict[str, float] = {}
        stored: dict[str, int] = {}
        try:
            for n in nodes:
                with local_cluster(n):
                    console.print(f"{n} node(s): the nightly of {len(units)} units …")
                    t0 = time.perf_counter()
                    done = cluster.nightly(jobs, engine, address=None)
                    walls[str(n)] = round(time.perf_counter() - t0, 2)
                stored[str(n)] = _runs(engine)
                if done != sum(len(u.members) for u in units):
                    raise RuntimeError(f"{n} node(s): {done} subjects got runs")
                _forget_runs(engine)
        finally:
            engine.dispose()
    first = walls[str(nodes[0])]
    return {
        "nodes": walls,
        "speedup": {k: round(first / v, 2) for k, v in walls.items() if v > 0},
        "units": len(units),
        "subjects": sum(len(u.members) for u in units),
        "runs": stored,
        "sites": sites,
        "meters_per_site": meters,
        "days": days,
        "candidates": list(CANDIDATES),
        "cpu_count": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "total_s": round(time.perf_counter() - began, 1),
    }
