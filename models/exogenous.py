"""Exogenous inputs of the forecasts: series with values known ahead (weather forecasts,
production plans, shutdown calendars) posted per site, versioned by when they were issued.

A *series* is one input of one site (``code``, canonical ``unit``). Every post is an *issue*
(``issued_at``, who posted it) with its points; an issue is never changed, so a forecast made
at time T can be rebuilt from the issues issued up to T (``forecasting.exog``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Double,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base

TZ = DateTime(timezone=True)


class ExogSeries(Base):
    __tablename__ = "exog_series"
    __audited__ = True
    __table_args__ = (UniqueConstraint("site_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))


class ExogIssue(Base):
    """One post of a series: its points as issued at ``issued_at`` (never changed)."""

    __tablename__ = "exog_issue"
    __audited__ = True
    __audit_parent__ = "series"  # its audit rows name the series' site
    __table_args__ = (UniqueConstraint("series_id", "issued_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("exog_series.id", ondelete="CASCADE"))
    series: Mapped[ExogSeries] = relationship()
    issued_at: Mapped[datetime] = mapped_column(TZ)
    points: Mapped[int] = mapped_column(Integer)
    first_ts: Mapped[datetime] = mapped_column(TZ)
    last_ts: Mapped[datetime] = mapped_column(TZ)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))


class ExogPoint(Base):
    __tablename__ = "exog_point"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("exog_issue.id", ondelete="CASCADE"), primary_key=True
    )
    ts: Mapped[datetime] = mapped_column(TZ, primary_key=True)
    value: Mapped[float] = mapped_column(Double)
