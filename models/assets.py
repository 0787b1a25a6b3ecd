"""Carbon assets schema: one ledger of certificates, credits and allowances, an append-only
transaction history per asset, own reductions, verified ETS emissions and scorecard thresholds.

An asset row carries its current status and the quantity used so far (kept under a row lock
by ``assets.ledger``); every change is also a row of ``carbon_asset_txn``, which the database
keeps append-only.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

TZ = DateTime(timezone=True)
QTY = Numeric(20, 6)


class CarbonAsset(Base):
    """A holding: a GEC or a range of them, a green-power contract volume, CCER, a local
    碳普惠 credit, ETS allowances of one compliance year, or another recognised credit."""

    __tablename__ = "carbon_asset"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("used_quantity >= 0 AND used_quantity <= quantity", name="used_in_range"),
        CheckConstraint(
            "kind IN ('gec', 'green_power_contract', 'ccer', 'chs', 'allowance', 'other')",
            name="kind",
        ),
        CheckConstraint("unit IN ('MWh', 'tCO2e', 't')", name="unit"),
        CheckConstraint(
            "status IN ('held', 'retired', 'surrendered', 'transferred', 'expired')", name="status"
        ),
        # A serial exists once per kind: the registry's unique code.
        Index(
            "uq_carbon_asset_serial",
            "kind",
            "serial",
            unique=True,
            postgresql_where=text("serial IS NOT NULL"),
        ),
        # The overlap check of a new serial or range is one index probe (``assets.ledger``).
        Index("ix_carbon_asset_serial_range", "kind", "serial_hi_key", "serial_lo_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    serial: Mapped[str | None] = mapped_column(String(128))
    serial_from: Mapped[str | None] = mapped_column(String(64))
    serial_to: Mapped[str | None] = mapped_column(String(64))
    # Sortable keys of the serial or range ends (``assets.ledger.serial_key``: digit strings
    # by length then digits, other codes as text below them), compared byte-wise.
    serial_lo_key: Mapped[str | None] = mapped_column(String(160, collation="C"))
    serial_hi_key: Mapped[str | None] = mapped_column(String(160, collation="C"))
    quantity: Mapped[Decimal] = mapped_column(QTY)
    used_quantity: Mapped[Decimal] = mapped_column(QTY, server_default="0")
    unit: Mapped[str] = mapped_column(String(8))
    vintage: Mapped[date] = mapped_column(Date)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    registry_name: Mapped[str | None] = mapped_column("registry", String(200))
    project: Mapped[str | None] = mapped_column(String(200), index=True)
    evidence: Mapped[str | None] = mapped_column(Text)
    valid_until: Mapped[datetime | None] = mapped_column(TZ)
    status: Mapped[str] = mapped_column(String(16), server_default="held")
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))


class CarbonAssetTxn(Base):
    """One event of an asset (issue, retire, surrender, transfer, expire); never rewritten."""

    __tablename__ = "carbon_asset_txn"
    __table_args__ = (
        CheckConstraint(
            "action IN ('issue', 'retire', 'surrender', 'transfer', 'expire')", name="action"
        ),
        CheckConstraint("quantity >= 0", name="quantity_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("carbon_asset.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[Decimal] = mapped_column(QTY)
    purpose: Mapped[str | None] = mapped_column(String(24))
    period_start: Mapped[datetime | None] = mapped_column(TZ)
    period_end: Mapped[datetime | None] = mapped_column(TZ)
    counterparty: Mapped[str | None] = mapped_column(String(200))
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("carbon_certificate.id"))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(TZ)
    actor: Mapped[str] = mapped_column(String(100))


class CarbonReduction(Base):
    """An own reduction or removal of a year, against a baseline year, with its evidence."""

    __tablename__ = "carbon_reduction"
    __table_args__ = (CheckConstraint("tco2 >= 0", name="tco2_non_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    baseline_year: Mapped[int] = mapped_column(SmallInteger)
    measure: Mapped[str] = mapped_column(Text)
    tco2: Mapped[Decimal] = mapped_column(QTY)
    evidence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))


class EtsVerification(Base):
    """Verified emissions of a covered company for a compliance year and the surrender date."""

    __tablename__ = "ets_verification"
    __table_args__ = (CheckConstraint("verified_tco2 >= 0", name="verified_non_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    verified_tco2: Mapped[Decimal] = mapped_column(QTY)
    surrender_due: Mapped[date] = mapped_column(Date)
    verifier: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))


class ZeroCarbonThreshold(Base):
    """A factory threshold a user set for a scorecard indicator; a newer row supersedes."""

    __tablename__ = "zero_carbon_threshold"
    __table_args__ = (CheckConstraint("comparison IN ('<=', '>=')", name="comparison"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    indicator: Mapped[str] = mapped_column(String(64))
    comparison: Mapped[str] = mapped_column(String(2))
    threshold: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))
