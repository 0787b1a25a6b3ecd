"""Hardening: per-meter plausibility limits, voided readings kept with who/when/why.

Revision ID: 0006_hardening
Revises: 0006_cost
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_hardening"
down_revision = "0006_cost"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    for name in ("max_value", "max_interval_quantity", "max_counter_step"):
        op.add_column("meter", sa.Column(name, sa.Double(), nullable=True))
        op.create_check_constraint(op.f(f"ck_meter_{name}_positive"), "meter", f"{name} > 0")
    op.create_check_constraint(
        op.f("ck_meter_multiplier_finite"), "meter", "multiplier < 'Infinity'::float8"
    )
    # A voided reading leaves ``reading`` (so every rollup, total, carbon figure and report
    # leaves it out) and is kept here, whole, with who voided it, when and why.
    op.create_table(
        "reading_void",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("meter_id", sa.Integer(), sa.ForeignKey("meter.id"), nullable=False),
        sa.Column("ts", TZ, nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("energy", sa.Double(), nullable=True),
        sa.Column("received_at", TZ, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("voided_by", sa.String(100), nullable=True),
        sa.Column("voided_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("length(reason) > 0", name="reason_given"),
    )
    op.create_index("ix_reading_void_meter_ts", "reading_void", ["meter_id", "ts"])


def downgrade() -> None:
    op.drop_index("ix_reading_void_meter_ts", table_name="reading_void")
    op.drop_table("reading_void")
    op.drop_constraint(op.f("ck_meter_multiplier_finite"), "meter", type_="check")
    for name in ("max_value", "max_interval_quantity", "max_counter_step"):
        op.drop_constraint(op.f(f"ck_meter_{name}_positive"), "meter", type_="check")
        op.drop_column("meter", name)
