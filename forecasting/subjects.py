"""What gets forecast, and its history read through ``metering.series``.

A *subject* is a meter, or a site's total of one carrier (the counted meters of the site
subtree, :func:`metering.scope.counted_meters`: sub-meters are not added again). Counter
and delta meters are forecast as energy per bucket in their canonical unit; load in kW is
that energy divided by the bucket length (energy carriers only). Gauges in kW are forecast
as load directly.

Histories are regular frames in the site's time zone, labelled by bucket start like the
metering series, the last bucket being the newest complete one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy.orm import Session

from core import units
from core.errors import Invalid, NotFound
from forecasting.base import TARGET
from forecasting.data import fill_short_gaps
from metering import registry, series
from metering.scope import ScopeMeter, counted_meters
from models import Meter, Site

RESOLUTIONS_S = {900: "15m", 3600: "1h", 86400: "1d"}
FILL_LIMIT = timedelta(hours=1)


@dataclass(frozen=True)
class Subject:
    kind: str  # "meter" | "site"
    id: int
    code: str
    carrier: str
    quantity: str  # "energy" | "load": what is modelled and stored
    unit: str  # canonical energy unit, or kW
    resolution_s: int
    timezone: str
    meters: tuple[str, ...]  # the meter codes whose series are added up

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.kind, self.id, self.carrier, self.quantity)

    @property
    def resolution(self) -> str:
        return RESOLUTIONS_S[self.resolution_s]

    @property
    def step(self) -> timedelta:
        return timedelta(seconds=self.resolution_s)

    def load_factor(self) -> float:
        """kW per (energy unit per bucket); ``Invalid`` when the carrier is not energy."""
        if self.quantity == "load":
            return 1.0
        if units.lookup(self.unit).dimension != "energy":
            raise Invalid(
                "target", f"load needs an energy carrier; {self.carrier} is metered in {self.unit}"
            )
        kwh, _ = units.conversion(self.unit, "kWh")
        return kwh * 3600 / self.resolution_s


def _resolution(interval_s: int) -> int:
    return next(r for r in sorted(RESOLUTIONS_S) if interval_s <= r or r == 86400)


def meter_subject(meter: Meter, site: Site) -> Subject | None:
    """The subject of one meter, or None for a gauge that is not a power reading."""
    if meter.kind == "gauge":
        if meter.canonical_unit != "kW":
            return None
        quantity = "load"
    else:
        quantity = "energy"
    return Subject(
        "meter",
        meter.id,
        meter.code,
        meter.carrier,
        quantity,
        meter.canonical_unit,
        _resolution(meter.interval_s),
        site.timezone,
        (meter.code,),
    )


def site_subjects(session: Session, site: Site) -> list[Subject]:
    """One subject per carrier metered in the site's subtree (its counted meters only)."""
    by_carrier: dict[tuple[str, str], list[ScopeMeter]] = {}
    for m in counted_meters(session, site.id).counted:
        by_carrier.setdefault((m.carrier, m.canonical_unit), []).append(m)
    return [
        Subject(
            "site",
            site.id,
            site.code,
            carrier,
            "energy",
            unit,
            _resolution(max(m.interval_s for m in group)),
            site.timezone,
            tuple(m.code for m in group),
        )
        for (carrier, unit), group in sorted(by_carrier.items())
    ]


def all_subjects(session: Session, site: str | None = None) -> list[Subject]:
    """Every site and meter subject, or those of one site and its descendants. Site totals
    come first: they are what the wall screen draws, so a first catch-up serves them first."""
    sites = {s.id: s for s in registry.list_sites(session)}
    scope = set(registry.site_subtree_ids(session, site)) if site else set(sites)
    out = []
    for site_id in sorted(scope):
        out.extend(site_subjects(session, sites[site_id]))
    out += [
        s
        for m in registry.list_meters(session)
        if m.site_id in scope and (s := meter_subject(m, sites[m.site_id])) is not None
    ]
    return out


def find_subject(
    session: Session, *, meter: str | None, site: str | None, carrier: str | None
) -> Subject:
    """The subject a request names: exactly one of ``meter`` and ``site``."""
    if (meter is None) == (site is None):
        raise Invalid("meter", "give exactly one of meter and site")
    if meter is not None:
        m = registry.get_meter(session, meter)
        subject = meter_subject(m, session.get_one(Site, m.site_id))
        if subject is None:
            raise Invalid(
                "meter",
                f"{meter} is a {m.canonical_unit} gauge; only energy meters "
                "and kW gauges are forecast",
            )
        return subject
    assert site is not None
    subjects = site_subjects(session, registry.get_site(session, site))
    if not subjects:
        raise NotFound("site", f"site {site!r} has no energy meters")
    wanted = carrier or "electricity"
    found = [s for s in subjects if s.carrier == wanted]
    if not found:
        raise NotFound(
            "carrier",
            f"site {site!r} meters no {wanted}; it meters {', '.join(s.carrier for s in subjects)}",
        )
    return found[0]


def last_complete(subject: Subject, now: datetime) -> datetime:
    """Label (start) of the newest bucket whose interval has ended."""
    step = subject.resolution_s
    floor = datetime.fromtimestamp(int(now.timestamp()) // step * step, UTC)
    return floor - subject.step


def history(session: Session, subject: Subject, start: datetime, last: datetime) -> pd.DataFrame:
    """The subject's values for the buckets labelled ``start`` … ``last`` (inclusive) on a
    regular grid in the site's zone; gaps up to an hour interpolated, longer ones NaN."""
    grid = pd.date_range(
        pd.Timestamp(start).tz_convert("UTC"),
        pd.Timestamp(last).tz_convert("UTC"),
        freq=subject.step,
    )
    total = pd.Series(float("nan"), index=grid)
    limit = max(int(FILL_LIMIT / subject.step), 1)
    for code in subject.meters:
        points = series.meter_series(session, code, start, last + subject.step, subject.resolution)[
            "points"
        ]
        values = pd.Series(
            [p["value"] for p in points],
            index=pd.DatetimeIndex(pd.to_datetime([p["ts"] for p in points], utc=True)),
            dtype=float,
        )
        values = fill_short_gaps(values.reindex(grid), limit)
        total = total.add(values, fill_value=0.0)  # NaN only where every meter is missing
    frame = pd.DataFrame({TARGET: total.to_numpy()}, index=grid.tz_convert(subject.timezone))
    frame.index.freq = subject.step
    return frame
