"""Revision 0005_site_clock on plain PostgreSQL: the fixed-zone day rollup goes, the site-local
``rollup_1d`` view comes, and the downgrade brings the old table back filled in its old zone.

One Seoul site, one delta meter, 1 kWh every hour from 2025-03-10 01:00 to 2025-03-12 00:00
UTC (48 readings). Seoul days start at 15:00 UTC: 15 + 24 + 9 readings. The legacy zone
(Asia/Shanghai, the default when the database was created) starts days at 16:00 UTC:
16 + 24 + 8.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db import make_engine, psycopg_connection
from core.settings import Settings, get_settings
from metering import registry
from metering.rollups import refresh_all
from migrations import runner as migrate
from tests.support.db import SERVER_URL

T0 = datetime(2025, 3, 10, tzinfo=UTC)


@pytest.fixture
def fresh_url():  # noqa: ANN201
    name = f"ecc_clock_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{SERVER_URL.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _days(conn) -> list[tuple[datetime, int]]:  # noqa: ANN001
    rows = conn.execute(text("SELECT bucket, n FROM rollup_1d ORDER BY bucket")).all()
    return [(b - timedelta(microseconds=1), n) for b, n in rows]


def _relkind(conn) -> str:  # noqa: ANN001
    return conn.execute(text("SELECT relkind FROM pg_class WHERE relname = 'rollup_1d'")).scalar()


def test_day_rollup_view_and_back(fresh_url: str) -> None:
    if get_settings().timezone != "Asia/Shanghai":  # revision 0001 reads ECC_TIMEZONE
        pytest.skip("the legacy day zone is worked out by hand for Asia/Shanghai")
    engine = make_engine(Settings(database_url=fresh_url, timezone="Asia/Shanghai"), pool_size=1)
    try:
        migrate.upgrade(engine)
        with engine.begin() as conn:
            with Session(bind=conn) as s:
                registry.create_site(s, registry.SiteIn("MIG-SEL", "Seoul", timezone="Asia/Seoul"))
                m = registry.create_meter(
                    s, registry.MeterIn("MIG-SEL-M", "m", "MIG-SEL", "electricity", "kWh", "delta")
                )
                s.flush()
                mid = m.id
            conn.execute(
                text(
                    "INSERT INTO reading (meter_id, ts, value, energy) "
                    "SELECT :m, :t0 + k * INTERVAL '1 hour', 1, 1 FROM generate_series(1, 48) k"
                ),
                {"m": mid, "t0": T0},
            )
            conn.execute(
                text("INSERT INTO rollup_pending (meter_id, lo, hi) VALUES (:m, :lo, :hi)"),
                {"m": mid, "lo": T0, "hi": T0 + timedelta(days=2)},
            )
        with psycopg_connection(engine) as pc:
            refresh_all(pc)
        seoul = [datetime(2025, 3, d, 15, tzinfo=UTC) for d in (9, 10, 11)]
        with engine.connect() as conn:
            assert _relkind(conn) == "v"
            assert _days(conn) == list(zip(seoul, [15, 24, 9], strict=True))
            meta = dict(conn.execute(text("SELECT key, value FROM ecc_meta")).all())
            assert meta["legacy_day_timezone"] == "Asia/Shanghai" and "day_timezone" not in meta

        migrate.downgrade(engine, "0003")
        shanghai = [datetime(2025, 3, d, 16, tzinfo=UTC) for d in (9, 10, 11)]
        with engine.connect() as conn:
            assert _relkind(conn) == "r"  # the old table, filled in the old zone
            assert _days(conn) == list(zip(shanghai, [16, 24, 8], strict=True))
            meta = dict(conn.execute(text("SELECT key, value FROM ecc_meta")).all())
            assert meta["day_timezone"] == "Asia/Shanghai"
            assert conn.execute(text("SELECT count(*) FROM carbon_site_1d")).scalar() == 0
            assert conn.execute(text("SELECT to_regclass('carbon_15m')")).scalar() is None

        migrate.upgrade(engine)
        with engine.connect() as conn:
            assert _relkind(conn) == "v"
            assert _days(conn) == list(zip(seoul, [15, 24, 9], strict=True))
    finally:
        engine.dispose()
