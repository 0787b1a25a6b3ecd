"""The collectors migration upgrades and downgrades on its own (fresh database)."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import inspect

from core.db import make_engine
from core.settings import Settings
from migrations import runner as migrate
from tests.support.db import SERVER_URL


@pytest.fixture
def fresh_url():  # noqa: ANN201
    name = f"ecc_col_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{SERVER_URL.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_collector_point_comes_and_goes_with_its_revision(fresh_url: str) -> None:
    engine = make_engine(Settings(database_url=fresh_url), pool_size=1)
    try:
        migrate.upgrade(engine)
        assert "collector_point" in set(inspect(engine).get_table_names())
        migrate.downgrade(engine, "0005_collectors-1")
        tables = set(inspect(engine).get_table_names())
        assert "collector_point" not in tables
        assert {"meter", "reading", "forecast_run"} <= tables  # the rest of the schema stays
        migrate.upgrade(engine)
        assert "collector_point" in set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
