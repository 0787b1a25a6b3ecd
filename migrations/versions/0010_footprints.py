"""Product carbon footprints and supply chain: products, BOM versions and items, product
meters, suppliers, material/transport factors, supplier data requests, footprint versions.

Revision ID: 0010_footprints
Revises: 0005_accounts
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010_footprints"
down_revision = "0005_accounts"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
QTY = sa.Numeric(24, 9)


def _created() -> list[sa.Column]:
    return [
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.String(100), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "supplier",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("contact", sa.String(200)),
        sa.Column("country", sa.String(2)),
        *_created(),
    )
    op.create_table(
        "product",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("mass_kg_per_unit", QTY),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), index=True),
        sa.Column("cpc", sa.String(32)),
        sa.Column("allocation", sa.String(16), nullable=False, server_default="mass"),
        sa.Column("electricity_factor_kgco2e_per_kwh", QTY),
        sa.Column("electricity_factor_source", sa.Text),
        *_created(),
        sa.CheckConstraint("allocation IN ('mass', 'economic')", name="allocation"),
        sa.CheckConstraint(
            "mass_kg_per_unit IS NULL OR mass_kg_per_unit > 0", name="mass_positive"
        ),
    )
    op.create_table(
        "product_bom",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "product_id", sa.Integer, sa.ForeignKey("product.id"), nullable=False, index=True
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("transport", JSONB, nullable=False, server_default="[]"),
        sa.Column("process_kgco2e_per_unit", QTY),
        sa.Column("process_source", sa.Text),
        *_created(),
        sa.UniqueConstraint("product_id", "version"),
    )
    op.create_table(
        "product_bom_item",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "bom_id", sa.Integer, sa.ForeignKey("product_bom.id"), nullable=False, index=True
        ),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("material", sa.String(120), nullable=False),
        sa.Column("quantity", QTY, nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False, server_default="raw_materials"),
        sa.Column("supplier_id", sa.Integer, sa.ForeignKey("supplier.id")),
        sa.Column("factor_kgco2e_per_unit", QTY),
        sa.Column("factor_source", sa.Text),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("stage IN ('raw_materials', 'packaging')", name="stage"),
    )
    op.create_table(
        "product_meter",
        sa.Column("product_id", sa.Integer, sa.ForeignKey("product.id"), primary_key=True),
        sa.Column("meter_id", sa.Integer, sa.ForeignKey("meter.id"), primary_key=True, index=True),
    )
    op.create_table(
        "material_factor",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("material", sa.String(120), nullable=False, index=True),
        sa.Column("supplier_id", sa.Integer, sa.ForeignKey("supplier.id"), index=True),
        sa.Column("value", QTY, nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("data_type", sa.String(16), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("boundary", sa.Text),
        sa.Column("standard", sa.Text),
        sa.Column("verification", sa.Text),
        sa.Column("evidence", sa.Text),
        sa.Column("primary_data_share", sa.Numeric(7, 4)),
        sa.Column("valid_from", sa.Date),
        sa.Column("valid_to", sa.Date),
        sa.Column("pact", JSONB),
        *_created(),
        sa.CheckConstraint("value >= 0", name="value_nonnegative"),
        sa.CheckConstraint("data_type IN ('primary', 'secondary')", name="data_type"),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from", name="valid_period"
        ),
    )
    op.create_table(
        "supplier_request",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "supplier_id", sa.Integer, sa.ForeignKey("supplier.id"), nullable=False, index=True
        ),
        sa.Column("material", sa.String(120), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="requested"),
        sa.Column("due", sa.Date),
        sa.Column("factor_id", sa.Integer, sa.ForeignKey("material_factor.id")),
        sa.Column("history", JSONB, nullable=False, server_default="[]"),
        *_created(),
        sa.CheckConstraint(
            "status IN ('requested', 'received', 'verified', 'expired')", name="status"
        ),
    )
    op.create_table(
        "footprint_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "product_id", sa.Integer, sa.ForeignKey("product.id"), nullable=False, index=True
        ),
        sa.Column("period_start", TZ, nullable=False),
        sa.Column("period_end", TZ, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("derivation_hash", sa.String(64), nullable=False),
        sa.Column("kgco2e_per_unit", QTY, nullable=False),
        sa.Column("result", JSONB, nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("product_id", "period_start", "period_end", "version"),
    )


def downgrade() -> None:
    for table in (
        "footprint_version",
        "supplier_request",
        "material_factor",
        "product_meter",
        "product_bom_item",
        "product_bom",
        "product",
        "supplier",
    ):
        op.drop_table(table)
