"""What field collectors report about their points (``POST /api/v1/collectors/health``).

One row per configured point of a collector: the configuration the center needs for the
automatic collection rate (points configured per site) and the last health report (online,
last good read, error counts by kind).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Double, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class CollectorPoint(Base):
    __tablename__ = "collector_point"
    __table_args__ = (Index("ix_collector_point_meter", "meter_code"),)

    collector: Mapped[str] = mapped_column(String(100), primary_key=True)
    device: Mapped[str] = mapped_column(String(100), primary_key=True)
    meter_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    protocol: Mapped[str] = mapped_column(String(32))
    poll_s: Mapped[float] = mapped_column(Double)
    online: Mapped[bool] = mapped_column(Boolean)
    last_good: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reads: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    errors: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    report_every_s: Mapped[float] = mapped_column(Double)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
