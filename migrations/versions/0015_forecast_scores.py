"""Forecast tracking: each day's error of the forecasts each model made for each meter and
site, scored against what happened.

Revision ID: 0013_forecast_scores
Revises: 0013_alarm_types
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_forecast_scores"
down_revision = "0013_alarm_types"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "forecast_score",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("meter_id", sa.Integer, sa.ForeignKey("meter.id", ondelete="CASCADE")),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id", ondelete="CASCADE")),
        sa.Column("carrier", sa.String(32), nullable=False),
        sa.Column("quantity", sa.String(8), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("horizon_h", sa.Integer, nullable=False),
        sa.Column("model", sa.String(32), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("abs_error", sa.Double, nullable=False),
        sa.Column("abs_actual", sa.Double, nullable=False),
        sa.Column("naive_abs_error", sa.Double),
        sa.Column("naive_points", sa.Integer, nullable=False),
        sa.Column("inside_90", sa.Integer, nullable=False),
        sa.Column("scale", sa.Double),
        sa.Column("mae", sa.Double, nullable=False),
        sa.Column("mape", sa.Double),
        sa.Column("wape", sa.Double),
        sa.Column("mase", sa.Double),
        sa.Column("coverage_90", sa.Double, nullable=False),
        sa.Column("scored_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("(meter_id IS NULL) <> (site_id IS NULL)", name="one_subject"),
        sa.CheckConstraint("points > 0", name="points_positive"),
    )
    # one row per subject, lead, model and day (a meter's rows have no site and vice versa:
    # NULLs count as equal, PostgreSQL 15+)
    op.create_index(
        "uq_forecast_score_day",
        "forecast_score",
        ["meter_id", "site_id", "carrier", "quantity", "horizon_h", "model", "day"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_index(
        "ix_forecast_score_site", "forecast_score", ["site_id", "carrier", "quantity", "day"]
    )


def downgrade() -> None:
    op.drop_index("ix_forecast_score_site", table_name="forecast_score")
    op.drop_index("uq_forecast_score_day", table_name="forecast_score")
    op.drop_table("forecast_score")
