"""Benchmarking: own benchmark levels, processes and their meters, the equipment register and
recommendations.

Revision ID: 0010_benchmarking
Revises: 0005_collectors
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_benchmarking"
down_revision = "0005_collectors"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _stamp() -> list[sa.Column]:
    return [
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.String(100), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "benchmark",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("sector", sa.String(100), nullable=False),
        sa.Column("product_or_process", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("level_1", sa.Double),
        sa.Column("level_2", sa.Double),
        sa.Column("level_3", sa.Double),
        sa.Column("benchmark", sa.Double),
        sa.Column("baseline", sa.Double),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("verification", sa.String(64), nullable=False),
        *_stamp(),
    )
    op.create_table(
        "process",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False, index=True),
        sa.Column("product", sa.String(100), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("benchmark", sa.String(100)),
        sa.Column("corrections", sa.JSON),
        *_stamp(),
    )
    op.create_table(
        "process_meter",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "process_id",
            sa.Integer,
            sa.ForeignKey("process.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("meter_id", sa.Integer, sa.ForeignKey("meter.id"), nullable=False, index=True),
        sa.UniqueConstraint("process_id", "meter_id"),
    )
    op.create_table(
        "equipment",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("rated_kw", sa.Double, nullable=False),
        sa.Column("grade", sa.Integer),
        sa.Column("standard", sa.String(32), nullable=False),
        sa.Column("meter_id", sa.Integer, sa.ForeignKey("meter.id")),
        sa.Column("efficiency_pct", sa.Double),
        sa.Column("grade_1_efficiency_pct", sa.Double),
        sa.Column("no_load_loss_kw", sa.Double),
        sa.Column("load_loss_kw", sa.Double),
        sa.Column("replacement_cost_cny", sa.Numeric(14, 2)),
        sa.Column("shiftable", sa.Boolean, nullable=False, server_default=sa.false()),
        *_stamp(),
        sa.CheckConstraint("rated_kw > 0", name="rated_positive"),
        sa.CheckConstraint("grade IS NULL OR grade BETWEEN 1 AND 3", name="grade_range"),
    )
    op.create_table(
        "recommendation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("title_zh", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("savings_kwh_per_year", sa.Double, nullable=False),
        sa.Column("savings_cny_per_year", sa.Numeric(14, 2), nullable=False),
        sa.Column("savings_tco2_per_year", sa.Double, nullable=False),
        sa.Column("confidence", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("reason", sa.Text),
        sa.Column("done_at", TZ),
        sa.Column("history", sa.JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("site_id", "kind", "subject"),
        sa.CheckConstraint(
            "status IN ('open', 'accepted', 'done', 'dismissed')", name="status_known"
        ),
    )


def downgrade() -> None:
    for table in ("recommendation", "equipment", "process_meter", "process", "benchmark"):
        op.drop_table(table)
