"""Each site's own clock: which zone a site or meter is in, and its local days, months and years
as UTC instants.

A site's ``timezone`` (IANA name) decides its days everywhere: daily series and totals, carbon
days, KPIs, the wall's "today" and report periods. Sites created without one take the default
zone ``ECC_TIMEZONE`` (``core.settings``); a meter is in the zone of its site.

Local boundaries are computed with :mod:`zoneinfo`, so they are DST-safe (a local day lasts 23,
24 or 25 hours) and half- or quarter-hour offsets work (Asia/Kolkata's midnight is 18:30 UTC).
SQL builds the same days with ``ecc_day_bucket(bucket, zone)`` over the 15-minute or hourly
rollups (``day_level`` says which one tiles a zone's days).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import periods
from core.errors import Invalid, NotFound
from core.settings import get_settings
from models import Meter, Site

PERIODS = ("day", "month", "year")


def default_zone_name() -> str:
    """Zone of sites created without one (``ECC_TIMEZONE``)."""
    return get_settings().timezone


def zone(name: str | None, field: str = "timezone") -> ZoneInfo:
    """The :class:`ZoneInfo` of an IANA name (``None``: the default zone); a bad name is a 422
    naming ``field``."""
    try:
        return ZoneInfo(name or default_zone_name())
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(field, f"unknown IANA timezone {name!r}") from None


def site_zone(session: Session, site: str | Site) -> ZoneInfo:
    """Zone of a site (a code or a loaded :class:`Site`)."""
    if isinstance(site, str):
        name = session.scalar(select(Site.timezone).where(Site.code == site))
        if name is None:
            raise NotFound("site", f"unknown site {site!r}")
        return zone(name)
    return zone(site.timezone)


def meter_zone(session: Session, meter: str | Meter) -> ZoneInfo:
    """Zone of the site a meter is installed in (a code or a loaded :class:`Meter`)."""
    code = meter if isinstance(meter, str) else meter.code
    row = session.execute(
        select(Site.timezone).join(Meter, Meter.site_id == Site.id).where(Meter.code == code)
    ).first()
    if row is None:
        raise NotFound("meter", f"unknown meter {code!r}")
    return zone(row[0])


def _zone(tz: ZoneInfo | str) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else zone(tz)


def local_midnight(day: date, tz: ZoneInfo | str) -> datetime:
    """The UTC instant at which local day ``day`` starts."""
    return datetime.combine(day, time(), _zone(tz)).astimezone(UTC)


def local_date(ts: datetime, tz: ZoneInfo | str) -> date:
    """The local calendar date of instant ``ts``."""
    return ts.astimezone(_zone(tz)).date()


def day_start(ts: datetime, tz: ZoneInfo | str) -> datetime:
    """Start (UTC) of the local day holding ``ts`` (a day is ``[midnight, next midnight)``)."""
    z = _zone(tz)
    start = local_midnight(local_date(ts, z), z)
    return start if start <= ts else local_midnight(local_date(ts, z) - timedelta(days=1), z)


def next_midnight(ts: datetime, tz: ZoneInfo | str) -> datetime:
    """The first local midnight at or after ``ts`` (UTC)."""
    z = _zone(tz)
    start = day_start(ts, z)
    if start == ts:
        return ts
    return local_midnight(local_date(start, z) + timedelta(days=1), z)


def is_midnight(ts: datetime, tz: ZoneInfo | str) -> bool:
    return day_start(ts, tz) == ts


def day_bucket_start(ts: datetime, tz: ZoneInfo | str) -> datetime:
    """Start of the local day bucket ``(start, start + 1 day]`` holding a reading stamped ``ts``
    (end-closed, like every bucket: a reading at midnight closes the previous day)."""
    return day_start(ts - timedelta(microseconds=1), tz)


def period_bounds(period: str, day: date, tz: ZoneInfo | str) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC of the local day, month or year holding ``day``
    (:func:`core.periods.bounds`, where the like-for-like comparisons live)."""
    return periods.bounds(period, day, _zone(tz))


def day_span(start: datetime, end: datetime, tz: ZoneInfo | str) -> tuple[datetime, datetime]:
    """``[lo, hi)``: the local days whose start lies in ``[start, end)``, as UTC instants (empty
    when ``lo >= hi``). A daily series over ``[start, end)`` reads the sub-day buckets of
    exactly this span."""
    z = _zone(tz)
    return next_midnight(start, z), next_midnight(end, z)


def fixed_offset(tz: ZoneInfo | str, lo: datetime, hi: datetime) -> bool:
    """True when the zone keeps one UTC offset at every local midnight from ``lo`` to ``hi``
    (then every local day there lasts exactly 24 hours)."""
    z = _zone(tz)
    d, last = local_date(lo, z), local_date(hi, z) + timedelta(days=1)
    first = datetime.combine(d, time(), z).utcoffset()
    while d <= last:
        if datetime.combine(d, time(), z).utcoffset() != first:
            return False
        d += timedelta(days=1)
    return True


def day_level(tz: ZoneInfo | str, lo: datetime, hi: datetime) -> str:
    """``"1h"`` when every local midnight from ``lo`` to ``hi`` falls on a whole UTC hour (hourly
    buckets tile those days), else ``"15m"`` (e.g. Asia/Kolkata, +05:30)."""
    z = _zone(tz)
    d, last = local_date(lo, z), local_date(hi, z) + timedelta(days=1)
    while d <= last:
        if local_midnight(d, z).timestamp() % 3600:
            return "15m"
        d += timedelta(days=1)
    return "1h"
