"""The footprint migration upgrades and downgrades on its own (fresh database)."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import inspect

from core.db import make_engine
from core.settings import Settings
from migrations import runner as migrate
from tests.support.db import SERVER_URL

TABLES = {
    "product",
    "product_bom",
    "product_bom_item",
    "product_meter",
    "supplier",
    "material_factor",
    "supplier_request",
    "footprint_version",
}


@pytest.fixture
def fresh_url():  # noqa: ANN201
    name = f"ecc_fp_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{SERVER_URL.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_footprint_tables_come_and_go_with_their_revision(fresh_url: str) -> None:
    engine = make_engine(Settings(database_url=fresh_url), pool_size=1)
    try:
        migrate.upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        migrate.downgrade(engine, "0010_footprints-1")
        tables = set(inspect(engine).get_table_names())
        assert not TABLES & tables
        assert {"meter", "carbon_production", "carbon_derivation"} <= tables
        migrate.upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()
