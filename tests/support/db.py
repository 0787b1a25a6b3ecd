"""The test database server and API keys for tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from accounts import keys
from core.db import make_engine
from core.settings import Settings
from migrations import runner as migrate

SERVER_URL = os.environ.get("ECC_TEST_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin(sql: str) -> None:
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(sql)


def make_key(engine, role: str) -> str:  # noqa: ANN001
    with Session(engine) as s:
        secret = keys.create_key(s, role, f"{role}-{uuid.uuid4().hex[:8]}")
        s.commit()
    return secret


@contextmanager
def fresh_database(prefix: str = "ecc_test", pool_size: int = 1) -> Iterator[tuple[str, Engine]]:
    """A new database on the test server, migrated to head: its URL and an engine on it.

    For a module whose pages list every row (alarms, sites...) and so must not see the rows
    other modules leave in the session database. Dropped (its connections ended) on exit."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        _admin(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:  # the suite needs the real server
        pytest.fail(f"PostgreSQL at {SERVER_URL} is not reachable: {exc}")
    url = f"{SERVER_URL.rsplit('/', 1)[0]}/{name}"
    engine = make_engine(Settings(database_url=url), pool_size=pool_size)
    try:
        migrate.upgrade(engine)
        yield url, engine
    finally:
        engine.dispose()
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
