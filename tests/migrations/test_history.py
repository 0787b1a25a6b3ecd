"""Migrations are history: no version imports the house or reads runtime settings, file numbers
follow the chain, the models agree with the migrated schema, and the factor library is a data
step run after the schema."""

from __future__ import annotations

import ast
import re
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text

from carbon import library
from core.db import make_engine
from core.settings import Settings
from migrations import runner as migrate
from migrations.autogen import schema_differences
from tests.support.db import SERVER_URL
from tests.support.paths import REPO_ROOT

VERSIONS = REPO_ROOT / "migrations" / "versions"
HOUSE = set(
    tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "root_packages"
    ]
)
ALLOWED_IMPORTS = {"__future__", "alembic", "sqlalchemy", "zoneinfo"}


def _versions() -> list[Path]:
    return sorted(p for p in VERSIONS.glob("*.py") if p.name != "__init__.py")


def _imported_roots(tree: ast.Module) -> set[str]:
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import in a migration"
            roots.add((node.module or "").split(".")[0])
    return roots


@pytest.mark.parametrize("path", _versions(), ids=lambda p: p.name)
def test_version_imports_nothing_of_the_house(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = _imported_roots(tree)
    assert not roots & HOUSE, f"{path.name} imports live code: {sorted(roots & HOUSE)}"
    assert roots <= ALLOWED_IMPORTS, f"{path.name} imports {sorted(roots - ALLOWED_IMPORTS)}"
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert not {"get_settings", "environ", "getenv"} & (names | attrs), path.name


def test_the_gate_sees_a_house_import() -> None:
    """The check above can fail: a version importing carbon is caught."""
    tree = ast.parse("from carbon import library\nimport sqlalchemy as sa\n")
    assert _imported_roots(tree) & HOUSE == {"carbon"}


def _revision(path: Path, name: str) -> str | None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path.name} has no {name}")


def test_file_numbers_follow_the_chain() -> None:
    by_down = {_revision(p, "down_revision"): p for p in _versions()}
    assert len(by_down) == len(_versions()), "two versions revise the same parent (two heads)"
    chain, cur = [], None
    while cur in by_down:
        path = by_down[cur]
        chain.append(path)
        cur = _revision(path, "revision")
    assert len(chain) == len(_versions()), "a version is not on the chain from base"
    numbers = [int(re.match(r"(\d+)_", p.name).group(1)) for p in chain]  # type: ignore[union-attr]
    assert numbers == list(range(1, len(chain) + 1)), [p.name for p in chain]


@pytest.fixture
def fresh_engine() -> Iterator[Engine]:
    name = f"ecc_hist_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(
        Settings(database_url=f"{SERVER_URL.rsplit('/', 1)[0]}/{name}"), pool_size=1
    )
    yield engine
    engine.dispose()
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_models_agree_with_the_migrated_schema(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        assert schema_differences(conn) == []
        # and the comparison is not blind: a schema one index short is a difference
        conn.execute(text("DROP INDEX ix_alarm_shelved_until"))
        diffs = schema_differences(conn)
        conn.rollback()
    assert [d[0] for d in diffs] == ["add_index"]


def test_factor_library_is_a_data_step_after_the_schema(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine, "0002")  # schema only: no rows
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM carbon_factor")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM carbon_calc_version")).scalar() == 0

    migrate.upgrade(fresh_engine)  # head: schema, then the data steps
    shipped = len(library.factor_rows())
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM carbon_factor")).scalar() == shipped
        version = conn.execute(
            text("SELECT version, factor_watermark, reason FROM carbon_calc_version")
        ).all()
        top = conn.execute(text("SELECT max(id) FROM carbon_factor")).scalar()
    assert version == [(1, top, f"factor library {library.library_version()} as shipped")]

    migrate.upgrade(fresh_engine)  # idempotent
    with fresh_engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM carbon_factor")).scalar() == shipped
        assert conn.execute(text("SELECT count(*) FROM carbon_calc_version")).scalar() == 1
        assert library.load_shipped(conn) == 0


def test_day_timezone_is_handed_in_not_read(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine, "0001", day_timezone="Asia/Kolkata")
    with fresh_engine.connect() as conn:
        tz = conn.execute(text("SELECT value FROM ecc_meta WHERE key = 'day_timezone'")).scalar()
    assert tz == "Asia/Kolkata"


def test_upgrade_stores_the_factor_assignments_of_every_meter(fresh_engine: Engine) -> None:
    """A meter created outside the API (a bulk load) gets its assignments at the next upgrade,
    so reading its carbon figures stores nothing."""
    from sqlalchemy.orm import Session

    from metering import registry

    migrate.upgrade(fresh_engine)
    with Session(fresh_engine) as s:
        registry.create_site(s, registry.SiteIn("H-SITE", "History plant"))
        registry.create_meter(
            s, registry.MeterIn("H-KWH", "incomer", "H-SITE", "electricity", "kWh", "delta")
        )
        registry.create_meter(
            s, registry.MeterIn("H-KW", "load", "H-SITE", "electricity", "kW", "gauge")
        )
        s.commit()
    count = text("SELECT count(*) FROM carbon_assignment_state")
    with fresh_engine.connect() as conn:
        assert conn.execute(count).scalar() == 0
    migrate.upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        assert conn.execute(count).scalar() == 1  # the energy meter; a gauge has none
        assert conn.execute(text("SELECT count(*) FROM carbon_assignment")).scalar() >= 1
