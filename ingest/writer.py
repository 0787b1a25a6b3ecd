"""The one write path for readings: stage → insert once → counter energy → rollups, one commit.

1. Per-meter advisory locks (sorted, so concurrent writers cannot deadlock) serialise writers of
   the same meter; counter energy and rollups depend on neighbouring readings.
2. The batch is staged with binary COPY into a temp table (``INSERT … unnest`` where COPY is
   unavailable, e.g. the PGlite test server).
3. ``INSERT … ON CONFLICT DO NOTHING`` adds only readings not yet stored; the rest are compared
   with what is stored: equal value → duplicate (counted once), different → rejected conflict.
4. Counter energy is recomputed for the new readings and the successor of each (out-of-order
   arrival changes the successor's interval).
5. On plain PostgreSQL the rollups of every touched bucket are recomputed
   (:mod:`ingest.rollup_sql`); on TimescaleDB continuous aggregates do it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ingest import rollup_sql
from ingest.validate import ValidBatch

LOCK_CLASS = 4242

_TEMP_TABLES = """
CREATE TEMP TABLE IF NOT EXISTS ingest_stage (
  idx int, meter_id int, ts timestamptz, value double precision) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_changed (meter_id int, ts timestamptz)
  ON COMMIT DELETE ROWS;
""" + rollup_sql.KEYS_1M

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

# Energy of counter readings: recomputed over [predecessor of the first new reading,
# successor of the last new reading] per meter; rows whose energy changed are recorded.
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
  SELECT r.meter_id, r.ts, r.energy AS old_energy,
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
INSERT INTO ingest_changed (meter_id, ts)
SELECT u.meter_id, u.ts FROM upd u
WHERE NOT EXISTS (SELECT 1 FROM ingest_changed c WHERE c.meter_id = u.meter_id AND c.ts = u.ts)
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


@dataclass(frozen=True)
class WriterConfig:
    """How to write on this database: chosen once per engine (see :func:`detect_writer`)."""

    timescale: bool
    use_copy: bool
    day_timezone: str


def detect_writer(conn: Any) -> WriterConfig:
    """Read the path the migration chose and whether COPY works (it does not on PGlite)."""
    rows = dict(conn.execute("SELECT key, value FROM ecc_meta").fetchall())
    version = conn.execute("SELECT version()").fetchone()[0].lower()
    wasm = "emscripten" in version or "wasm" in version
    return WriterConfig(
        timescale=rows.get("timeseries_path") == "timescaledb",
        use_copy=not wasm,
        day_timezone=rows.get("day_timezone", "UTC"),
    )


def write_batch(conn: Any, batch: ValidBatch, cfg: WriterConfig, *,
                key_name: str | None = None, source: str = "api") -> WriteResult:
    """Write ``batch`` in one transaction on the psycopg connection ``conn``; commit; report."""
    result = WriteResult(duplicates=batch.duplicates)
    with conn.transaction():
        if len(batch):
            _write(conn, batch, cfg, result)
        conn.execute(
            "INSERT INTO ingest_log (key_name, source, accepted, duplicates, rejected) "
            "VALUES (%s, %s, %s, %s, %s)",
            (key_name, source, result.accepted, result.duplicates,
             len(batch.rejected) + len(result.conflicts)),
        )
    return result


def _write(conn: Any, batch: ValidBatch, cfg: WriterConfig, result: WriteResult) -> None:
    for stmt in _TEMP_TABLES.split(";"):
        if stmt.strip():
            conn.execute(stmt)
    meter_ids = sorted(batch.meters)
    conn.execute(
        "SELECT count(pg_advisory_xact_lock(%s, id)) FROM unnest(%s::int[]) AS id",
        (LOCK_CLASS, meter_ids),
    )
    _stage(conn, batch, cfg)
    result.accepted = conn.execute(_INSERT).rowcount
    staged = len(batch)
    if result.accepted < staged:
        for idx, stored, sent in conn.execute(_EXISTING).fetchall():
            if stored == sent or abs(stored - sent) <= 1e-9 * max(abs(stored), abs(sent)):
                result.duplicates += 1
            else:
                result.conflicts.append({
                    "index": idx,
                    "error": f"value: conflicts with the stored reading ({stored} "
                             f"{batch.meters[_meter_of(batch, idx)].canonical_unit}); "
                             "readings are never overwritten",
                })
    if result.accepted == 0:
        return
    if any(m.kind == "counter" for m in batch.meters.values()):
        conn.execute(_COUNTER_ENERGY)
    if not cfg.timescale:
        conn.execute(rollup_sql.ROLLUP_1M)
        conn.execute(rollup_sql.ROLLUP_15M)
        conn.execute(rollup_sql.ROLLUP_1H)
        conn.execute(rollup_sql.ROLLUP_1D, {"tz": cfg.day_timezone})


def _meter_of(batch: ValidBatch, idx: int) -> int:
    return batch.meter_id[batch.idx.index(idx)]


def _stage(conn: Any, batch: ValidBatch, cfg: WriterConfig) -> None:
    if cfg.use_copy:
        with conn.cursor().copy(
            "COPY ingest_stage (idx, meter_id, ts, value) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["int4", "int4", "timestamptz", "float8"])
            write = copy.write_row
            for row in zip(batch.idx, batch.meter_id, batch.ts, batch.value, strict=True):
                write(row)
    else:
        conn.execute(_STAGE_UNNEST, (batch.idx, batch.meter_id, batch.ts, batch.value))
