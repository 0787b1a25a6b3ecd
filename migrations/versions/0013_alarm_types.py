"""Alarm types node_loss and ets_deadline; the carbon-asset serial overlap check as one
indexed query (sortable range keys).

Revision ID: 0013_alarm_types
Revises: 0010_benchmarking
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_alarm_types"
down_revision = "0010_benchmarking"
branch_labels = None
depends_on = None

OLD_TYPES = ("threshold", "rate", "stale", "demand", "idle", "forecast_deviation", "budget")
TYPES = (*OLD_TYPES, "node_loss", "ets_deadline")

# The sortable key of a serial (the same rule as ``assets.ledger.serial_key``, written out:
# versions import nothing of the house): digit strings by length then digits, others below.
KEY = (
    "CASE WHEN {c} IS NULL THEN NULL WHEN btrim({c}) ~ '^[0-9]+$' "
    "THEN '1' || lpad(length(btrim({c}))::text, 4, '0') || ':' || btrim({c}) "
    "ELSE '0:' || btrim({c}) END"
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_alarm_rule_type"), "alarm_rule", type_="check")
    op.create_check_constraint(op.f("ck_alarm_rule_type"), "alarm_rule", _in("type", TYPES))
    for column in ("serial_lo_key", "serial_hi_key"):
        op.add_column("carbon_asset", sa.Column(column, sa.String(160, collation="C")))
    lo = KEY.format(c="coalesce(serial, serial_from)")
    hi = KEY.format(c="coalesce(serial, serial_to)")
    op.execute(
        f"UPDATE carbon_asset SET serial_lo_key = {lo}, serial_hi_key = {hi} "
        "WHERE serial IS NOT NULL OR (serial_from IS NOT NULL AND serial_to IS NOT NULL)"
    )
    op.create_index(
        "ix_carbon_asset_serial_range",
        "carbon_asset",
        ["kind", "serial_hi_key", "serial_lo_key"],
    )


def downgrade() -> None:
    op.drop_index("ix_carbon_asset_serial_range", table_name="carbon_asset")
    for column in ("serial_hi_key", "serial_lo_key"):
        op.drop_column("carbon_asset", column)
    op.execute(f"DELETE FROM alarm_rule WHERE NOT ({_in('type', OLD_TYPES)})")
    op.drop_constraint(op.f("ck_alarm_rule_type"), "alarm_rule", type_="check")
    op.create_check_constraint(op.f("ck_alarm_rule_type"), "alarm_rule", _in("type", OLD_TYPES))
