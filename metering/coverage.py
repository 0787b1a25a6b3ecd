"""Completeness of metered data: how many readings the meters gave over a period against
the readings their intervals promise (one per ``interval_s``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from metering.series import range_sums
from models.metering import Meter


@dataclass(frozen=True)
class Coverage:
    readings: int
    expected: int

    @property
    def share(self) -> float | None:
        """Readings over expected readings (at most 1), None when none are expected."""
        return min(1.0, self.readings / self.expected) if self.expected else None


def coverage(session: Session, meter_ids: list[int], start: datetime, end: datetime) -> Coverage:
    """Readings of ``meter_ids`` in (start, end] and the number expected from each meter's
    ``interval_s`` (whole intervals of the period)."""
    if not meter_ids or end <= start:
        return Coverage(0, 0)
    seconds = (end - start).total_seconds()
    intervals = session.execute(
        select(Meter.id, Meter.interval_s).where(Meter.id.in_(meter_ids))
    ).all()
    expected = sum(int(seconds // s) for _id, s in intervals if s)
    got = sum(r.n for r in range_sums(session, meter_ids, start, end).values())
    return Coverage(got, expected)
