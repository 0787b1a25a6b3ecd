"""Energy cost and budgets: tariffs (versioned, append-only), site tariff assignments, prices
of other carriers, cost derivations, utility bills, budgets.

Money is ``numeric`` here and ``Decimal`` in Python. Nothing is edited in place: a changed
tariff is a new version of its code, a new assignment or budget is a new row (the newest wins),
so every figure stays reproducible with the versions it used.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

TZ = DateTime(timezone=True)
MONEY = Numeric(18, 4)
PRICE = Numeric(12, 6)


class Tariff(Base):
    """One version of an electricity tariff: validity, demand charge, power-factor standard."""

    __tablename__ = "tariff"
    __table_args__ = (
        UniqueConstraint("code", "version"),
        CheckConstraint(
            "demand_basis IS NULL OR demand_basis IN ('max_demand', 'capacity')",
            name="demand_basis",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)  # exclusive
    template: Mapped[str | None] = mapped_column(String(64))
    flat_price_cny_per_kwh: Mapped[Decimal | None] = mapped_column(PRICE)
    non_floating_cny_per_kwh: Mapped[Decimal] = mapped_column(
        PRICE, default=Decimal(0), server_default="0"
    )
    funds_cny_per_kwh: Mapped[Decimal] = mapped_column(
        PRICE, default=Decimal(0), server_default="0"
    )
    demand_basis: Mapped[str | None] = mapped_column(String(16))
    demand_price_cny: Mapped[Decimal | None] = mapped_column(PRICE)  # per kW·month or kVA·month
    contracted_kw: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    capacity_kva: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    power_factor_standard: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    source: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class TariffEnergyPrice(Base):
    """A period of a tariff version: its hours (site local), months, day type and price."""

    __tablename__ = "tariff_energy_price"
    __table_args__ = (
        CheckConstraint(
            "period IN ('sharp', 'peak', 'flat', 'valley', 'deep_valley')", name="period"
        ),
        CheckConstraint("day_type IN ('all', 'workday', 'non_workday', 'event')", name="day_type"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tariff_id: Mapped[int] = mapped_column(ForeignKey("tariff.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    hours: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    months: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger))
    day_type: Mapped[str] = mapped_column(String(16), default="all", server_default="all")
    price_cny_per_kwh: Mapped[Decimal] = mapped_column(PRICE)
    multiplier_to_flat: Mapped[Decimal | None] = mapped_column(Numeric(8, 4))
    verification: Mapped[str | None] = mapped_column(String(64))


class TariffEventDay(Base):
    """A day on which a tariff code's event-day periods apply (a heat day ≥ 35 °C, a holiday
    with special TOU …), declared by a person; its ``day_type`` ``event`` rows then replace
    the usual periods for their hours."""

    __tablename__ = "tariff_event_day"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("tariff_code", "day"),
        CheckConstraint("kind IN ('heat', 'holiday', 'other')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tariff_code: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class SiteTariff(Base):
    """A site bills under a tariff code from a date (append-only; the newest row wins)."""

    __tablename__ = "site_tariff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    tariff_code: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class CarrierPrice(Base):
    """Price per unit of gas, steam, heat, water … with validity dates (append-only)."""

    __tablename__ = "carrier_price"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    carrier: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(16))
    price_cny_per_unit: Mapped[Decimal] = mapped_column(PRICE)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class CostDerivation(Base):
    """Inputs, formulas and results of a cost figure, addressed by their sha256."""

    __tablename__ = "cost_derivation"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class UtilityBill(Base):
    """A month's bill as the utility issued it (对账): lines kept as entered."""

    __tablename__ = "utility_bill"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    month: Mapped[date] = mapped_column(Date)
    total_cny: Mapped[Decimal] = mapped_column(MONEY)
    lines: Mapped[dict] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class Budget(Base):
    """A year's budget of one quantity for a site (or one meter), split into months."""

    __tablename__ = "budget"
    __table_args__ = (
        CheckConstraint(
            "quantity IN ('electricity_kwh', 'energy_tce', 'co2_t', 'cost_cny')", name="quantity"
        ),
        CheckConstraint("split IN ('even', 'last_year', 'months')", name="split"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    meter_id: Mapped[int | None] = mapped_column(ForeignKey("meter.id", ondelete="CASCADE"))
    quantity: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(SmallInteger)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    months: Mapped[list[Decimal]] = mapped_column(ARRAY(MONEY))
    split: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
