"""Application-maintained rollups (plain PostgreSQL path): the equivalent of refreshing
TimescaleDB continuous aggregates.

Writers queue the changed time range of each meter in ``rollup_pending`` (same transaction as
the readings). :func:`refresh_pending` takes queued ranges (``FOR UPDATE SKIP LOCKED``, so
several refreshers can run), merges them per meter, takes the writers' per-meter advisory
locks and recomputes every touched bucket from the level below: 15 min from ``reading``,
1 h from 15 min (``rollup_1m`` is a view on this path; days are site-local and built from these
at read time, ``metering.clock``). Whole buckets are
recomputed, never incremented, so retries, late data and counter corrections are exact by
construction. Readers call it for the meters they read (read-your-writes); a background
worker keeps the queue short.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy.exc import SQLAlchemyError

#: advisory-lock class of the per-meter locks writers and the refresher take (in meter order)
LOCK_CLASS = 4242

log = logging.getLogger(__name__)
MERGE_GAP = timedelta(hours=1)

_UPSERT_TAIL = """
ON CONFLICT (meter_id, bucket) DO UPDATE SET
  energy = EXCLUDED.energy, n = EXCLUDED.n, value_min = EXCLUDED.value_min,
  value_max = EXCLUDED.value_max, value_sum = EXCLUDED.value_sum,
  value_last = EXCLUDED.value_last, ts_last = EXCLUDED.ts_last
"""
_COLUMNS = "meter_id, bucket, energy, n, value_min, value_max, value_sum, value_last, ts_last"
_RANGES = (
    "unnest(%(m)s::int[], %(lo)s::timestamptz[], %(hi)s::timestamptz[]) AS p(meter_id, lo, hi)"
)

# A bucket none of whose sources is left (a voided reading) is removed, not kept stale.
DELETE_EMPTY_15M = f"""
DELETE FROM rollup_15m x USING {_RANGES}
WHERE x.meter_id = p.meter_id
  AND x.bucket >= ecc_bucket(INTERVAL '15 minutes', p.lo)
  AND x.bucket < ecc_bucket(INTERVAL '15 minutes', p.hi) + INTERVAL '15 minutes'
  AND NOT EXISTS (SELECT 1 FROM reading r WHERE r.meter_id = x.meter_id
                  AND r.ts >= x.bucket AND r.ts < x.bucket + INTERVAL '15 minutes')
"""
DELETE_EMPTY_1H = f"""
DELETE FROM rollup_1h x USING {_RANGES}
WHERE x.meter_id = p.meter_id
  AND x.bucket >= ecc_bucket(INTERVAL '1 hour', p.lo)
  AND x.bucket < ecc_bucket(INTERVAL '1 hour', p.hi) + INTERVAL '1 hour'
  AND NOT EXISTS (SELECT 1 FROM rollup_15m r WHERE r.meter_id = x.meter_id
                  AND r.bucket >= x.bucket AND r.bucket < x.bucket + INTERVAL '1 hour')
"""

REFRESH_15M = f"""
INSERT INTO rollup_15m ({_COLUMNS})
SELECT r.meter_id, ecc_bucket(INTERVAL '15 minutes', r.ts), sum(r.energy), count(*),
       min(r.value), max(r.value), sum(r.value), (array_agg(r.value ORDER BY r.ts DESC))[1],
       max(r.ts)
FROM (SELECT DISTINCT ON (r.meter_id, r.ts) r.* FROM {_RANGES}
      JOIN reading r ON r.meter_id = p.meter_id
        AND r.ts >= ecc_bucket(INTERVAL '15 minutes', p.lo)
        AND r.ts < ecc_bucket(INTERVAL '15 minutes', p.hi) + INTERVAL '15 minutes') r
GROUP BY 1, 2
{_UPSERT_TAIL}
"""


def _refresh_level(level: str, width: str, source: str) -> str:
    return f"""
INSERT INTO rollup_{level} ({_COLUMNS})
SELECT r.meter_id, ecc_bucket(INTERVAL '{width}', r.bucket), sum(r.energy), sum(r.n)::bigint,
       min(r.value_min), max(r.value_max), sum(r.value_sum),
       (array_agg(r.value_last ORDER BY r.ts_last DESC))[1], max(r.ts_last)
FROM (SELECT DISTINCT ON (r.meter_id, r.bucket) r.* FROM {_RANGES}
      JOIN rollup_{source} r ON r.meter_id = p.meter_id
        AND r.bucket >= ecc_bucket(INTERVAL '{width}', p.lo)
        AND r.bucket < ecc_bucket(INTERVAL '{width}', p.hi) + INTERVAL '{width}') r
