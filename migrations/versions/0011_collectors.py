"""Field collectors: the points each collector reads and its last health report.

Revision ID: 0005_collectors
Revises: 0010_footprints
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005_collectors"
down_revision = "0010_footprints"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "collector_point",
        sa.Column("collector", sa.String(100), primary_key=True),
        sa.Column("device", sa.String(100), primary_key=True),
        sa.Column("meter_code", sa.String(64), primary_key=True),
        sa.Column("protocol", sa.String(32), nullable=False),
        sa.Column("poll_s", sa.Double, nullable=False),
        sa.Column("online", sa.Boolean, nullable=False),
        sa.Column("last_good", TZ),
        sa.Column("reads", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("errors", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("report_every_s", sa.Double, nullable=False),
        sa.Column("reported_at", TZ, nullable=False),
    )
    op.create_index("ix_collector_point_meter", "collector_point", ["meter_code"])


def downgrade() -> None:
    op.drop_index("ix_collector_point_meter", table_name="collector_point")
    op.drop_table("collector_point")
