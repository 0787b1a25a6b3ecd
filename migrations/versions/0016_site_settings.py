"""Each site's own settings: its contracted maximum demand (kW, drawn on its wall and the
default limit of its demand alarm rules) and the KPI tiles of its wall.

Revision ID: 0013_site_settings
Revises: 0013_forecast_scores
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_site_settings"
down_revision = "0013_forecast_scores"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE: the same on PostgreSQL and TimescaleDB (site is an ordinary table)
    op.add_column("site", sa.Column("contracted_demand_kw", sa.Double))
    op.add_column("site", sa.Column("wall_tiles", sa.ARRAY(sa.String(64))))
    op.create_check_constraint(
        op.f("ck_site_contracted_demand_positive"), "site", "contracted_demand_kw > 0"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_site_contracted_demand_positive"), "site", type_="check")
    op.drop_column("site", "wall_tiles")
    op.drop_column("site", "contracted_demand_kw")