GROUP BY 1, 2
{_UPSERT_TAIL}
"""


REFRESH_1H = _refresh_level("1h", "1 hour", "15m")

_TAKE = """
DELETE FROM rollup_pending WHERE id IN (
  SELECT id FROM rollup_pending {where} ORDER BY id LIMIT %(limit)s FOR UPDATE {skip})
RETURNING meter_id, lo, hi
"""


def merge_ranges(
    rows: Iterable[tuple[int, datetime, datetime]], gap: timedelta = MERGE_GAP
) -> list[tuple[int, datetime, datetime]]:
    """Merge overlapping or nearby ranges of the same meter (nearby: within ``gap``)."""
    out: list[tuple[int, datetime, datetime]] = []
    for meter_id, lo, hi in sorted(rows):
        if out and out[-1][0] == meter_id and lo <= out[-1][2] + gap:
            out[-1] = (meter_id, out[-1][1], max(out[-1][2], hi))
        else:
            out.append((meter_id, lo, hi))
    return out


def refresh_pending(conn: Any, meter_ids: list[int] | None = None, limit: int = 5000) -> int:
    """Fold up to ``limit`` queued ranges into the rollups; returns how many were taken."""
    where = "" if meter_ids is None else "WHERE meter_id = ANY(%(ids)s)"
    with conn.transaction():
        # A reader (meter_ids given) must wait for entries another refresher has taken but
        # not committed yet; only the background worker may skip them.
        skip = "SKIP LOCKED" if meter_ids is None else ""
        taken = conn.execute(
            _TAKE.format(where=where, skip=skip), {"limit": limit, "ids": meter_ids}
        ).fetchall()
        if not taken:
            return 0
        ranges = merge_ranges(taken)
        meters = sorted({m for m, _, _ in ranges})
        conn.execute(
            "SELECT count(pg_advisory_xact_lock(%s, id)) FROM unnest(%s::int[]) AS id",
            (LOCK_CLASS, meters),
        )
        params = {
            "m": [r[0] for r in ranges],
            "lo": [r[1] for r in ranges],
            "hi": [r[2] for r in ranges],
        }
        for sql in (DELETE_EMPTY_15M, REFRESH_15M, DELETE_EMPTY_1H, REFRESH_1H):
            conn.execute(sql, params)
    return len(taken)


# TimescaleDB: width of each continuous aggregate, refreshed bottom-up over the late ranges.
_CAGG_LEVELS = (
    ("rollup_1m", timedelta(minutes=1)),
    ("rollup_15m", timedelta(minutes=15)),
    ("rollup_1h", timedelta(hours=1)),
)


def refresh_pending_timescale(conn: Any, limit: int = 5000) -> int:
    """TimescaleDB path: refresh the continuous aggregates over queued ranges older than the
    materialisation watermark (newer data is already visible through real-time aggregation).
    ``conn`` must be in autocommit mode (refresh cannot run inside a transaction)."""
    taken = conn.execute(_TAKE.format(where="", skip="SKIP LOCKED"), {"limit": limit}).fetchall()
    if not taken:
        return 0
    watermark = conn.execute(
        "SELECT _timescaledb_functions.to_timestamp(_timescaledb_functions.cagg_watermark("
        "mat_hypertable_id)) FROM _timescaledb_catalog.continuous_agg "
        "WHERE user_view_name = 'rollup_1m'"
    ).fetchone()
    merged = merge_ranges([(0, lo, hi) for _, lo, hi in taken], gap=timedelta(days=1))
    for _, lo, hi in merged:
        if watermark and watermark[0] is not None and lo >= watermark[0]:
            continue
        for view, width in _CAGG_LEVELS:
            conn.execute(
                f"CALL refresh_continuous_aggregate('{view}', %s, %s)", (lo - width, hi + width)
            )
    return len(taken)


def refresh_all(conn: Any, meter_ids: list[int] | None = None) -> int:
    total = 0
    while n := refresh_pending(conn, meter_ids):
        total += n
    return total


class RollupWorker:
    """Background thread that keeps ``rollup_pending`` short, on both database paths."""

    def __init__(
        self,
        connect,  # noqa: ANN001
        idle_s: float = 0.5,
        timescale: bool = False,
    ) -> None:
        self._connect = connect
        self._timescale = timescale
        self._idle_s = idle_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rollup-worker", daemon=True)

    def start(self) -> RollupWorker:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    if self._timescale:
                        conn.autocommit = True
                        try:
                            while not self._stop.is_set() and refresh_pending_timescale(conn):
                                pass
                        finally:
                            conn.autocommit = False
                    while (
                        not self._timescale
                        and not self._stop.is_set()
                        and refresh_pending(conn, limit=500)
                    ):
                        pass
            except (psycopg.Error, SQLAlchemyError):  # survive a database restart
                log.exception("rollup refresh failed; retrying")
            self._stop.wait(self._idle_s)
