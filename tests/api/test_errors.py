"""The error mapping on its own: every failure gets the published shape; the database away is
503 with Retry-After; an unexpected error is 500 and closes the connection."""

from __future__ import annotations

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from api import errors
from tests.support.live_server import free_port


@pytest.fixture(scope="module")
def app_client() -> TestClient:
    app = FastAPI()
    errors.install(app)
    dead = create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x",
        connect_args={"connect_timeout": 2},
    )

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("bug")

    @app.get("/db-down")
    def db_down() -> None:
        with dead.connect() as conn:
            conn.execute(text("SELECT 1"))

    @app.get("/db-value")
    def db_value() -> None:
        raise psycopg.errors.NumericValueOutOfRange("integer out of range")

    return TestClient(app, raise_server_exceptions=False)


def test_unexpected_error_is_500_and_closes_the_connection(app_client: TestClient) -> None:
    r = app_client.get("/boom")
    assert r.status_code == 500 and r.headers["connection"] == "close"
    assert "bug" not in r.text


def test_unreachable_database_is_503_with_retry_after(app_client: TestClient) -> None:
    r = app_client.get("/db-down")
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == str(errors.RETRY_AFTER_DB_S)
    assert r.headers["connection"] == "close"
    assert r.json()["detail"][0] == {
        "loc": ["database"],
        "msg": "database unavailable",
        "type": "unavailable",
    }


def test_value_the_database_refuses_is_422(app_client: TestClient) -> None:
    r = app_client.get("/db-value")
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "value_error"


def test_unavailable_is_only_connection_trouble() -> None:
    assert errors.database_unavailable(OperationalError("x", {}, psycopg.OperationalError("x")))
    assert not errors.database_unavailable(psycopg.errors.UniqueViolation("dup"))
    assert not errors.database_unavailable(ValueError("x"))
