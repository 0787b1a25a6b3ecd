"""Carbon accounting: factor library tables, boundary mapping, activity, production, green
certificates, calculation versions, derivations, carbon rollup views.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

History: this file imports nothing of the house. The shipped factor library is data, not
schema: ``ecc db upgrade`` (``migrations.runner.upgrade``) loads it after the schema with
``carbon.library.load_shipped`` (idempotent), which also opens calculation version 1. The view
SQL below is the SQL this revision shipped with, frozen here.

SQL of the carbon rollups: the same views on both database paths.

``carbon_1h`` / ``carbon_1d`` (per meter) and ``carbon_site_1h`` / ``carbon_site_1d`` (per site,
boundary meters of the site and its descendants, sub-meters not counted twice) multiply the
energy rollups (``rollup_1h``/``rollup_1d``: TimescaleDB continuous aggregates, or tables kept by
``metering.rollups`` on plain PostgreSQL) by the factor each meter uses in each period
under each calculation version (``carbon_assignment``). History is never recomputed from
readings: a wall-screen query reads at most one row per meter and bucket from an energy rollup,
and a recalculation only adds assignment rows for a new version, so the figures of every
version stay retrievable (``WHERE version = …``).

Why views and not continuous aggregates: a continuous aggregate that joins the factor table
would freeze each bucket with the factor in force when it was materialised, so a new factor
would mix silently into some buckets and not others, and a version could not be retrieved
afterwards; a join at read time over the pre-aggregated energy is exact, cheap and identical
on both paths. Buckets follow the energy rollups: ``(start, start + width]`` labelled
``start + 1 µs``; an assignment period ``[valid_from, valid_to)`` holds a bucket when
``valid_from < bucket <= valid_to``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)

# --- Carbon rollup views as they stood at this revision (frozen) ----------------------------

SITE_METER_VIEW = """
CREATE VIEW carbon_site_meter AS
WITH RECURSIVE tree(ancestor_id, site_id) AS (
  SELECT id, id FROM site
  UNION ALL
  SELECT t.ancestor_id, s.id FROM tree t JOIN site s ON s.parent_id = t.site_id
)
SELECT t.ancestor_id AS site_id, m.id AS meter_id
FROM tree t JOIN meter m ON m.site_id = t.site_id
WHERE m.kind <> 'gauge'
  AND NOT EXISTS (
    SELECT 1 FROM meter p JOIN tree t2 ON t2.site_id = p.site_id
    WHERE p.id = m.parent_id AND t2.ancestor_id = t.ancestor_id)
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


VIEWS = [SITE_METER_VIEW, _meter_view("1h"), _meter_view("1d"), _site_view("1h"), _site_view("1d")]
DROP_VIEWS = [
    "DROP VIEW IF EXISTS carbon_site_1d",
    "DROP VIEW IF EXISTS carbon_site_1h",
    "DROP VIEW IF EXISTS carbon_1d",
    "DROP VIEW IF EXISTS carbon_1h",
    "DROP VIEW IF EXISTS carbon_site_meter",
]


