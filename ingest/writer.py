"""The one write path for readings: every batch is stored once, in one transaction.

1. Per-meter advisory locks (taken in meter order, so writers cannot deadlock) serialise the
   writers of a meter: counter energy and rollups depend on neighbouring readings.
2. Fast path — the common case of new readings arriving in order: counter energy is computed
   here (:mod:`ingest.counters`) from the stored predecessor, and the rows go straight into
   ``reading`` with one binary COPY inside a savepoint.
3. Careful path — if a reading is already stored (a retry, a conflict) or a counter reading
   arrives before stored ones: the batch is staged with COPY into a temp table,
   ``INSERT … ON CONFLICT DO NOTHING`` adds only what is new, the rest is compared with what
   is stored (equal → duplicate, counted once; different → rejected conflict; never
   overwritten), and counter energy is recomputed in SQL for the new rows and their
   successors.
4. The changed time range of each meter is queued in ``rollup_pending`` in the same
   transaction; :mod:`metering.rollups` folds it into the rollup tables (plain
   PostgreSQL) or refreshes the continuous aggregates over it (TimescaleDB, where real-time
   aggregation covers new data but late data below the watermark needs a refresh).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from psycopg import errors as pg_errors

from ingest import copy_binary
from ingest.counters import counter_delta
from ingest.validate import ValidBatch, same_value
from metering.rollups import LOCK_CLASS

_TEMP_TABLES = (
    "CREATE TEMP TABLE IF NOT EXISTS ingest_stage (idx int, meter_id int, ts timestamptz, "
    "value double precision) ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE IF NOT EXISTS ingest_changed (meter_id int, ts timestamptz) "
    "ON COMMIT DELETE ROWS",
)

_INSERT = """
WITH ins AS (
  INSERT INTO reading (meter_id, ts, value, energy)
  SELECT s.meter_id, s.ts, s.value, CASE WHEN m.kind = 'delta' THEN s.value END
  FROM ingest_stage s JOIN meter m ON m.id = s.meter_id
  ON CONFLICT (meter_id, ts) DO NOTHING
  RETURNING meter_id, ts
)
INSERT INTO ingest_changed (meter_id, ts) SELECT meter_id, ts FROM ins
"""

_EXISTING = """
SELECT s.idx, r.value, s.value
FROM ingest_stage s JOIN reading r ON r.meter_id = s.meter_id AND r.ts = s.ts
WHERE NOT EXISTS (
  SELECT 1 FROM ingest_changed c WHERE c.meter_id = s.meter_id AND c.ts = s.ts)
"""

# Counter energy recomputed over [predecessor of the first new reading, successor of the last]
# per meter; rows whose energy changed are recorded for the rollups.
_COUNTER_ENERGY = """
WITH span AS (
  SELECT c.meter_id, min(c.ts) AS lo, max(c.ts) AS hi
  FROM ingest_changed c JOIN meter m ON m.id = c.meter_id AND m.kind = 'counter'
  GROUP BY c.meter_id
), win AS (
  SELECT s.meter_id,
    coalesce((SELECT r.ts FROM reading r WHERE r.meter_id = s.meter_id AND r.ts < s.lo
              ORDER BY r.ts DESC LIMIT 1), s.lo) AS lo,
    coalesce((SELECT r.ts FROM reading r WHERE r.meter_id = s.meter_id AND r.ts > s.hi
              ORDER BY r.ts LIMIT 1), s.hi) AS hi
  FROM span s
), calc AS (
  SELECT r.meter_id, r.ts,
    lag(r.ts) OVER w AS prev_ts,
    ecc_counter_delta(lag(r.value) OVER w, r.value, m.rollover) AS new_energy
  FROM win JOIN reading r ON r.meter_id = win.meter_id AND r.ts BETWEEN win.lo AND win.hi
  JOIN meter m ON m.id = r.meter_id
  WINDOW w AS (PARTITION BY r.meter_id ORDER BY r.ts)
), upd AS (
  UPDATE reading r SET energy = c.new_energy
  FROM calc c
  WHERE r.meter_id = c.meter_id AND r.ts = c.ts AND c.prev_ts IS NOT NULL
    AND r.energy IS DISTINCT FROM c.new_energy
  RETURNING r.meter_id, r.ts
)
INSERT INTO ingest_changed (meter_id, ts) SELECT meter_id, ts FROM upd
"""

# Stored neighbours of each counter meter's first new reading: the predecessor's value and
# whether anything is stored at or after it (then the careful path is needed).
_COUNTER_CONTEXT = """
SELECT b.id, p.value,
       EXISTS (SELECT 1 FROM reading r WHERE r.meter_id = b.id AND r.ts >= b.lo)
FROM unnest(%s::int[], %s::timestamptz[]) AS b(id, lo)
LEFT JOIN LATERAL (SELECT value FROM reading r WHERE r.meter_id = b.id AND r.ts < b.lo
                   ORDER BY r.ts DESC LIMIT 1) p ON true
