"""Like-for-like period comparison: what a period in progress is compared with.

A day, month or year that is still running is compared with the **same elapsed part** of the
period before (or of the same period a year before), on the site's local clock:

- a day at 00:30 with yesterday 00:00–00:30 (not the whole of yesterday);
- 1–4 December up to 10:15 with 1–4 November up to 10:15 (month-to-date against the first
  days of the previous month, never against the whole month);
- 1 January–4 December with the same span of the previous year.

A period that is over is compared with the whole previous period (``basis: "complete"``);
one that has not begun yet likewise (``"not_started"``).
Elapsed time is measured in local wall-clock time, so a 23- or 25-hour DST day still compares
"up to 10:15" with "up to 10:15"; when the previous period is shorter (30 January against
February) the previous window stops at that period's end.

Pure functions of dates, instants and :mod:`zoneinfo` zones: the API's KPI endpoints
(``carbon.kpis``) and the dashboard's wall both take their windows from here, and every answer
says what it compared (:meth:`Comparison.as_dict`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.errors import Invalid

PERIODS = ("day", "month", "year")
AGAINST = ("previous", "previous_year")
SAME_ELAPSED = "same_elapsed"
COMPLETE = "complete"
NOT_STARTED = "not_started"  # a period still ahead: whole periods (nothing measured yet)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tz).astimezone(UTC)


def local_bounds(period: str, day: date) -> tuple[date, date]:
    """``[first, after)``: the local dates of the day, month or year holding ``day``."""
    if period == "day":
        return day, day + timedelta(days=1)
    if period == "month":
        lo = day.replace(day=1)
        return lo, date(lo.year + (lo.month == 12), lo.month % 12 + 1, 1)
    if period == "year":
        return date(day.year, 1, 1), date(day.year + 1, 1, 1)
    raise Invalid("period", f"one of {', '.join(PERIODS)}")


def bounds(period: str, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC of the local day, month or year holding ``day``."""
    lo, hi = local_bounds(period, day)
    return _midnight(lo, tz), _midnight(hi, tz)


def shift(period: str, day: date, against: str) -> date:
    """A date in the period compared with: the previous day / month / year, or the same
    period a year before (29 February → 28 February)."""
    if against == "previous_year" or period == "year":
        try:
            return day.replace(year=day.year - 1)
        except ValueError:  # 29 February
            return day.replace(year=day.year - 1, day=28)
    if against != "previous":
        raise Invalid("against", f"one of {', '.join(AGAINST)}")
    if period == "day":
        return day - timedelta(days=1)
    first = day.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


@dataclass(frozen=True)
class Comparison:
    """The current window, the window it is compared with, and on which basis."""

    current: tuple[datetime, datetime]
    previous: tuple[datetime, datetime]
    basis: str  # SAME_ELAPSED | COMPLETE | NOT_STARTED

    def as_dict(self) -> dict:
        return {
            "current": list(self.current),
            "previous": list(self.previous),
            "basis": self.basis,
        }


def current_window(
    period: str, day: date, tz: ZoneInfo, now: datetime
) -> tuple[datetime, datetime]:
    """``[start, min(end, now))`` of the period holding ``day`` (``start`` when it has not
    begun: an empty window)."""
    start, end = bounds(period, day, tz)
    return start, min(end, max(start, now))


def compare(period: str, day: date, tz: ZoneInfo, now: datetime, against: str) -> Comparison:
    """The period holding ``day`` up to ``now`` against the same elapsed part of the previous
    period (``against="previous"``) or of the same period a year before
    (``"previous_year"``); a finished period against the whole other period."""
    start, end = bounds(period, day, tz)
    other = shift(period, day, against)
    p_start, p_end = bounds(period, other, tz)
    if now >= end:
        return Comparison((start, end), (p_start, p_end), COMPLETE)
    if now <= start:
        return Comparison((start, end), (p_start, p_end), NOT_STARTED)
    cut = now
    elapsed = _naive(cut, tz) - _naive(start, tz)  # local wall-clock time since the start
    p_cut = (_naive(p_start, tz) + elapsed).replace(tzinfo=tz).astimezone(UTC)
    return Comparison((start, cut), (p_start, min(p_end, p_cut)), SAME_ELAPSED)


def _naive(ts: datetime, tz: ZoneInfo) -> datetime:
    return ts.astimezone(tz).replace(tzinfo=None)
