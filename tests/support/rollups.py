"""Waiting for the deferred rollup work of a meter (shared by the rollup and counter tests)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text


def settle_rollups(
    engine: Engine, client: TestClient, headers: dict, code: str, timeout_s: float = 60.0
) -> None:
    """Wait until no rollup work of meter ``code`` is queued or being folded elsewhere.

    Tests of rollup *values* wait here so that they do not also depend on read-your-writes
    (a reader folding the meter's queued work itself, waiting for entries that the API's
    background worker holds), which ``test_reader_waits_for_a_busy_refresher`` in
    ``test_rollups.py`` checks on its own. Nothing to wait for when the database has no
    queue (rollups written in the ingest transaction).
    """
    deadline = time.monotonic() + timeout_s
    with engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('rollup_pending')")).scalar() is None:
            return
        meter_id = conn.execute(
            text("SELECT id FROM meter WHERE code = :c"), {"c": code}
        ).scalar_one()
    while True:
        with engine.begin() as conn:  # FOR UPDATE waits for a refresher holding them
            left = conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT id FROM rollup_pending WHERE meter_id = :m "
                    "FOR UPDATE) q"
                ),
                {"m": meter_id},
            ).scalar()
        if left == 0:
            return
        assert time.monotonic() < deadline, f"rollup work of {code} still queued"
        t = datetime(2000, 1, 1, tzinfo=UTC)  # any rollup read folds the meter's queue
        r = client.get(
            f"/api/v1/meters/{code}/series",
            headers=headers,
            params={
                "start": t.isoformat(),
                "end": (t + timedelta(hours=1)).isoformat(),
                "resolution": "1h",
            },
        )
        assert r.status_code == 200, r.text