"""

_PENDING_FROM_ARRAYS = """
INSERT INTO rollup_pending (meter_id, lo, hi)
SELECT * FROM unnest(%s::int[], %s::timestamptz[], %s::timestamptz[])
"""
_PENDING_FROM_CHANGED = """
INSERT INTO rollup_pending (meter_id, lo, hi)
SELECT meter_id, min(ts), max(ts) FROM ingest_changed GROUP BY meter_id
"""
_STAGE_UNNEST = """
INSERT INTO ingest_stage (idx, meter_id, ts, value)
SELECT * FROM unnest(%s::int[], %s::int[], %s::timestamptz[], %s::float8[])
"""


@dataclass
class WriteResult:
    accepted: int = 0
    duplicates: int = 0
    conflicts: list[dict] = field(default_factory=list)
    fast_path: bool = False


@dataclass(frozen=True)
class WriterConfig:
    """How to write on this database: chosen once per engine (see :func:`detect_writer`)."""

    timescale: bool
    use_copy: bool


def detect_writer(conn: Any) -> WriterConfig:
    """Read the path the migration chose and whether COPY works (it does not on PGlite)."""
    rows = dict(conn.execute("SELECT key, value FROM ecc_meta").fetchall())
    version = conn.execute("SELECT version()").fetchone()[0].lower()
    wasm = "emscripten" in version or "wasm" in version
    return WriterConfig(
        timescale=rows.get("timeseries_path") == "timescaledb",
        use_copy=not wasm,
    )


def write_batch(
    conn: Any,
    batch: ValidBatch,
    cfg: WriterConfig,
    *,
    key_name: str | None = None,
    source: str = "api",
    before_commit: Callable[[WriteResult], None] | None = None,
) -> WriteResult:
    """Write ``batch`` in one transaction on the psycopg connection ``conn``; commit; report.
    ``before_commit`` runs in the transaction once the readings are written."""
    result = WriteResult(duplicates=batch.duplicates)
    with conn.transaction():
        if len(batch):
            _write(conn, batch, cfg, result)
        if before_commit is not None:
            before_commit(result)
        conn.execute(
            "INSERT INTO ingest_log (key_name, source, accepted, duplicates, rejected) "
            "VALUES (%s, %s, %s, %s, %s)",
            (
                key_name,
                source,
                result.accepted,
                result.duplicates,
                len(batch.rejected) + len(result.conflicts),
            ),
        )
    return result


def _groups(batch: ValidBatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per meter (the batch is sorted by meter, ts): meter ids, first and last positions."""
    starts = np.flatnonzero(np.r_[True, batch.meter_id[1:] != batch.meter_id[:-1]])
    ends = np.r_[starts[1:], len(batch)] - 1
    return batch.meter_id[starts], starts, ends


def _write(conn: Any, batch: ValidBatch, cfg: WriterConfig, result: WriteResult) -> None:
    ids, starts, ends = _groups(batch)
    conn.execute(
        "SELECT count(pg_advisory_xact_lock(%s, id)) FROM unnest(%s::int[]) AS id",
        (LOCK_CLASS, sorted(ids.tolist())),
    )
    energy = _fast_energy(conn, batch, ids, starts, ends)
    if energy is not None and cfg.use_copy:
        try:
            # savepoint: a stored duplicate aborts only this COPY
            with (
                conn.transaction(),
                conn.cursor().copy(
                    "COPY reading (meter_id, ts, value, energy) FROM STDIN (FORMAT BINARY)"
                ) as copy,
            ):
                copy.write(
                    copy_binary.reading_rows(batch.meter_id, batch.ts_us, batch.value, energy)
                )
        except pg_errors.UniqueViolation:
            pass
        else:
            result.accepted, result.fast_path = len(batch), True
            ts = batch.timestamps_at
            conn.execute(_PENDING_FROM_ARRAYS, (ids.tolist(), ts(starts), ts(ends)))
            return
    _careful(conn, batch, cfg, result)


def _fast_energy(
    conn: Any, batch: ValidBatch, ids: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray | None:
    """Energy per row, or None when a counter reading arrives before stored ones."""
    energy = np.full(len(batch), np.nan)
    counters = []
    for k, mid in enumerate(ids.tolist()):
        meter = batch.meters[mid]
        sl = slice(starts[k], ends[k] + 1)
        if meter.kind == "delta":
            energy[sl] = batch.value[sl]
        elif meter.kind == "counter":
            counters.append((k, mid))
    if not counters:
        return energy
    los = batch.timestamps_at(np.array([starts[k] for k, _ in counters]))
    context = {
        row[0]: row
        for row in conn.execute(_COUNTER_CONTEXT, ([mid for _, mid in counters], los)).fetchall()
    }
    for k, mid in counters:
        _, prev_value, later_stored = context[mid]
        if later_stored:
            return None
        sl = slice(starts[k], ends[k] + 1)
        values = batch.value[sl]
        prev = np.r_[np.nan if prev_value is None else prev_value, values[:-1]]
        energy[sl] = counter_delta(prev, values, batch.meters[mid].rollover)
    return energy


def _careful(conn: Any, batch: ValidBatch, cfg: WriterConfig, result: WriteResult) -> None:
    for stmt in _TEMP_TABLES:
        conn.execute(stmt)
    if cfg.use_copy:
        with conn.cursor().copy(
            "COPY ingest_stage (idx, meter_id, ts, value) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.write(copy_binary.stage_rows(batch.idx, batch.meter_id, batch.ts_us, batch.value))
    else:
        conn.execute(
            _STAGE_UNNEST,
            (batch.idx.tolist(), batch.meter_id.tolist(), batch.timestamps(), batch.value.tolist()),
        )
    result.accepted = conn.execute(_INSERT).rowcount
    if result.accepted < len(batch):
        unit = {m.id: m.canonical_unit for m in batch.meters.values()}
        meter_at = dict(zip(batch.idx.tolist(), batch.meter_id.tolist(), strict=True))
        for idx, stored, sent in conn.execute(_EXISTING).fetchall():
            if same_value(stored, sent):
                result.duplicates += 1
            else:
                result.conflicts.append(
                    {
                        "index": idx,
                        "error": f"value: conflicts with the stored reading ({stored} "
                        f"{unit[meter_at[idx]]}); readings are never overwritten",
                    }
                )
    if result.accepted == 0:
        return
    if any(m.kind == "counter" for m in batch.meters.values()):
        conn.execute(_COUNTER_ENERGY)
    conn.execute(_PENDING_FROM_CHANGED)
