"""Each site's own clock: day buckets follow the meter's site zone, not one plant zone.

The fixed-zone day rollup (``rollup_1d``: a continuous aggregate bucketed in the zone configured
at migration time, or a table kept by the refresher) is dropped. ``rollup_1d`` becomes a view on
both database paths that builds each meter's local days (its site's ``timezone``) from
``rollup_15m`` — 15-minute buckets tile the days of every zone, also +05:30 or +05:45.
``carbon_15m``/``carbon_site_15m`` join the carbon views, and ``carbon_1d``/``carbon_site_1d``
become local-day groupings of them (a site's days in that site's zone). The query code reads
days from the 15-minute or hourly relations with a time-range predicate (``metering.clock``);
these views give the same rows for ad-hoc use. The zone of the dropped rollup is kept in
``ecc_meta`` as ``legacy_day_timezone`` for the downgrade.

The SQL is written out here (frozen), never imported from live code.

Revision ID: 0005_site_clock
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_site_clock"
down_revision = "0003"
branch_labels = None
depends_on = None

ROLLUP_1D_VIEW = """
CREATE VIEW rollup_1d AS
SELECT r.meter_id, ecc_day_bucket(r.bucket, s.timezone) AS bucket,
       sum(r.energy) AS energy, sum(r.n)::bigint AS n, min(r.value_min) AS value_min,
       max(r.value_max) AS value_max, sum(r.value_sum) AS value_sum,
       (array_agg(r.value_last ORDER BY r.ts_last DESC))[1] AS value_last,
       max(r.ts_last) AS ts_last
FROM rollup_15m r
JOIN meter m ON m.id = r.meter_id
JOIN site s ON s.id = m.site_id
GROUP BY r.meter_id, ecc_day_bucket(r.bucket, s.timezone)
"""


def _meter_view(level: str) -> str:
    return f"""
CREATE VIEW carbon_{level} AS
SELECT s.version, r.meter_id, m.site_id, r.bucket, s.scope, s.source,
       r.energy AS activity, r.n,
       r.energy * a.coef AS co2_t, a.factor_id AS co2_factor_id,
       r.energy * t.coef AS tce, t.factor_id AS tce_factor_id
FROM carbon_assignment_state s
JOIN rollup_{level} r ON r.meter_id = s.meter_id
JOIN meter m ON m.id = r.meter_id
LEFT JOIN carbon_assignment a ON a.version = s.version AND a.meter_id = s.meter_id
  AND a.purpose = 'co2' AND r.bucket > a.valid_from AND r.bucket <= a.valid_to
LEFT JOIN carbon_assignment t ON t.version = s.version AND t.meter_id = s.meter_id
  AND t.purpose = 'tce' AND r.bucket > t.valid_from AND r.bucket <= t.valid_to
"""


def _site_view(level: str) -> str:
    return f"""
CREATE VIEW carbon_site_{level} AS
SELECT c.version, sm.site_id, c.bucket,
       sum(c.co2_t) FILTER (WHERE c.scope = 1) AS scope1_co2_t,
       sum(c.co2_t) FILTER (WHERE c.scope = 2) AS scope2_co2_t,
       sum(c.co2_t) AS co2_t, sum(c.tce) AS tce
FROM carbon_{level} c JOIN carbon_site_meter sm ON sm.meter_id = c.meter_id
GROUP BY c.version, sm.site_id, c.bucket
"""


# A meter's carbon day: its site's local day. Factor periods start at the site's local
# midnight (carbon.factors), so one day has one factor per purpose.
CARBON_1D_VIEW = """
CREATE VIEW carbon_1d AS
SELECT c.version, c.meter_id, c.site_id, ecc_day_bucket(c.bucket, s.timezone) AS bucket,
       c.scope, c.source, sum(c.activity) AS activity, sum(c.n)::bigint AS n,
       sum(c.co2_t) AS co2_t, max(c.co2_factor_id) AS co2_factor_id,
       sum(c.tce) AS tce, max(c.tce_factor_id) AS tce_factor_id
FROM carbon_15m c JOIN site s ON s.id = c.site_id
GROUP BY c.version, c.meter_id, c.site_id, ecc_day_bucket(c.bucket, s.timezone), c.scope,
         c.source
