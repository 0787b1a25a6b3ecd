"""The two database paths every both-paths test compares: a WASM TimescaleDB (PGlite) and a
fresh database on the PostgreSQL server, one of each per test module."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from core.db import make_engine
from core.settings import Settings
from tests.support.db import SERVER_URL
from tests.support.pglite.harness import start_pglite_or_skip
from tests.system.test_both_paths import Side


@pytest.fixture(scope="module")
def pglite_side(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Side]:
    srv = start_pglite_or_skip(tmp_path_factory.mktemp("both_paths") / "pgdata")
    engine = create_engine(
        srv.url.replace("postgresql://", "postgresql+psycopg://", 1),
        poolclass=NullPool,  # one connection at a time: never keep one parked in a pool
        connect_args={"prepare_threshold": None},
    )
    try:
        yield Side("timescaledb", engine, srv.url, True, {"prepare_threshold": None}, server=srv)
    finally:
        engine.dispose()
        srv.stop()


@pytest.fixture(scope="module")
def server_side() -> Iterator[Side]:
    name = f"ecc_both_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        with psycopg.connect(SERVER_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {SERVER_URL} is not reachable: {exc}")
    url = f"{SERVER_URL.rsplit('/', 1)[0]}/{name}"
    engine = make_engine(Settings(database_url=url), pool_size=2)
    try:
        yield Side("postgresql", engine, url, False)
    finally:
        engine.dispose()
        with psycopg.connect(SERVER_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
