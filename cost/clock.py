"""The site's local clock, in one place: TOU periods and billing months follow the site's own
``timezone`` (``models.Site``). When ``metering`` grows a shared site clock, switch here."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd


def site_zone(timezone: str | None) -> ZoneInfo:
    """The zone of a site (its ``timezone`` field; Asia/Shanghai when unset)."""
    return ZoneInfo(timezone or "Asia/Shanghai")


def local_parts(starts_utc: np.ndarray, zone: ZoneInfo) -> pd.DatetimeIndex:
    """Local wall-clock times of interval starts (µs since the epoch, UTC)."""
    return pd.DatetimeIndex(pd.to_datetime(starts_utc, unit="us", utc=True)).tz_convert(zone)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant the site's local day ``day`` begins."""
    return datetime.combine(day, time(0), zone)


def month_bounds(year: int, month: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar month."""
    first = date(year, month, 1)
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return local_midnight(first, zone), local_midnight(nxt, zone)


def days(start: date, end: date) -> list[date]:
    """Local days in [start, end)."""
    return [start + timedelta(days=i) for i in range((end - start).days)]
