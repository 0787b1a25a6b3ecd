"""Energy cost and budgets: tariffs (versioned) with their TOU periods, site tariff assignments,
prices of other carriers, cost derivations, utility bills, budgets. Money is numeric.

Revision ID: 0006_cost
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006_cost"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
MONEY = sa.Numeric(18, 4)
PRICE = sa.Numeric(12, 6)


def _created() -> list[sa.Column]:
    return [
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
    ]


def upgrade() -> None:
    op.create_table(
        "tariff",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        sa.Column("template", sa.String(64)),
        sa.Column("flat_price_cny_per_kwh", PRICE),
        sa.Column("non_floating_cny_per_kwh", PRICE, nullable=False, server_default="0"),
        sa.Column("funds_cny_per_kwh", PRICE, nullable=False, server_default="0"),
        sa.Column("demand_basis", sa.String(16)),
        sa.Column("demand_price_cny", PRICE),
        sa.Column("contracted_kw", sa.Numeric(14, 3)),
        sa.Column("capacity_kva", sa.Numeric(14, 3)),
        sa.Column("power_factor_standard", sa.Numeric(3, 2)),
        sa.Column("source", sa.Text),
        *_created(),
        sa.UniqueConstraint("code", "version"),
        sa.CheckConstraint(
            "demand_basis IS NULL OR demand_basis IN ('max_demand', 'capacity')",
            name="demand_basis",
        ),
    )
    op.create_table(
        "tariff_energy_price",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "tariff_id",
            sa.Integer,
            sa.ForeignKey("tariff.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("hours", sa.ARRAY(sa.String(16)), nullable=False),
        sa.Column("months", sa.ARRAY(sa.SmallInteger), nullable=False),
        sa.Column("day_type", sa.String(16), nullable=False, server_default="all"),
        sa.Column("price_cny_per_kwh", PRICE, nullable=False),
        sa.Column("multiplier_to_flat", sa.Numeric(8, 4)),
        sa.Column("verification", sa.String(64)),
        sa.CheckConstraint(
            "period IN ('sharp', 'peak', 'flat', 'valley', 'deep_valley')",
            name="period",
        ),
        sa.CheckConstraint("day_type IN ('all', 'workday', 'non_workday')", name="day_type"),
    )
    op.create_table(
        "site_tariff",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "site_id", sa.Integer, sa.ForeignKey("site.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("tariff_code", sa.String(64), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        *_created(),
    )
    op.create_index("ix_site_tariff_site_id", "site_tariff", ["site_id"])
    op.create_table(
        "carrier_price",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id", ondelete="CASCADE")),
        sa.Column("carrier", sa.String(32), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("price_cny_per_unit", PRICE, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        sa.Column("source", sa.Text),
        *_created(),
    )
    op.create_table(
        "cost_derivation",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("body", JSONB, nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "utility_bill",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "site_id", sa.Integer, sa.ForeignKey("site.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("total_cny", MONEY, nullable=False),
        sa.Column("lines", JSONB, nullable=False),
        *_created(),
    )
    op.create_index("ix_utility_bill_site_id", "utility_bill", ["site_id"])
    op.create_table(
        "budget",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "site_id", sa.Integer, sa.ForeignKey("site.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("meter_id", sa.Integer, sa.ForeignKey("meter.id", ondelete="CASCADE")),
        sa.Column("quantity", sa.String(16), nullable=False),
        sa.Column("year", sa.SmallInteger, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("months", sa.ARRAY(MONEY), nullable=False),
        sa.Column("split", sa.String(16), nullable=False),
        *_created(),
        sa.CheckConstraint(
            "quantity IN ('electricity_kwh', 'energy_tce', 'co2_t', 'cost_cny')",
            name="quantity",
        ),
        sa.CheckConstraint("split IN ('even', 'last_year', 'months')", name="split"),
    )
    op.create_index("ix_budget_site_id", "budget", ["site_id"])


def downgrade() -> None:
    for table in (
        "budget",
        "utility_bill",
        "cost_derivation",
        "carrier_price",
        "site_tariff",
        "tariff_energy_price",
        "tariff",
    ):
        op.drop_table(table)