"""

# A site's carbon day: the local day of that site (its meters may sit in sub-sites elsewhere).
CARBON_SITE_1D_VIEW = """
CREATE VIEW carbon_site_1d AS
SELECT c.version, c.site_id, ecc_day_bucket(c.bucket, s.timezone) AS bucket,
       sum(c.scope1_co2_t) AS scope1_co2_t, sum(c.scope2_co2_t) AS scope2_co2_t,
       sum(c.co2_t) AS co2_t, sum(c.tce) AS tce
FROM carbon_site_15m c JOIN site s ON s.id = c.site_id
GROUP BY c.version, c.site_id, ecc_day_bucket(c.bucket, s.timezone)
"""

DROP_DAY_VIEWS = ["DROP VIEW IF EXISTS carbon_site_1d", "DROP VIEW IF EXISTS carbon_1d"]

# -- the fixed-zone day rollup of revision 0001 (for the downgrade) -----------------------

OLD_ROLLUP_1D_TABLE = """
CREATE TABLE rollup_1d (
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
)
"""
OLD_ROLLUP_1D_FILL = """
INSERT INTO rollup_1d
SELECT meter_id, ecc_day_bucket(bucket, :tz), sum(energy), sum(n)::bigint, min(value_min),
       max(value_max), sum(value_sum), (array_agg(value_last ORDER BY ts_last DESC))[1],
       max(ts_last)
FROM rollup_15m GROUP BY 1, 2
"""


def _old_rollup_1d_cagg(tz: str) -> list[str]:
    tb = f"time_bucket(INTERVAL '1 day', bucket, '{tz}', \"offset\" => INTERVAL '1 microsecond')"
    return [
        f"""CREATE MATERIALIZED VIEW rollup_1d WITH (timescaledb.continuous,
              timescaledb.materialized_only = false) AS
            SELECT meter_id, {tb} AS bucket,
                   sum(energy) AS energy, sum(n)::bigint AS n, min(value_min) AS value_min,
                   max(value_max) AS value_max, sum(value_sum) AS value_sum,
                   last(value_last, ts_last) AS value_last, max(ts_last) AS ts_last
            FROM rollup_15m GROUP BY meter_id, {tb}
            WITH NO DATA""",
        "SELECT add_continuous_aggregate_policy('rollup_1d', start_offset => NULL, "
        "end_offset => INTERVAL '1 day', schedule_interval => INTERVAL '1 hour')",
    ]


def _path() -> str | None:
    return (
        op.get_bind()
        .execute(sa.text("SELECT value FROM ecc_meta WHERE key = 'timeseries_path'"))
        .scalar()
    )


def upgrade() -> None:
    for stmt in DROP_DAY_VIEWS:
        op.execute(stmt)
    if _path() == "timescaledb":
        op.execute("DROP MATERIALIZED VIEW rollup_1d")  # its refresh policy goes with it
    else:
        op.execute("DROP TABLE rollup_1d")
    op.execute(ROLLUP_1D_VIEW)
    op.execute(_meter_view("15m"))
    op.execute(_site_view("15m"))
    op.execute(CARBON_1D_VIEW)
    op.execute(CARBON_SITE_1D_VIEW)
    op.execute("UPDATE ecc_meta SET key = 'legacy_day_timezone' WHERE key = 'day_timezone'")


def downgrade() -> None:
    bind = op.get_bind()
    tz = (
        bind.execute(
            sa.text("SELECT value FROM ecc_meta WHERE key = 'legacy_day_timezone'")
        ).scalar()
        or "UTC"
    )
    for stmt in (
        *DROP_DAY_VIEWS,
        "DROP VIEW IF EXISTS carbon_site_15m",
        "DROP VIEW IF EXISTS carbon_15m",
        "DROP VIEW IF EXISTS rollup_1d",
    ):
        op.execute(stmt)
    if _path() == "timescaledb":
        for stmt in _old_rollup_1d_cagg(tz):
            op.execute(stmt)
    else:
        op.execute(OLD_ROLLUP_1D_TABLE)
        bind.execute(sa.text(OLD_ROLLUP_1D_FILL), {"tz": tz})
    op.execute(_meter_view("1d"))
    op.execute(_site_view("1d"))
    op.execute("UPDATE ecc_meta SET key = 'day_timezone' WHERE key = 'legacy_day_timezone'")
