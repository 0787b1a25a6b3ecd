"""``ecc demo --field``: the simulated Modbus meter and the collector reach the real API."""

from __future__ import annotations

from rich.console import Console
from sqlalchemy import text

from shell.demo.field import METER, POWER, start_field
from tests.support.field import wait_for
from tests.support.live_server import LiveServer, new_key


def _stored(engine, code: str) -> list:  # noqa: ANN001
    with engine.connect() as conn:
        return (
            conn.execute(
                text(
                    "SELECT r.value FROM reading r JOIN meter m ON m.id = r.meter_id "
                    "WHERE m.code = :c"
                ),
                {"c": code},
            )
            .scalars()
            .all()
        )


def test_field_demo_meter_reaches_the_center(db_url, engine, plant, tmp_path) -> None:
    _, key = new_key(engine, "ingest")
    with LiveServer(db_url, tmp_path) as srv:
        demo = start_field(engine, plant["site"], srv.url, key, tmp_path / "field", Console())
        try:
            wait_for(
                lambda: _stored(engine, METER) and _stored(engine, POWER), 40, "field readings"
            )
        finally:
            demo.stop()
    assert min(_stored(engine, METER)) >= 125_000.0
    assert all(150.0 <= kw <= 230.0 for kw in _stored(engine, POWER))
