"""Sites, meters, readings and API keys: the backbone schema."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base


class EccMeta(Base):
    """Facts fixed when the schema was made: ``timeseries_path`` (``timescaledb`` or
    ``postgresql``) and ``day_timezone``."""

    __tablename__ = "ecc_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Site(Base):
    """A node of the site tree: park → enterprise → plant → workshop → line."""

    __tablename__ = "site"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("contracted_demand_kw > 0", name="contracted_demand_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    timezone: Mapped[str] = mapped_column(String(64))  # IANA; metering.clock
    region: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # the site's own settings (0013): its contract with the utility and its wall's tiles
    contracted_demand_kw: Mapped[float | None] = mapped_column(Double)
    wall_tiles: Mapped[list[str] | None] = mapped_column(ARRAY(String(64)))

    parent: Mapped[Site | None] = relationship(remote_side=[id])


class Meter(Base):
    """A physical or virtual meter.

    ``unit`` is the unit the meter reports in; readings are stored in ``canonical_unit``
    after ``value * multiplier * factor + offset``. ``rollover`` is the register maximum of a
    counter, in canonical units.
    """

    __tablename__ = "meter"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("kind IN ('counter', 'delta', 'gauge')", name="kind"),
        CheckConstraint("interval_s > 0", name="interval_positive"),
        CheckConstraint("multiplier > 0", name="multiplier_positive"),
        CheckConstraint("multiplier < 'Infinity'::float8", name="multiplier_finite"),
        CheckConstraint("max_value > 0", name="max_value_positive"),
        CheckConstraint("max_interval_quantity > 0", name="max_interval_quantity_positive"),
        CheckConstraint("max_counter_step > 0", name="max_counter_step_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("meter.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(16))
    canonical_unit: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(8))
    interval_s: Mapped[int] = mapped_column(Integer, default=900)
    multiplier: Mapped[float] = mapped_column(Double, default=1.0)
    rollover: Mapped[float | None] = mapped_column(Double)
    # optional plausibility limits in canonical units (readings beyond them are rejected)
    max_value: Mapped[float | None] = mapped_column(Double)
    max_interval_quantity: Mapped[float | None] = mapped_column(Double)
    max_counter_step: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    site: Mapped[Site] = relationship()
    parent: Mapped[Meter | None] = relationship(remote_side=[id])


class Reading(Base):
    """One reading in canonical units; TimescaleDB hypertable where available.

    ``energy`` is the quantity attributed to the interval that ends at ``ts``: the value
    itself for delta meters, the register increase since the previous reading for counters
    (resets and rollovers handled), NULL for gauges and for a counter's first reading.
    """

    __tablename__ = "reading"

    meter_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    value: Mapped[float] = mapped_column(Double)
    energy: Mapped[float | None] = mapped_column(Double)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ApiKey(Base):
    """An API key, stored as a SHA-256 hash of the secret; the secret is shown once.

    ``kind`` is ``key`` (a machine) or ``display`` (a read-only wall kiosk token of one site).
    ``site_id`` limits the key to that site's subtree.
    """

    __tablename__ = "api_key"
    __audited__ = True
    __table_args__ = (
        CheckConstraint(
            "role IN ('ingest', 'viewer', 'engineer', 'manager', 'admin', 'auditor')", name="role"
        ),
        CheckConstraint("kind IN ('key', 'display')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    kind: Mapped[str] = mapped_column(String(16), default="key", server_default="key")


class IngestLog(Base):
    """One row per accepted ingest request: who sent how many readings, for audit."""

    __tablename__ = "ingest_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    key_name: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(32))
    accepted: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)


class RollupPending(Base):
    """Time ranges whose rollups must be recomputed (plain PostgreSQL path only)."""

    __tablename__ = "rollup_pending"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    meter_id: Mapped[int] = mapped_column(Integer)
    lo: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    hi: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ReadingVoid(Base):
    """A reading an admin voided: moved out of ``reading`` whole (so no rollup, total, carbon
    figure or report counts it) and kept here with who voided it, when and why."""

    __tablename__ = "reading_void"
    __table_args__ = (
        CheckConstraint("length(reason) > 0", name="reason_given"),
        Index("ix_reading_void_meter_ts", "meter_id", "ts"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"))
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    value: Mapped[float] = mapped_column(Double)
    energy: Mapped[float | None] = mapped_column(Double)
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text)
    voided_by: Mapped[str | None] = mapped_column(String(100))
    voided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
