"""Forecasting: forecast runs (model, parameters, training window, backtest scores) and their
points.

Revision ID: 0003
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "forecast_run",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("meter_id", sa.Integer, sa.ForeignKey("meter.id", ondelete="CASCADE")),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id", ondelete="CASCADE")),
        sa.Column("carrier", sa.String(32), nullable=False),
        sa.Column("quantity", sa.String(8), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("resolution_s", sa.Integer, nullable=False),
        sa.Column("purpose", sa.String(8), nullable=False),
        sa.Column("model", sa.String(32), nullable=False),
        sa.Column("params", JSONB, nullable=False),
        sa.Column("train_start", TZ, nullable=False),
        sa.Column("train_end", TZ, nullable=False),
        sa.Column("horizon_steps", sa.Integer, nullable=False),
        sa.Column("scores", JSONB),
        sa.Column("fit_s", sa.Double, nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("(meter_id IS NULL) <> (site_id IS NULL)", name="one_subject"),
        sa.CheckConstraint("quantity IN ('energy', 'load')", name="quantity"),
        sa.CheckConstraint("purpose IN ('nightly', 'refresh')", name="purpose"),
    )
    op.create_index(
        "ix_forecast_run_meter_latest", "forecast_run", ["meter_id", "quantity", "created_at"]
    )
    op.create_index(
        "ix_forecast_run_site_latest",
        "forecast_run",
        ["site_id", "carrier", "quantity", "created_at"],
    )
    op.create_table(
        "forecast_point",
        sa.Column(
            "run_id",
            sa.BigInteger,
            sa.ForeignKey("forecast_run.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("ts", TZ, nullable=False),
        sa.Column("yhat", sa.Double, nullable=False),
        sa.Column("q05", sa.Double, nullable=False),
        sa.Column("q25", sa.Double, nullable=False),
        sa.Column("q75", sa.Double, nullable=False),
        sa.Column("q95", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "ts"),
    )


def downgrade() -> None:
    op.drop_table("forecast_point")
    op.drop_index("ix_forecast_run_site_latest", table_name="forecast_run")
    op.drop_index("ix_forecast_run_meter_latest", table_name="forecast_run")
    op.drop_table("forecast_run")
