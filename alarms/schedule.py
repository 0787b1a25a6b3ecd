"""Weekly time windows (shift schedules, idle periods) and holidays, evaluated on arrays of
µs timestamps in a site's timezone.

A window is ``{"days": [0, …, 6], "start": "HH:MM", "end": "HH:MM"}`` with Monday = 0, local
time, ``start`` inclusive and ``end`` exclusive; ``end`` at or before ``start`` runs past
midnight into the next day (``22:00``–``06:00``), and ``00:00``–``00:00`` is the whole day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np

from core.errors import Invalid

US_PER_S = 1_000_000
US_PER_MIN = 60 * US_PER_S
US_PER_DAY = 86_400 * US_PER_S


@dataclass(frozen=True)
class Window:
    days: frozenset[int]
    start_min: int
    end_min: int


def _minutes(raw: object, field: str) -> int:
    if not isinstance(raw, str) or len(raw) != 5 or raw[2] != ":":
        raise Invalid(field, f"expected HH:MM, got {raw!r}")
    try:
        hh, mm = int(raw[:2]), int(raw[3:])
    except ValueError:
        raise Invalid(field, f"expected HH:MM, got {raw!r}") from None
    if not (0 <= hh <= 24 and 0 <= mm < 60) or (hh == 24 and mm):
        raise Invalid(field, f"not a time of day: {raw!r}")
    return hh * 60 + mm


def parse_windows(raw: object, field: str) -> list[Window]:
    """Validated windows; ``Invalid`` names ``field[i].key`` on a mistake."""
    if not isinstance(raw, list) or not raw:
        raise Invalid(field, "expected a non-empty list of {days, start, end} windows")
    out = []
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(item, dict) or set(item) - {"days", "start", "end"}:
            raise Invalid(where, "expected {days, start, end}")
        days = item.get("days", list(range(7)))
        if (
            not isinstance(days, list)
            or not days
            or not all(isinstance(d, int) and 0 <= d <= 6 for d in days)
        ):
            raise Invalid(f"{where}.days", "expected weekdays 0 (Monday) … 6 (Sunday)")
        out.append(
            Window(
                frozenset(days),
                _minutes(item.get("start", "00:00"), f"{where}.start"),
                _minutes(item.get("end", "00:00"), f"{where}.end") % 1440,
            )
        )
    return out


def parse_holidays(raw: object, field: str = "holidays") -> list[date]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise Invalid(field, "expected a list of YYYY-MM-DD dates")
    try:
        return [date.fromisoformat(d) for d in raw]
    except (TypeError, ValueError):
        raise Invalid(field, "expected a list of YYYY-MM-DD dates") from None


def local_us(ts_us: np.ndarray, tz: str) -> np.ndarray:
    """Local wall-clock µs since 1970-01-01 00:00 local; one offset when it does not change
    across the array (the common case), per element otherwise."""
    zone = ZoneInfo(tz)
    if not len(ts_us):
        return ts_us.copy()

    def offset(us: int) -> int:
        off = datetime.fromtimestamp(us / US_PER_S, UTC).astimezone(zone).utcoffset()
        return int(off.total_seconds()) * US_PER_S if off is not None else 0

    lo, hi = offset(int(ts_us.min())), offset(int(ts_us.max()))
    if lo == hi:
        return ts_us + lo
    return ts_us + np.fromiter((offset(int(t)) for t in ts_us), np.int64, len(ts_us))


def in_windows(
    ts_us: np.ndarray, tz: str, windows: list[Window], holidays: list[date] | None = None
) -> np.ndarray:
    """Boolean mask: the reading time falls in one of the windows (or on a holiday)."""
    loc = local_us(np.asarray(ts_us, np.int64), tz)
    day = loc // US_PER_DAY
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
    minute = (loc % US_PER_DAY) // US_PER_MIN
    mask = np.zeros(len(loc), bool)
    for w in windows:
        today = np.isin(weekday, list(w.days))
        if w.start_min < w.end_min:
            mask |= today & (minute >= w.start_min) & (minute < w.end_min)
        elif w.start_min == w.end_min:
            mask |= today
        else:
            yesterday = np.isin((weekday + 6) % 7, list(w.days))
            mask |= (today & (minute >= w.start_min)) | (yesterday & (minute < w.end_min))
    if holidays:
        epoch = date(1970, 1, 1)
        mask |= np.isin(day, [(h - epoch).days for h in holidays])
    return mask
