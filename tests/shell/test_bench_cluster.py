"""``ecc bench cluster``: its scratch database is dropped whatever happens, its plant is
what the nightly groups, and bad options exit 2 naming them (the timed run itself is the
lead's, on a quiet machine)."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from core.db import make_engine
from core.settings import Settings
from forecasting.runs import ForecastJobs
from shell.bench import cluster as bench
from shell.cli import app
from tests.support.db import SERVER_URL

NOW = datetime(2026, 3, 4, 18, 30, tzinfo=UTC)


def _exists(name: str) -> bool:
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            is not None
        )


def test_the_scratch_database_is_seeded_then_dropped() -> None:
    with pytest.raises(RuntimeError, match="stop"), bench.scratch_database(SERVER_URL) as url:
        name = url.rsplit("/", 1)[1]
        assert _exists(name)
        sites = bench.seed_plant(url, sites=2, meters=2, days=8, now=NOW)
        engine = make_engine(Settings(database_url=url), pool_size=1)
        try:
            with Session(engine) as session:
                units = ForecastJobs("CN", lambda: NOW).plan(session, None, NOW)
        finally:
            engine.dispose()
        # per site: its two meters as one group, its total alone
        assert sorted(u.label for u in units) == sorted([*sites, *(f"group:{s}" for s in sites)])
        raise RuntimeError("stop")
    assert not _exists(name)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--nodes", "one"], "nodes"),
        (["--nodes", "0,2"], "at least 1"),
        (["--days", "0"], "at least 1"),
    ],
)
def test_bad_options_exit_2(args: list[str], says: str) -> None:
    result = CliRunner().invoke(app, ["bench", "cluster", *args])
    assert result.exit_code == 2
    assert says in result.output
