"""Benchmarking schema: own benchmark levels, processes (工序) with their meters, the
equipment register and the recommendations with their status workflow."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

TZ = DateTime(timezone=True)


class Benchmark(Base):
    """A level a user adds (group best, a peer plant, an internal target), with its source."""

    __tablename__ = "benchmark"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    sector: Mapped[str] = mapped_column(String(100))
    product_or_process: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(32))
    level_1: Mapped[float | None] = mapped_column(Double)
    level_2: Mapped[float | None] = mapped_column(Double)
    level_3: Mapped[float | None] = mapped_column(Double)
    benchmark: Mapped[float | None] = mapped_column(Double)
    baseline: Mapped[float | None] = mapped_column(Double)
    source: Mapped[str] = mapped_column(Text)
    verification: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))


class Process(Base):
    """A process (工序): meters grouped under a product and an output unit."""

    __tablename__ = "process"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    product: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(16))
    benchmark: Mapped[str | None] = mapped_column(String(100))
    corrections: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))


class ProcessMeter(Base):
    __tablename__ = "process_meter"
    __table_args__ = (UniqueConstraint("process_id", "meter_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.id", ondelete="CASCADE"))
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"), index=True)


class Equipment(Base):
    """A motor, transformer, air compressor, fan or pump with its efficiency grade."""

    __tablename__ = "equipment"
    __table_args__ = (
        CheckConstraint("rated_kw > 0", name="rated_positive"),
        CheckConstraint("grade IS NULL OR grade BETWEEN 1 AND 3", name="grade_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    rated_kw: Mapped[float] = mapped_column(Double)  # kVA for a transformer
    grade: Mapped[int | None] = mapped_column(Integer)
    standard: Mapped[str] = mapped_column(String(32))
    meter_id: Mapped[int | None] = mapped_column(ForeignKey("meter.id"))
    efficiency_pct: Mapped[float | None] = mapped_column(Double)
    grade_1_efficiency_pct: Mapped[float | None] = mapped_column(Double)
    no_load_loss_kw: Mapped[float | None] = mapped_column(Double)
    load_loss_kw: Mapped[float | None] = mapped_column(Double)
    replacement_cost_cny: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    shiftable: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))


class Recommendation(Base):
    """An action an analyser proposes, with its evidence and savings; one open row per
    (site, kind, subject) is refreshed by each run."""

    __tablename__ = "recommendation"
    __table_args__ = (
        UniqueConstraint("site_id", "kind", "subject"),
        CheckConstraint("status IN ('open', 'accepted', 'done', 'dismissed')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(Text)
    title_zh: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict] = mapped_column(JSON)
    savings_kwh_per_year: Mapped[float] = mapped_column(Double)
    savings_cny_per_year: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    savings_tco2_per_year: Mapped[float] = mapped_column(Double)
    confidence: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    reason: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(TZ)
    history: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
