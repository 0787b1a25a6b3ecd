"""Carbon accounting: factor library (seeded from carbon/data), boundary mapping, activity,
production, green certificates, calculation versions, derivations, carbon rollup views.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from carbon import library
from carbon import timeseries as carbon_sql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


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
    for stmt in carbon_sql.VIEWS:
        op.execute(stmt)

    bind = op.get_bind()
    library.sync(bind, actor="migration 0002")
    watermark = bind.execute(sa.text("SELECT coalesce(max(id), 0) FROM carbon_factor")).scalar()
    bind.execute(
        sa.text(
            "INSERT INTO carbon_calc_version (version, factor_watermark, created_by, reason) "
            "VALUES (1, :w, 'migration 0002', :r)"
        ),
        {"w": watermark, "r": f"factor library {library.library_version()} as shipped"},
    )


def downgrade() -> None:
    for stmt in carbon_sql.DROP_VIEWS:
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
