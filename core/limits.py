"""The ranges every stored or queried figure must fall in (one place, quoted in error messages).

- Timestamps (readings, query periods, validity dates): ``EARLIEST`` ≤ t < ``LATEST``. Far
  wider than any plant's life, far inside what PostgreSQL and Python can represent, so date
  arithmetic (buckets, local days, year-on-year) never overflows.
- Stored readings in canonical units: ``|value| ≤ MAX_ABS_VALUE`` after unit conversion and
  multiplier, so that sums over years of readings of thousands of meters stay finite.
- Quantities and money written to ``numeric``/``double precision`` columns: finite and
  ``|x| ≤ MAX_ABS_QUANTITY`` (money: ``MAX_ABS_MONEY``).
- Database ids are PostgreSQL ``integer``: 1 … ``MAX_ID``.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
EARLIEST_DATE = EARLIEST.date()
LATEST_DATE = LATEST.date()
MAX_ABS_VALUE = 1e15
MAX_ABS_QUANTITY = 1e15
MAX_ABS_MONEY = 1e15
MAX_MULTIPLIER = 1e9
MAX_ID = 2**31 - 1

PERIOD_TEXT = f"{EARLIEST.date().isoformat()} … {LATEST.date().isoformat()} (UTC)"


def ts_problem(ts: datetime | date) -> str | None:
    """Why a timestamp or date is outside the supported period, or None."""
    if isinstance(ts, datetime):
        if ts.tzinfo is None:
            return None  # the caller checks the offset
        try:
            inside = EARLIEST <= ts < LATEST
        except OverflowError:
            inside = False
    else:
        inside = EARLIEST_DATE <= ts < LATEST_DATE
    return None if inside else f"outside the supported period {PERIOD_TEXT}"


def number_problem(x: float | int, limit: float = MAX_ABS_QUANTITY) -> str | None:
    """Why a number cannot be stored (non-finite, beyond ``limit``), or None."""
    try:
        f = float(x)
    except OverflowError:
        return f"out of range (|x| ≤ {limit:g})"
    if not math.isfinite(f):
        return f"not finite ({f})"
    if abs(f) > limit:
        return f"out of range (|x| ≤ {limit:g})"
    return None


def text_problem(s: str) -> str | None:
    """Why a string cannot be stored in PostgreSQL text (NUL, lone surrogate), or None."""
    if "\x00" in s:
        return "contains a NUL character"
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (lone surrogate)"
    return None
