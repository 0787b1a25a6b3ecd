"""Application-maintained rollups (plain PostgreSQL path).

After the writer inserts readings it records every changed reading in the temp table
``ingest_changed`` (new rows, and counter rows whose energy changed because a reading arrived
out of order). Each level is then recomputed, bucket by bucket, from the level below:
1 min from ``reading``, 15 min from 1 min, 1 h and 1 day from 15 min. Recomputing whole
buckets (instead of adding increments) makes retries and late data exact by construction.
Per-meter advisory locks held by the writer serialise concurrent writers of the same meter.
"""

from __future__ import annotations

_UPSERT_TAIL = """
ON CONFLICT (meter_id, bucket) DO UPDATE SET
  energy = EXCLUDED.energy, n = EXCLUDED.n, value_min = EXCLUDED.value_min,
  value_max = EXCLUDED.value_max, value_sum = EXCLUDED.value_sum,
  value_last = EXCLUDED.value_last, ts_last = EXCLUDED.ts_last
"""

_COLUMNS = "meter_id, bucket, energy, n, value_min, value_max, value_sum, value_last, ts_last"

KEYS_1M = """
CREATE TEMP TABLE IF NOT EXISTS ingest_keys (level text, meter_id int, bucket timestamptz)
  ON COMMIT DELETE ROWS;
"""

ROLLUP_1M = f"""
WITH k AS (
  SELECT DISTINCT meter_id, ecc_bucket(INTERVAL '1 minute', ts) AS bucket FROM ingest_changed
), ins_keys AS (
  INSERT INTO ingest_keys (level, meter_id, bucket) SELECT '1m', meter_id, bucket FROM k
)
INSERT INTO rollup_1m ({_COLUMNS})
SELECT k.meter_id, k.bucket, a.*
FROM k CROSS JOIN LATERAL (
  SELECT sum(r.energy), count(*) AS n, min(r.value), max(r.value), sum(r.value),
         (array_agg(r.value ORDER BY r.ts DESC))[1], max(r.ts)
  FROM reading r
  WHERE r.meter_id = k.meter_id AND r.ts >= k.bucket AND r.ts < k.bucket + INTERVAL '1 minute'
) a
WHERE a.n > 0
{_UPSERT_TAIL}
"""


def rollup_from_below(level: str, width: str, source_level: str, day_tz: bool) -> str:
    """Recompute the buckets of ``level`` touched by the keys of ``source_level``."""
    if day_tz:
        bucket = "ecc_day_bucket(s.bucket, %(tz)s)"
        end = ("((((k.bucket - INTERVAL '1 microsecond') AT TIME ZONE %(tz)s) + INTERVAL '1 day')"
               " AT TIME ZONE %(tz)s) + INTERVAL '1 microsecond'")
    else:
        bucket = f"ecc_bucket(INTERVAL '{width}', s.bucket)"
        end = f"k.bucket + INTERVAL '{width}'"
    return f"""
WITH k AS (
  SELECT DISTINCT s.meter_id, {bucket} AS bucket FROM ingest_keys s WHERE s.level = '{source_level}'
), ins_keys AS (
  INSERT INTO ingest_keys (level, meter_id, bucket) SELECT '{level}', meter_id, bucket FROM k
)
INSERT INTO rollup_{level} ({_COLUMNS})
SELECT k.meter_id, k.bucket, a.*
FROM k CROSS JOIN LATERAL (
  SELECT sum(r.energy), sum(r.n)::bigint AS n, min(r.value_min), max(r.value_max),
         sum(r.value_sum), (array_agg(r.value_last ORDER BY r.ts_last DESC))[1], max(r.ts_last)
  FROM rollup_{source_level} r
  WHERE r.meter_id = k.meter_id AND r.bucket >= k.bucket AND r.bucket < {end}
) a
WHERE a.n > 0
{_UPSERT_TAIL}
"""


ROLLUP_15M = rollup_from_below("15m", "15 minutes", "1m", day_tz=False)
ROLLUP_1H = rollup_from_below("1h", "1 hour", "15m", day_tz=False)
ROLLUP_1D = rollup_from_below("1d", "1 day", "15m", day_tz=True)
