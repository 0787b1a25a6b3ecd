"""The forecast-tracking migration upgrades and downgrades on its own (fresh database), and
its unique index stores a subject's day once (a site's NULL meter counts as equal)."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from core.db import make_engine
from core.settings import Settings
from migrations import runner as migrate
from tests.support.db import SERVER_URL


@pytest.fixture
def fresh_url():  # noqa: ANN201
    name = f"ecc_fs_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{SERVER_URL.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


ROW = """
INSERT INTO forecast_score (site_id, carrier, quantity, unit, horizon_h, model, day, points,
    abs_error, abs_actual, naive_points, inside_90, mae, coverage_90)
VALUES (:site, 'electricity', 'energy', 'kWh', 24, 'hgb', '2026-03-10', 96,
    96, 960, 0, 90, 1, 0.9375)
"""


def test_forecast_score_comes_and_goes_with_revision_0013(fresh_url: str) -> None:
    engine = make_engine(Settings(database_url=fresh_url), pool_size=1)
    try:
        migrate.upgrade(engine)
        assert "forecast_score" in set(inspect(engine).get_table_names())
        with engine.begin() as conn:
            site = conn.execute(
                text(
                    "INSERT INTO site (code, name, timezone) VALUES ('S', 's', 'Asia/Shanghai') "
                    "RETURNING id"
                )
            ).scalar()
            conn.execute(text(ROW), {"site": site})
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text(ROW), {"site": site})
        migrate.downgrade(engine, "0013_forecast_scores-1")
        tables = set(inspect(engine).get_table_names())
        assert "forecast_score" not in tables and "forecast_run" in tables
        migrate.upgrade(engine)
        assert "forecast_score" in set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
