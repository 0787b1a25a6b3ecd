"""Backbone: sites, meters, readings, API keys, rollups on TimescaleDB or plain PostgreSQL.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from migrations import timeseries

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _timezone() -> str:
    from zoneinfo import ZoneInfo

    from core.settings import get_settings

    tz = get_settings().timezone
    ZoneInfo(tz)  # fail early on a misspelt zone
    return tz


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
    op.execute(timeseries.COMMON_FUNCTIONS)

    bind = op.get_bind()
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
    ).scalar()
    tz = _timezone()
    if available:
        for stmt in timeseries.timescale_sql(tz):
            op.execute(stmt)
        path = "timescaledb"
    else:
        op.execute(timeseries.plain_tables_sql())
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
        for stmt in timeseries.timescale_drop_sql():
            op.execute(stmt)
    else:
        op.execute(timeseries.plain_drop_sql())
    op.execute(timeseries.DROP_COMMON_FUNCTIONS)
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
