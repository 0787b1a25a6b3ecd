"""Alarms: rules, alarm points (ISA-18.2 state), append-only transition history, notification
outbox, flood-protection buckets.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
RULE_TYPES = ("threshold", "rate", "stale", "demand", "idle", "forecast_deviation", "budget")
PRIORITIES = ("critical", "high", "medium", "low")
STATES = (
    "normal",
    "active_unacknowledged",
    "active_acknowledged",
    "returned_unacknowledged",
    "shelved",
    "suppressed",
    "out_of_service",
)

# History is never rewritten: UPDATE, DELETE and TRUNCATE are refused unless a maintenance
# transaction says ``SET LOCAL ecc.alarm_history_purge = 'on'`` (retention, benchmark cleanup).
APPEND_ONLY_FN = """
CREATE FUNCTION ecc_alarm_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('ecc.alarm_history_purge', true), '') = 'on' THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$
"""
APPEND_ONLY_TABLES = ("alarm_event", "alarm_rule_log")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "alarm_rule",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(24), nullable=False),
        sa.Column("meter_id", sa.Integer, sa.ForeignKey("meter.id"), index=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), index=True),
        sa.Column("high", sa.Double),
        sa.Column("low", sa.Double),
        sa.Column("high_high", sa.Double),
        sa.Column("low_low", sa.Double),
        sa.Column("deadband", sa.Double, nullable=False, server_default="0"),
        sa.Column("on_delay_s", sa.Double, nullable=False, server_default="0"),
        sa.Column("off_delay_s", sa.Double, nullable=False, server_default="0"),
        sa.Column("unit", sa.String(16)),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("params", JSONB, nullable=False, server_default="{}"),
        sa.Column("schedule", JSONB),
        sa.Column("parent_rule_id", sa.Integer, sa.ForeignKey("alarm_rule.id"), index=True),
        sa.Column("webhook_url", sa.Text),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("deleted_at", TZ),
        sa.Column("deleted_by", sa.String(100)),
        sa.CheckConstraint(_in("type", RULE_TYPES), name="type"),
        sa.CheckConstraint(_in("priority", PRIORITIES), name="priority"),
        sa.CheckConstraint("num_nonnulls(meter_id, site_id) = 1", name="meter_or_site"),
        sa.CheckConstraint(
            "deadband >= 0 AND on_delay_s >= 0 AND off_delay_s >= 0", name="non_negative"
        ),
    )
    op.create_index(
        "uq_alarm_rule_live_name",
        "alarm_rule",
        ["name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "alarm_rule_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "rule_id", sa.Integer, sa.ForeignKey("alarm_rule.id"), nullable=False, index=True
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("user_name", sa.String(100), nullable=False),
        sa.Column("snapshot", JSONB, nullable=False),
    )
    op.create_table(
        "alarm",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rule_id", sa.Integer, sa.ForeignKey("alarm_rule.id"), nullable=False),
        sa.Column("condition", sa.String(16), nullable=False),
        sa.Column("state", sa.String(24), nullable=False, server_default="normal"),
        sa.Column("condition_active", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("acked", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("shelved_until", TZ),
        sa.Column("suppressed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("out_of_service", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("activation_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("activated_at", TZ),
        sa.Column("cleared_at", TZ),
        sa.Column("acked_at", TZ),
        sa.Column("acked_by", sa.String(100)),
        sa.Column("trigger_value", sa.Double),
        sa.Column("trigger_ts", TZ),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("eval_ts", TZ),
        sa.Column("raw_active", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("raw_since", TZ),
        sa.Column("last_value", sa.Double),
        sa.Column("retired_at", TZ),
        sa.UniqueConstraint("rule_id", "condition"),
        sa.CheckConstraint(_in("state", STATES), name="state"),
        sa.CheckConstraint(
            "(state IN ('shelved', 'suppressed', 'out_of_service', 'normal', "
            "'active_acknowledged')) = acked",
            name="acked_consistent",
        ),
        postgresql_with={"fillfactor": 70},
    )
    op.create_index(
        "ix_alarm_state", "alarm", ["state"], postgresql_where=sa.text("state <> 'normal'")
    )
    op.create_index(
        "ix_alarm_shelved_until",
        "alarm",
        ["shelved_until"],
        postgresql_where=sa.text("shelved_until IS NOT NULL"),
    )
    op.create_table(
        "alarm_event",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("alarm_id", sa.Integer, sa.ForeignKey("alarm.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", TZ, nullable=False, server_default=sa.func.now(), index=True),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("from_state", sa.String(24), nullable=False),
        sa.Column("to_state", sa.String(24), nullable=False),
        sa.Column("user_name", sa.String(100), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("value", sa.Double),
        sa.Column("reading_ts", TZ),
        sa.Column("annunciated", sa.Boolean, nullable=False),
        sa.Column("detail", JSONB),
        sa.UniqueConstraint("alarm_id", "seq"),
    )
    op.create_table(
        "alarm_notification",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.BigInteger, sa.ForeignKey("alarm_event.id"), index=True),
        sa.Column("rule_id", sa.Integer),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("sent_at", TZ),
        sa.Column("last_error", sa.Text),
        sa.CheckConstraint("channel IN ('mqtt', 'webhook')", name="channel"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed', 'suppressed')", name="status"),
    )
    op.create_index(
        "ix_alarm_notification_due",
        "alarm_notification",
        ["channel", "next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "alarm_rate",
        sa.Column("scope", sa.String(40), primary_key=True),
        sa.Column("tokens", sa.Double, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("suppressed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("suppressed_since", TZ),
    )
    op.execute(APPEND_ONLY_FN)
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ecc_alarm_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ecc_alarm_append_only()"
        )


def downgrade() -> None:
    for table in (
        "alarm_rate",
        "alarm_notification",
        "alarm_event",
        "alarm",
        "alarm_rule_log",
        "alarm_rule",
    ):
        op.drop_table(table)
    op.execute("DROP FUNCTION ecc_alarm_append_only()")
