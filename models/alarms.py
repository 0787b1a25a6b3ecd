"""Alarm schema: rules, alarm points with their ISA-18.2 state, the append-only transition
history, the notification outbox and the flood-protection buckets.

An *alarm* is one alarm point: one condition (``high``, ``high_high``, ``low``, ``low_low``,
``rate_high``, ``stale`` …) of one rule. Its lifecycle state and the evaluator's debounce state
live on its row, so every process that changes it takes the row lock first. Every change is an
``alarm_event`` row numbered per alarm (``seq``); the table refuses UPDATE and DELETE.

Every table is declared here, with the server defaults and partial indexes of migration
``0004`` (file ``0003_alarms.py``): ``tests/migrations/test_history.py`` proves that Alembic's
autogenerate finds no difference. ``alarms.rules`` reads and writes rules through these
classes; the evaluator and the outbox use explicit SQL on the hot path (row locks, batches).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

TZ = DateTime(timezone=True)


class RuleType(StrEnum):
    THRESHOLD = "threshold"
    RATE = "rate"
    STALE = "stale"
    DEMAND = "demand"
    IDLE = "idle"
    FORECAST_DEVIATION = "forecast_deviation"
    BUDGET = "budget"
    NODE_LOSS = "node_loss"
    ETS_DEADLINE = "ets_deadline"


class Priority(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class AlarmState(StrEnum):
    """ISA-18.2 alarm states (A normal … G out of service)."""

    NORMAL = "normal"
    ACTIVE_UNACKNOWLEDGED = "active_unacknowledged"
    ACTIVE_ACKNOWLEDGED = "active_acknowledged"
    RETURNED_UNACKNOWLEDGED = "returned_unacknowledged"
    SHELVED = "shelved"
    SUPPRESSED = "suppressed"
    OUT_OF_SERVICE = "out_of_service"


def _in(column: str, enum: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(m.value) for m in enum)})"


class AlarmRule(Base):
    """A rule set by an engineer. Limits are in ``unit`` (the meter's canonical unit if None);
    type-specific settings (window, idle periods, demand method …) are in ``params``."""

    __tablename__ = "alarm_rule"
    __table_args__ = (
        CheckConstraint(_in("type", RuleType), name="type"),
        CheckConstraint(_in("priority", Priority), name="priority"),
        CheckConstraint("num_nonnulls(meter_id, site_id) = 1", name="meter_or_site"),
        CheckConstraint(
            "deadband >= 0 AND on_delay_s >= 0 AND off_delay_s >= 0", name="non_negative"
        ),
        Index(
            "uq_alarm_rule_live_name",
            "name",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(24))
    meter_id: Mapped[int | None] = mapped_column(ForeignKey("meter.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    high: Mapped[float | None] = mapped_column(Double)
    low: Mapped[float | None] = mapped_column(Double)
    high_high: Mapped[float | None] = mapped_column(Double)
    low_low: Mapped[float | None] = mapped_column(Double)
    deadband: Mapped[float] = mapped_column(Double, default=0.0, server_default="0")
    on_delay_s: Mapped[float] = mapped_column(Double, default=0.0, server_default="0")
    off_delay_s: Mapped[float] = mapped_column(Double, default=0.0, server_default="0")
    unit: Mapped[str | None] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(8), default=Priority.MEDIUM.value)
    message: Mapped[str] = mapped_column(Text, default="", server_default="")
    params: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    schedule: Mapped[list | None] = mapped_column(JSONB)
    parent_rule_id: Mapped[int | None] = mapped_column(ForeignKey("alarm_rule.id"), index=True)
    webhook_url: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    updated_by: Mapped[str] = mapped_column(String(100))
    deleted_at: Mapped[datetime | None] = mapped_column(TZ)
    deleted_by: Mapped[str | None] = mapped_column(String(100))


class AlarmRuleLog(Base):
    """Every create, update and delete of a rule with a snapshot (append-only)."""

    __tablename__ = "alarm_rule_log"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alarm_rule.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    user_name: Mapped[str] = mapped_column(String(100))
    snapshot: Mapped[dict] = mapped_column(JSONB)


class Alarm(Base):
    """One alarm point: lifecycle state (ISA-18.2) plus the evaluator's debounce state.

    ``condition_active`` is the debounced process condition; ``acked`` is False while an
    activation or return to normal waits for acknowledgement. ``state`` is derived from these
    and the overrides (out of service > shelved > suppressed) and stored for querying.
    ``eval_ts`` is the newest reading time evaluated: older readings are never evaluated again.
    """

    __tablename__ = "alarm"
    __table_args__ = (
        UniqueConstraint("rule_id", "condition"),
        CheckConstraint(_in("state", AlarmState), name="state"),
        CheckConstraint(
            "(state IN ('shelved', 'suppressed', 'out_of_service', 'normal', "
            "'active_acknowledged')) = acked",
            name="acked_consistent",
        ),
        Index("ix_alarm_state", "state", postgresql_where=text("state <> 'normal'")),
        Index(
            "ix_alarm_shelved_until",
            "shelved_until",
            postgresql_where=text("shelved_until IS NOT NULL"),
        ),
        {"postgresql_with": {"fillfactor": 70}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alarm_rule.id"))
    condition: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(
        String(24), default=AlarmState.NORMAL.value, server_default=AlarmState.NORMAL.value
    )
    condition_active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    acked: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    shelved_until: Mapped[datetime | None] = mapped_column(TZ)
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    out_of_service: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    activation_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    activated_at: Mapped[datetime | None] = mapped_column(TZ)
    cleared_at: Mapped[datetime | None] = mapped_column(TZ)
    acked_at: Mapped[datetime | None] = mapped_column(TZ)
    acked_by: Mapped[str | None] = mapped_column(String(100))
    trigger_value: Mapped[float | None] = mapped_column(Double)
    trigger_ts: Mapped[datetime | None] = mapped_column(TZ)
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    eval_ts: Mapped[datetime | None] = mapped_column(TZ)
    raw_active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    raw_since: Mapped[datetime | None] = mapped_column(TZ)
    last_value: Mapped[float | None] = mapped_column(Double)
    retired_at: Mapped[datetime | None] = mapped_column(TZ)


class AlarmEvent(Base):
    """One transition of one alarm, numbered ``seq`` = 1, 2, … (append-only)."""

    __tablename__ = "alarm_event"
    __table_args__ = (UniqueConstraint("alarm_id", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarm.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), index=True)
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    user_name: Mapped[str] = mapped_column(String(100))
    comment: Mapped[str | None] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Double)
    reading_ts: Mapped[datetime | None] = mapped_column(TZ)
    annunciated: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[dict | None] = mapped_column(JSONB)


class AlarmNotification(Base):
    """Outbox: one message per channel and target, delivered after the commit, retried with
    backoff; ``suppressed`` rows were held back by flood protection."""

    __tablename__ = "alarm_notification"
    __table_args__ = (
        CheckConstraint("channel IN ('mqtt', 'webhook')", name="channel"),
        CheckConstraint("status IN ('pending', 'sent', 'failed', 'suppressed')", name="status"),
        Index(
            "ix_alarm_notification_due",
            "channel",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("alarm_event.id"), index=True)
    rule_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(8))
    target: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(12), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(TZ)
    last_error: Mapped[str | None] = mapped_column(Text)


class AlarmRate(Base):
    """Token bucket of one flood-protection scope (``global`` or ``rule:<id>``), with the
    count of notifications it held back since ``suppressed_since`` (for the summary)."""

    __tablename__ = "alarm_rate"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    tokens: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[datetime] = mapped_column(TZ)
    suppressed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    suppressed_since: Mapped[datetime | None] = mapped_column(TZ)
