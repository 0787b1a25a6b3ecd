"""Carbon assets: the ledger of certificates, credits and allowances with an append-only
transaction history, own reductions, verified ETS emissions and zero-carbon thresholds.

Revision ID: 0009_assets
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_assets"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
QTY = sa.Numeric(20, 6)

APPEND_ONLY_FN = """
CREATE FUNCTION ecc_asset_txn_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "carbon_asset",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("serial", sa.String(128)),
        sa.Column("serial_from", sa.String(64)),
        sa.Column("serial_to", sa.String(64)),
        sa.Column("quantity", QTY, nullable=False),
        sa.Column("used_quantity", QTY, nullable=False, server_default="0"),
        sa.Column("unit", sa.String(8), nullable=False),
        sa.Column("vintage", sa.Date, nullable=False),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False),
        sa.Column("registry", sa.String(200)),
        sa.Column("project", sa.String(200)),
        sa.Column("evidence", sa.Text),
        sa.Column("valid_until", TZ),
        sa.Column("status", sa.String(16), nullable=False, server_default="held"),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint(
            "used_quantity >= 0 AND used_quantity <= quantity", name="used_in_range"
        ),
        sa.CheckConstraint(
            "kind IN ('gec', 'green_power_contract', 'ccer', 'chs', 'allowance', 'other')",
            name="kind",
        ),
        sa.CheckConstraint("unit IN ('MWh', 'tCO2e', 't')", name="unit"),
        sa.CheckConstraint(
            "status IN ('held', 'retired', 'surrendered', 'transferred', 'expired')",
            name="status",
        ),
    )
    op.create_index("ix_carbon_asset_site_id", "carbon_asset", ["site_id"])
    op.create_index("ix_carbon_asset_project", "carbon_asset", ["project"])
    # A serial exists once per kind: the registry's unique code.
    op.execute(
        "CREATE UNIQUE INDEX uq_carbon_asset_serial ON carbon_asset (kind, serial) "
        "WHERE serial IS NOT NULL"
    )
    op.create_table(
        "carbon_asset_txn",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("asset_id", sa.Integer, sa.ForeignKey("carbon_asset.id"), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("quantity", QTY, nullable=False),
        sa.Column("purpose", sa.String(24)),
        sa.Column("period_start", TZ),
        sa.Column("period_end", TZ),
        sa.Column("counterparty", sa.String(200)),
        sa.Column("certificate_id", sa.Integer, sa.ForeignKey("carbon_certificate.id")),
        sa.Column("note", sa.Text),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.CheckConstraint(
            "action IN ('issue', 'retire', 'surrender', 'transfer', 'expire')", name="action"
        ),
        sa.CheckConstraint("quantity >= 0", name="quantity_non_negative"),
    )
    op.create_index("ix_carbon_asset_txn_asset_id", "carbon_asset_txn", ["asset_id"])
    op.execute(APPEND_ONLY_FN)
    op.execute(
        "CREATE TRIGGER carbon_asset_txn_append_only BEFORE UPDATE OR DELETE ON carbon_asset_txn "
        "FOR EACH ROW EXECUTE FUNCTION ecc_asset_txn_append_only()"
    )
    op.execute(
        "CREATE TRIGGER carbon_asset_txn_no_truncate BEFORE TRUNCATE ON carbon_asset_txn "
        "FOR EACH STATEMENT EXECUTE FUNCTION ecc_asset_txn_append_only()"
    )
    op.create_table(
        "carbon_reduction",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False),
        sa.Column("year", sa.SmallInteger, nullable=False),
        sa.Column("baseline_year", sa.SmallInteger, nullable=False),
        sa.Column("measure", sa.Text, nullable=False),
        sa.Column("tco2", QTY, nullable=False),
        sa.Column("evidence", sa.Text),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.CheckConstraint("tco2 >= 0", name="tco2_non_negative"),
    )
    op.create_index("ix_carbon_reduction_site_id", "carbon_reduction", ["site_id"])
    op.create_table(
        "ets_verification",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False),
        sa.Column("year", sa.SmallInteger, nullable=False),
        sa.Column("verified_tco2", QTY, nullable=False),
        sa.Column("surrender_due", sa.Date, nullable=False),
        sa.Column("verifier", sa.String(200)),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.CheckConstraint("verified_tco2 >= 0", name="verified_non_negative"),
    )
    op.create_index("ix_ets_verification_site_id", "ets_verification", ["site_id"])
    op.create_table(
        "zero_carbon_threshold",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False),
        sa.Column("indicator", sa.String(64), nullable=False),
        sa.Column("comparison", sa.String(2), nullable=False),
        sa.Column("threshold", sa.Numeric(20, 6), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.CheckConstraint("comparison IN ('<=', '>=')", name="comparison"),
    )
    op.create_index("ix_zero_carbon_threshold_site_id", "zero_carbon_threshold", ["site_id"])


def downgrade() -> None:
    for table in (
        "zero_carbon_threshold",
        "ets_verification",
        "carbon_reduction",
        "carbon_asset_txn",
        "carbon_asset",
    ):
        op.drop_table(table)
    op.execute("DROP FUNCTION ecc_asset_txn_append_only()")
