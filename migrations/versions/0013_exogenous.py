"""Exogenous inputs of the forecasts (series per site, issues versioned by ``issued_at``, their
points) and, on forecast runs, the insert-once run key and the inputs a run used.

Revision ID: 0013_exogenous
Revises: 0010_benchmarking
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0013_exogenous"
down_revision = "0010_benchmarking"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "exog_series",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "site_id",
            sa.Integer,
            sa.ForeignKey("site.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.UniqueConstraint("site_id", "code"),
    )
    op.create_table(
        "exog_issue",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "series_id",
            sa.Integer,
            sa.ForeignKey("exog_series.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("issued_at", TZ, nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("first_ts", TZ, nullable=False),
        sa.Column("last_ts", TZ, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.UniqueConstraint("series_id", "issued_at"),
    )
    op.create_table(
        "exog_point",
        sa.Column(
            "issue_id",
            sa.BigInteger,
            sa.ForeignKey("exog_issue.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("ts", TZ, nullable=False),
        sa.Column("value", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("issue_id", "ts"),
    )
    op.add_column("forecast_run", sa.Column("run_key", sa.String(160)))
    op.add_column("forecast_run", sa.Column("inputs", JSONB))
    op.create_unique_constraint("uq_forecast_run_run_key", "forecast_run", ["run_key"])


def downgrade() -> None:
    op.drop_constraint("uq_forecast_run_run_key", "forecast_run", type_="unique")
    op.drop_column("forecast_run", "inputs")
    op.drop_column("forecast_run", "run_key")
    op.drop_table("exog_point")
    op.drop_table("exog_issue")
    op.drop_table("exog_series")
