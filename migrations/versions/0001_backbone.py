"""Backbone: sites, meters, readings, API keys, rollups on TimescaleDB or plain PostgreSQL.

Revision ID: 0001
Revises:
Create Date: 2026-11-21

History: this file imports nothing of the house. The time-series SQL below is the SQL this
revision shipped with, frozen here; a later change to rollups is a new revision.

SQL for the time-series relations, on both database paths.

Bucket semantics, identical on both paths: a rollup bucket of width ``w`` covers the half-open
interval ``(start, start + w]`` (closed at the end, as meter intervals are stamped by their end),
and the relation's ``bucket`` column holds ``start + 1 µs``, which is exactly the label
TimescaleDB's ``time_bucket(w, ts, "offset" => '1 microsecond')`` gives. The query layer
(``metering.series``) presents ``bucket - 1 µs``, the interval start. Day buckets follow the
plant timezone (``DEFAULT_DAY_TIMEZONE``, or the zone the runner hands
in as ``config.attributes["day_timezone"]``).

Path 1, TimescaleDB: ``reading`` is a hypertable; ``rollup_1m`` is a continuous aggregate on it
and ``rollup_15m``/``rollup_1h``/``rollup_1d`` are hierarchical continuous aggregates, all with
real-time aggregation; raw chunks are compressed after 7 days, 1-minute rollups kept 400 days.

Path 2, plain PostgreSQL: the same relation names and columns as tables. The writer queues each
changed range in ``rollup_pending`` in the same transaction as the readings and
``metering.rollups`` recomputes the touched buckets (a background worker, and readers for
the meters they read, so a query always sees every committed reading).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


# Frozen at this revision (history never imports live code): the plant time zone the day buckets
# follow unless the runner hands another in (``config.attributes["day_timezone"]``).
DEFAULT_DAY_TIMEZONE = "Asia/Shanghai"


def _timezone() -> str:
    from zoneinfo import ZoneInfo

    tz = op.get_context().config.attributes.get("day_timezone") or DEFAULT_DAY_TIMEZONE
    ZoneInfo(tz)  # fail early on a misspelt zone
    return tz


# --- Time-series SQL as it stood at this revision (frozen; see the module docstring) ---

ROLLUP_COLUMNS = (
    "meter_id",
    "bucket",
    "energy",
    "n",
    "value_min",
    "value_max",
    "value_sum",
    "value_last",
    "ts_last",
)

# width label -> (interval, source relation for the hierarchical level)
LEVELS: dict[str, tuple[str, str]] = {
    "1m": ("1 minute", "reading"),
    "15m": ("15 minutes", "rollup_1m"),
    "1h": ("1 hour", "rollup_15m"),
    "1d": ("1 day", "rollup_15m"),
}

COMMON_FUNCTIONS = """
CREATE OR REPLACE FUNCTION ecc_counter_delta(prev double precision, cur double precision,
                                             rollover double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  -- Register increase between two consecutive readings of a cumulative counter.
  -- A decrease is a rollover when the register was in its top 10 % and is now in its bottom
  -- 10 % of a configured maximum; otherwise a reset to zero (meter replaced or cleared),
  -- after which the new value is what was consumed since the reset.
  SELECT CASE
    WHEN prev IS NULL THEN NULL
    WHEN cur >= prev THEN cur - prev
    WHEN rollover IS NOT NULL AND prev >= 0.9 * rollover AND cur <= 0.1 * rollover
      THEN (rollover - prev) + cur
    ELSE cur
  END
$$;

CREATE OR REPLACE FUNCTION ecc_bucket(width interval, ts timestamptz)
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  -- Label of the end-closed bucket (start, start + width] holding ts: start + 1 microsecond.
  SELECT date_bin(width, ts - interval '1 microsecond', timestamptz '2000-01-01 00:00+00')
         + interval '1 microsecond'
$$;

CREATE OR REPLACE FUNCTION ecc_day_bucket(ts timestamptz, tz text)
RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT date_trunc('day', ts - interval '1 microsecond', tz) + interval '1 microsecond'
$$;
"""

DROP_COMMON_FUNCTIONS = """
DROP FUNCTION IF EXISTS ecc_day_bucket(timestamptz, text);
DROP FUNCTION IF EXISTS ecc_bucket(interval, timestamptz);
DROP FUNCTION IF EXISTS ecc_counter_delta(double precision, double precision, double precision);
"""


ROLLUP_1M_VIEW = """
CREATE VIEW rollup_1m AS
SELECT meter_id, ecc_bucket(INTERVAL '1 minute', ts) AS bucket, sum(energy) AS energy,
       count(*) AS n, min(value) AS value_min, max(value) AS value_max, sum(value) AS value_sum,
       (array_agg(value ORDER BY ts DESC))[1] AS value_last, max(ts) AS ts_last
FROM reading GROUP BY 1, 2
"""


def plain_tables_sql() -> str:
    """Rollups maintained by the application (plain PostgreSQL path).

    ``rollup_1m`` is a plain view here: at 1-minute resolution a bucket holds about one reading,
    so materialising it would double every write; the API computes 1-minute buckets from
    ``reading`` with a time-range predicate on both paths (``metering.series``).
    """
    parts = [ROLLUP_1M_VIEW + ";"]
    for level in ("15m", "1h", "1d"):
        parts.append(
            f"""
CREATE TABLE rollup_{level} (
  meter_id integer NOT NULL REFERENCES meter(id),
  bucket timestamptz NOT NULL,
  energy double precision,
  n bigint NOT NULL,
  value_min double precision,
  value_max double precision,
  value_sum double precision,
  value_last double precision,
  ts_last timestamptz,
  PRIMARY KEY (meter_id, bucket)
);"""
        )
    return "\n".join(parts)


def plain_drop_sql() -> str:
    return (
        "DROP TABLE IF EXISTS rollup_1d; DROP TABLE IF EXISTS rollup_1h; "
        "DROP TABLE IF EXISTS rollup_15m; DROP VIEW IF EXISTS rollup_1m;"
    )


def _time_bucket(level: str, column: str, timezone: str) -> str:
    width, _ = LEVELS[level]
    if level == "1d":
        return (
            f"time_bucket(INTERVAL '{width}', {column}, '{timezone}', "
            f"\"offset\" => INTERVAL '1 microsecond')"
        )
    return f"time_bucket(INTERVAL '{width}', {column}, \"offset\" => INTERVAL '1 microsecond')"


def timescale_sql(timezone: str) -> list[str]:
    """Hypertable, hierarchical continuous aggregates and policies (TimescaleDB path)."""
    stmts = [
        "CREATE EXTENSION IF NOT EXISTS timescaledb",
        "SELECT create_hypertable('reading', 'ts', chunk_time_interval => INTERVAL '1 day', "
        "migrate_data => true)",
        f"""CREATE MATERIALIZED VIEW rollup_1m WITH (timescaledb.continuous,
              timescaledb.materialized_only = false) AS
            SELECT meter_id, {_time_bucket("1m", "ts", timezone)} AS bucket,
                   sum(energy) AS energy, count(*) AS n, min(value) AS value_min,
                   max(value) AS value_max, sum(value) AS value_sum,
                   last(value, ts) AS value_last, max(ts) AS ts_last
            FROM reading GROUP BY meter_id, {_time_bucket("1m", "ts", timezone)}
            WITH NO DATA""",
    ]
    for level in ("15m", "1h", "1d"):
        _, source = LEVELS[level]
        tb = _time_bucket(level, "bucket", timezone)
        stmts.append(
            f"""CREATE MATERIALIZED VIEW rollup_{level} WITH (timescaledb.continuous,
                  timescaledb.materialized_only = false) AS
                SELECT meter_id, {tb} AS bucket,
                       sum(energy) AS energy, sum(n)::bigint AS n, min(value_min) AS value_min,
                       max(value_max) AS value_max, sum(value_sum) AS value_sum,
                       last(value_last, ts_last) AS value_last, max(ts_last) AS ts_last
                FROM {source} GROUP BY meter_id, {tb}
                WITH NO DATA"""
        )
    policies = {
        "1m": ("NULL", "INTERVAL '1 minute'", "INTERVAL '1 minute'"),
        "15m": ("NULL", "INTERVAL '15 minutes'", "INTERVAL '5 minutes'"),
        "1h": ("NULL", "INTERVAL '1 hour'", "INTERVAL '15 minutes'"),
        "1d": ("NULL", "INTERVAL '1 day'", "INTERVAL '1 hour'"),
    }
    for level, (start, end, every) in policies.items():
        stmts.append(
            f"SELECT add_continuous_aggregate_policy('rollup_{level}', start_offset => {start}, "
            f"end_offset => {end}, schedule_interval => {every})"
        )
    stmts += [
        "ALTER TABLE reading SET (timescaledb.compress, "
        "timescaledb.compress_segmentby = 'meter_id', timescaledb.compress_orderby = 'ts')",
        "SELECT add_compression_policy('reading', compress_after => INTERVAL '7 days')",
        "SELECT add_retention_policy('rollup_1m', drop_after => INTERVAL '400 days')",
    ]
    return stmts


def timescale_drop_sql() -> list[str]:
    return [
        "DROP MATERIALIZED VIEW IF EXISTS rollup_1d",
        "DROP MATERIALIZED VIEW IF EXISTS rollup_1h",
        "DROP MATERIALIZED VIEW IF EXISTS rollup_15m",
        "DROP MATERIALIZED VIEW IF EXISTS rollup_1m",
    ]


def upgrade() -> None:
    op.create_table(
        "ecc_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "site",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("site.id"), index=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("region", sa.String(64)),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "meter",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False, index=True),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("meter.id"), index=True),
        sa.Column("carrier", sa.String(32), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("canonical_unit", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("interval_s", sa.Integer, nullable=False),
        sa.Column("multiplier", sa.Double, nullable=False),
        sa.Column("rollover", sa.Double),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('counter', 'delta', 'gauge')", name="kind"),
        sa.CheckConstraint("interval_s > 0", name="interval_positive"),
        sa.CheckConstraint("multiplier > 0", name="multiplier_positive"),
    )
    op.create_table(
        "reading",
        sa.Column("meter_id", sa.Integer, nullable=False),
        sa.Column("ts", TZ, nullable=False),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("energy", sa.Double),
        sa.Column("received_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("meter_id", "ts"),
    )
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False, index=True),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", TZ),
        sa.CheckConstraint(
            "role IN ('ingest', 'viewer', 'engineer', 'manager', 'admin')", name="role"
        ),
    )
    op.create_table(
        "ingest_log",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("received_at", TZ, nullable=False, server_default=sa.func.now(), index=True),
        sa.Column("key_name", sa.String(100)),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("accepted", sa.Integer, nullable=False),
        sa.Column("duplicates", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("detail", sa.Text),
    )
    op.create_table(
        "rollup_pending",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("meter_id", sa.Integer, nullable=False),
        sa.Column("lo", TZ, nullable=False),
        sa.Column("hi", TZ, nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
    )
    op.execute(COMMON_FUNCTIONS)

    bind = op.get_bind()
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
    ).scalar()
    tz = _timezone()
    if available:
        for stmt in timescale_sql(tz):
            op.execute(stmt)
        path = "timescaledb"
    else:
        op.execute(plain_tables_sql())
        path = "postgresql"
    meta = sa.table("ecc_meta", sa.column("key"), sa.column("value"))
    op.bulk_insert(
        meta, [{"key": "timeseries_path", "value": path}, {"key": "day_timezone", "value": tz}]
    )


def downgrade() -> None:
    bind = op.get_bind()
    path = bind.execute(
        sa.text("SELECT value FROM ecc_meta WHERE key = 'timeseries_path'")
    ).scalar()
    if path == "timescaledb":
        for stmt in timescale_drop_sql():
            op.execute(stmt)
    else:
        op.execute(plain_drop_sql())
    op.execute(DROP_COMMON_FUNCTIONS)
    for table in (
        "rollup_pending",
        "ingest_log",
        "api_key",
        "reading",
        "meter",
        "site",
        "ecc_meta",
    ):
        op.drop_table(table)
