"""Shared fixtures: a fresh database on the real PostgreSQL server per test session."""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from core.db import make_engine
from core.settings import Settings
from migrations import runner as migrate
from tests.support.db import SERVER_URL, _admin, make_key  # noqa: F401  (re-exported)
from tests.support.paths import SHARED_DATA  # noqa: F401


@pytest.fixture(scope="session")
def db_url() -> Iterator[str]:
    name = f"ecc_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        _admin(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:  # the suite needs the real server
        pytest.fail(f"PostgreSQL at {SERVER_URL} is not reachable: {exc}")
    base = SERVER_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    engine = make_engine(Settings(database_url=url), pool_size=1)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def settings(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # one TestClient address for the whole session: the failed-auth limit is tested on its own
    return Settings(
        database_url=db_url, data_dir=tmp_path_factory.mktemp("ecc"), auth_fail_limit=1_000_000
    )


@pytest.fixture(scope="session")
def engine(settings: Settings):  # noqa: ANN201
    eng = make_engine(settings)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine) -> Iterator[Session]:  # noqa: ANN001
    with Session(engine) as s:
        yield s


@pytest.fixture(scope="session")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="session")
def admin_headers(engine) -> dict[str, str]:  # noqa: ANN001
    return {"Authorization": f"Bearer {make_key(engine, 'admin')}"}


@pytest.fixture
def uid() -> str:
    """A short unique suffix so tests sharing the session database never collide."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
def plant(client: TestClient, admin_headers: dict[str, str], uid: str) -> dict[str, str]:
    """A site with one meter of each kind; returns their codes."""
    site = f"S-{uid}"
    r = client.post("/api/v1/sites", json={"code": site, "name": "Plant"}, headers=admin_headers)
    assert r.status_code == 201, r.text
    codes = {"site": site}
    for kind, unit, carrier in (
        ("counter", "kWh", "electricity"),
        ("delta", "kWh", "electricity"),
        ("gauge", "kW", "electricity"),
    ):
        code = f"{kind.upper()}-{uid}"
        r = client.post(
            "/api/v1/meters",
            headers=admin_headers,
            json={
                "code": code,
                "name": kind,
                "site": site,
                "carrier": carrier,
                "unit": unit,
                "kind": kind,
                "interval_s": 60,
            },
        )
        assert r.status_code == 201, r.text
        codes[kind] = code
    return codes


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """System tests are the ones in ``tests/system/``; browser tests drive Chromium."""
    for item in items:
        parts = item.path.parts
        if "system" in parts:
            item.add_marker(pytest.mark.system)
        if "browser" in item.path.stem:
            item.add_marker(pytest.mark.browser)


# --- PGlite: its stderr goes into the report of a failing test ----------------------------------
_STARTED = pytest.StashKey[float]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_STARTED] = time.monotonic()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201
    outcome = yield
    report = outcome.get_result()
    harness = sys.modules.get("tests.support.pglite.harness")
    if report.failed and harness is not None:
        since = item.stash.get(_STARTED, 0.0)
        for title, text in harness.report_sections(since):
            report.sections.append((title, text))
