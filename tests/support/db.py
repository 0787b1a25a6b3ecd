"""The test database server and API keys for tests."""

from __future__ import annotations

import os
import uuid

import psycopg
from sqlalchemy.orm import Session

from accounts import keys

SERVER_URL = os.environ.get("ECC_TEST_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin(sql: str) -> None:
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(sql)


def make_key(engine, role: str) -> str:  # noqa: ANN001
    with Session(engine) as s:
        secret = keys.create_key(s, role, f"{role}-{uuid.uuid4().hex[:8]}")
        s.commit()
    return secret
