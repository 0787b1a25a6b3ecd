"""The site's local clock for cost: TOU periods and billing months follow the site's own
``timezone``; the zone and local midnights are ``metering.clock``'s rule, vectorised helpers
for interval starts live here."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from metering import clock


def site_zone(timezone: str | None) -> ZoneInfo:
    """The zone of a site from its ``timezone`` field (``metering.clock.zone``: the
    ``ECC_TIMEZONE`` default when unset)."""
    return clock.zone(timezone)


def local_parts(starts_utc: np.ndarray, zone: ZoneInfo) -> pd.DatetimeIndex:
    """Local wall-clock times of interval starts (µs since the epoch, UTC)."""
    return pd.DatetimeIndex(pd.to_datetime(starts_utc, unit="us", utc=True)).tz_convert(zone)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant the site's local day ``day`` begins (``metering.clock.local_midnight``)."""
    return clock.local_midnight(day, zone)


def month_bounds(year: int, month: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar month."""
    first = date(year, month, 1)
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return local_midnight(first, zone), local_midnight(nxt, zone)


def days(start: date, end: date) -> list[date]:
    """Local days in [start, end)."""
    return [start + timedelta(days=i) for i in range((end - start).days)]