def _created() -> list[sa.Column]:
    return [
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.String(100), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "carbon_factor",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(120), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("carrier", sa.String(64), nullable=False, index=True),
        sa.Column("variant", sa.String(32), nullable=False),
        sa.Column("gas", sa.String(32)),
        sa.Column("region", sa.String(64)),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), index=True),
        sa.Column("valid_from", sa.Date),
        sa.Column("valid_to", sa.Date),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("params", JSONB),
        sa.Column("published_on", sa.Date),
        sa.Column("source_document", sa.Text, nullable=False),
        sa.Column("source_url", sa.Text),
        sa.Column("verification", sa.Text),
        sa.Column("notes", sa.Text),
        sa.Column("library_version", sa.String(32), nullable=False),
        sa.Column("supersedes_id", sa.Integer, sa.ForeignKey("carbon_factor.id")),
        *_created(),
        sa.CheckConstraint("kind IN ('emission', 'tce', 'gwp', 'ncv')", name="kind"),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from", name="valid_period"
        ),
    )
    op.create_table(
        "carbon_factor_log",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "factor_id", sa.Integer, sa.ForeignKey("carbon_factor.id"), nullable=False, index=True
        ),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("old_value", sa.Double),
        sa.Column("new_value", sa.Double, nullable=False),
        sa.Column("detail", sa.Text),
    )
    op.create_table(
        "carbon_meter_source",
        sa.Column("meter_id", sa.Integer, sa.ForeignKey("meter.id"), primary_key=True),
        sa.Column("scope", sa.SmallInteger),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("fuel", sa.String(64)),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.CheckConstraint("scope IS NULL OR scope IN (1, 2)", name="scope"),
    )
    op.create_table(
        "carbon_meter_source_log",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("meter_id", sa.Integer, sa.ForeignKey("meter.id"), nullable=False, index=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("old", JSONB),
        sa.Column("new", JSONB, nullable=False),
    )
    op.create_table(
        "carbon_activity",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False, index=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("scope", sa.SmallInteger),
        sa.Column("carrier", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Double, nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("period_start", TZ, nullable=False),
        sa.Column("period_end", TZ, nullable=False),
        sa.Column("evidence", sa.Text),
        *_created(),
        sa.CheckConstraint("quantity >= 0", name="quantity_nonnegative"),
        sa.CheckConstraint("period_end > period_start", name="period"),
    )
    op.create_table(
        "carbon_production",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False, index=True),
        sa.Column("product", sa.String(100), nullable=False),
        sa.Column("quantity", sa.Double, nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("period_start", TZ, nullable=False),
        sa.Column("period_end", TZ, nullable=False),
        sa.Column("output_value_cny", sa.Numeric(18, 2)),
        *_created(),
        sa.CheckConstraint("quantity >= 0", name="quantity_nonnegative"),
        sa.CheckConstraint("period_end > period_start", name="period"),
    )
    op.create_table(
        "carbon_certificate",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("serial", sa.String(128), nullable=False, unique=True),
        sa.Column("mwh", sa.Double, nullable=False),
        sa.Column("vintage", sa.Date, nullable=False),
        sa.Column("instrument", sa.String(16), nullable=False),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False, index=True),
        sa.Column("retired_for_start", TZ, nullable=False),
        sa.Column("retired_for_end", TZ, nullable=False),
        *_created(),
        sa.CheckConstraint("mwh > 0", name="mwh_positive"),
        sa.CheckConstraint("retired_for_end > retired_for_start", name="period"),
    )
    op.create_table(
        "carbon_calc_version",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("factor_watermark", sa.Integer, nullable=False),
        *_created(),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("summary", JSONB),
    )
    op.create_table(
        "carbon_assignment",
        sa.Column(
            "version", sa.Integer, sa.ForeignKey("carbon_calc_version.version"), nullable=False
        ),
        sa.Column("meter_id", sa.Integer, sa.ForeignKey("meter.id"), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("valid_from", TZ, nullable=False),
        sa.Column("valid_to", TZ, nullable=False),
        sa.Column("scope", sa.SmallInteger),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("factor_id", sa.Integer, sa.ForeignKey("carbon_factor.id")),
        sa.Column("coef", sa.Double),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("version", "meter_id", "purpose", "valid_from"),
    )
    op.create_table(
        "carbon_assignment_state",
        sa.Column(
            "version", sa.Integer, sa.ForeignKey("carbon_calc_version.version"), nullable=False
        ),
        sa.Column("meter_id", sa.Integer, sa.ForeignKey("meter.id"), nullable=False),
        sa.Column("context", sa.String(64), nullable=False),
        sa.Column("scope", sa.SmallInteger),
        sa.Column("source", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("version", "meter_id"),
    )
    op.create_table(
        "carbon_derivation",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("body", JSONB, nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
    )
    for stmt in VIEWS:
        op.execute(stmt)


def downgrade() -> None:
    for stmt in DROP_VIEWS:
        op.execute(stmt)
    for table in (
        "carbon_derivation",
        "carbon_assignment_state",
        "carbon_assignment",
        "carbon_calc_version",
        "carbon_certificate",
        "carbon_production",
        "carbon_activity",
        "carbon_meter_source_log",
        "carbon_meter_source",
        "carbon_factor_log",
        "carbon_factor",
    ):
        op.drop_table(table)
