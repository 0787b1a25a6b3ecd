"""The accounts migration upgrades and downgrades on its own (fresh database)."""

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

TABLES = {"app_user", "user_session", "audit_log"}


@pytest.fixture
def fresh_url():  # noqa: ANN201
    name = f"ecc_acc_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{SERVER_URL.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_accounts_tables_come_and_go_with_their_revision(fresh_url: str) -> None:
    engine = make_engine(Settings(database_url=fresh_url), pool_size=1)
    try:
        migrate.upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        key_columns = {c["name"] for c in inspect(engine).get_columns("api_key")}
        assert {"expires_at", "last_used_at", "site_id", "kind"} <= key_columns
        migrate.downgrade(engine, "0003")
        inspector = inspect(engine)
        assert not TABLES & set(inspector.get_table_names())
        assert "expires_at" not in {c["name"] for c in inspector.get_columns("api_key")}
        with pytest.raises(IntegrityError, match="ck_api_key_role"), engine.begin() as conn:
            conn.execute(  # the old role check is back
                text(
                    "INSERT INTO api_key (name, role, prefix, secret_hash) "
                    "VALUES ('a', 'auditor', 'p', 'h')"
                )
            )
        migrate.upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()
