"""Alarm types node_loss and ets_deadline; the carbon-asset serial overlap check as one
indexed query (sortable range keys); tariff event days (day_type ``event`` and the calendar of
event days per tariff code).

Revision ID: 0013_alarm_types
Revises: 0013_exogenous
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_alarm_types"
down_revision = "0013_exogenous"
branch_labels = None
depends_on = None

OLD_TYPES = ("threshold", "rate", "stale", "demand", "idle", "forecast_deviation", "budget")
TYPES = (*OLD_TYPES, "node_loss", "ets_deadline")
OLD_DAY_TYPES = ("all", "workday", "non_workday")
DAY_TYPES = (*OLD_DAY_TYPES, "event")
TZ = sa.DateTime(timezone=True)

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
    op.drop_constraint(op.f("ck_tariff_energy_price_day_type"), "tariff_energy_price", "check")
    op.create_check_constraint(
        op.f("ck_tariff_energy_price_day_type"), "tariff_energy_price", _in("day_type", DAY_TYPES)
    )
    op.create_table(
        "tariff_event_day",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tariff_code", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("tariff_code", "day"),
        sa.CheckConstraint("kind IN ('heat', 'holiday', 'other')", name="kind"),
    )


def downgrade() -> None:
    op.drop_table("tariff_event_day")
    op.execute(f"DELETE FROM tariff_energy_price WHERE NOT ({_in('day_type', OLD_DAY_TYPES)})")
    op.drop_constraint(op.f("ck_tariff_energy_price_day_type"), "tariff_energy_price", "check")
    op.create_check_constraint(
        op.f("ck_tariff_energy_price_day_type"),
        "tariff_energy_price",
        _in("day_type", OLD_DAY_TYPES),
    )
    op.drop_index("ix_carbon_asset_serial_range", table_name="carbon_asset")
    for column in ("serial_hi_key", "serial_lo_key"):
        op.drop_column("carbon_asset", column)
    op.execute(f"DELETE FROM alarm_rule WHERE NOT ({_in('type', OLD_TYPES)})")
    op.drop_constraint(op.f("ck_alarm_rule_type"), "alarm_rule", type_="check")
    op.create_check_constraint(op.f("ck_alarm_rule_type"), "alarm_rule", _in("type", OLD_TYPES))
