"""Carbon accounting schema: factor library (versioned, append-only), boundary mapping, activity
data, production output, green certificates, calculation versions and derivations.

Nothing here is ever deleted by the application: a factor is superseded by a newer row, a
boundary change is logged, a recalculation adds a version.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

TZ = DateTime(timezone=True)


class CarbonFactor(Base):
    """One version of a factor: emission factor, standard-coal coefficient, GWP or heat content.

    ``carrier`` is the energy carrier, fuel, carbonate or gas it applies to; ``variant`` tells
    factors of one carrier apart (``average``/``residual`` grid factors, ``equivalent``/
    ``equal_value`` electricity coefficients, ``AR4``/``AR5``/``AR6`` GWPs). ``valid_from``/
    ``valid_to`` are dates (``valid_to`` exclusive) in the site's timezone; NULL is unbounded.
    A row applies to a ``site`` (and its descendants), a ``region``, or everywhere.
    """

    __tablename__ = "carbon_factor"
    __table_args__ = (
        CheckConstraint("kind IN ('emission', 'tce', 'gwp', 'ncv')", name="kind"),
        CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from", name="valid_period"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    carrier: Mapped[str] = mapped_column(String(64), index=True)
    variant: Mapped[str] = mapped_column(String(32))
    gas: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(64))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Double)
    unit: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict | None] = mapped_column(JSONB)
    published_on: Mapped[date | None] = mapped_column(Date)
    source_document: Mapped[str] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    verification: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    library_version: Mapped[str] = mapped_column(String(32))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("carbon_factor.id"))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))


class CarbonFactorLog(Base):
    """Every change to the factor library: who, when, old and new value."""

    __tablename__ = "carbon_factor_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    factor_id: Mapped[int] = mapped_column(ForeignKey("carbon_factor.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # seed | add | supersede
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    old_value: Mapped[float | None] = mapped_column(Double)
    new_value: Mapped[float] = mapped_column(Double)
    detail: Mapped[str | None] = mapped_column(Text)


class CarbonMeterSource(Base):
    """A meter's place in the boundary when it differs from the carrier default."""

    __tablename__ = "carbon_meter_source"
    __table_args__ = (CheckConstraint("scope IS NULL OR scope IN (1, 2)", name="scope"),)

    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"), primary_key=True)
    scope: Mapped[int | None] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(String(32))
    fuel: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    updated_by: Mapped[str] = mapped_column(String(100))


class CarbonMeterSourceLog(Base):
    """History of boundary mappings (nothing is overwritten without a trace)."""

    __tablename__ = "carbon_meter_source_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    old: Mapped[dict | None] = mapped_column(JSONB)
    new: Mapped[dict] = mapped_column(JSONB)


class CarbonActivity(Base):
    """Activity data no meter measures: fuel deliveries, refrigerant top-ups, carbonates."""

    __tablename__ = "carbon_activity"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_nonnegative"),
        CheckConstraint("period_end > period_start", name="period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    source: Mapped[str] = mapped_column(String(32))
    scope: Mapped[int | None] = mapped_column(SmallInteger)
    carrier: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[float] = mapped_column(Double)
    unit: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[datetime] = mapped_column(TZ)
    period_end: Mapped[datetime] = mapped_column(TZ)
    evidence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))


class CarbonProduction(Base):
    """Production output of a period: quantity of a product and its output value (CNY)."""

    __tablename__ = "carbon_production"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_nonnegative"),
        CheckConstraint("period_end > period_start", name="period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    product: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[float] = mapped_column(Double)
    unit: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[datetime] = mapped_column(TZ)
    period_end: Mapped[datetime] = mapped_column(TZ)
    output_value_cny: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))


class CarbonCertificate(Base):
    """A green electricity certificate (GEC) or green-power contract volume, retired for the
    consumption of one site in one period. A serial is unique: it can be used once."""

    __tablename__ = "carbon_certificate"
    __table_args__ = (
        CheckConstraint("mwh > 0", name="mwh_positive"),
        CheckConstraint("retired_for_end > retired_for_start", name="period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(128), unique=True)
    mwh: Mapped[float] = mapped_column(Double)
    vintage: Mapped[date] = mapped_column(Date)
    instrument: Mapped[str] = mapped_column(String(16))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    retired_for_start: Mapped[datetime] = mapped_column(TZ)
    retired_for_end: Mapped[datetime] = mapped_column(TZ)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))


class CarbonCalcVersion(Base):
    """A calculation version: which factor rows (id <= ``factor_watermark``) results use.

    A newly added factor changes no figure until an explicit recalculation creates a version;
    every earlier version stays queryable.
    """

    __tablename__ = "carbon_calc_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    factor_watermark: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    summary: Mapped[dict | None] = mapped_column(JSONB)


class CarbonAssignment(Base):
    """Cache: the factor each meter uses in each period under one calculation version.

    Derived deterministically from the version's factor rows, the meter's boundary mapping and
    its site (``context`` fingerprints those); the carbon rollup views join it with the energy
    rollups. ``coef`` converts the meter's canonical unit to t (CO2 or tce) directly.
    """

    __tablename__ = "carbon_assignment"

    version: Mapped[int] = mapped_column(
        ForeignKey("carbon_calc_version.version"), primary_key=True
    )
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16), primary_key=True)
    valid_from: Mapped[datetime] = mapped_column(TZ, primary_key=True)
    valid_to: Mapped[datetime] = mapped_column(TZ)
    scope: Mapped[int | None] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(String(32))
    factor_id: Mapped[int | None] = mapped_column(ForeignKey("carbon_factor.id"))
    coef: Mapped[float | None] = mapped_column(Double)
    note: Mapped[str | None] = mapped_column(Text)


class CarbonAssignmentState(Base):
    """Which (version, meter) assignments are materialised, and for which context."""

    __tablename__ = "carbon_assignment_state"

    version: Mapped[int] = mapped_column(
        ForeignKey("carbon_calc_version.version"), primary_key=True
    )
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"), primary_key=True)
    context: Mapped[str] = mapped_column(String(64))
    scope: Mapped[int | None] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(String(32))


class CarbonDerivation(Base):
    """The inputs and formulas behind a reported figure, addressed by their sha256."""

    __tablename__ = "carbon_derivation"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
