"""The site balance and load, computed once (README "Definitions the wall uses").

Over the counted meters of a site (:func:`metering.scope.counted_meters`), by carrier:

- **grid** = grid import, the ``electricity`` meters (kWh);
- **generation** = on-site generation, ``pv_generation`` and ``wind_generation`` (kWh);
- **export** = energy fed back to the grid, ``grid_export`` (kWh);
- **consumption** = grid + generation − export (kWh);
- **load_kw** = consumption of an interval ÷ its length in hours; the load *now* is the
  consumption of the ``window_s`` (5 minutes) before the latest reading of those meters.

Buckets are those of :func:`metering.series.meter_series` (labelled by their start, covering
``(start, start + width]``). The period totals are exact over ``(start, end]``: rollups for
the 15-minute-aligned middle, raw readings for the ragged edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from core import units
from core.errors import Invalid
from metering import series
from metering.scope import ScopeMeter, counted_meters

ROLES = ("grid", "generation", "export")
ROLE_OF_CARRIER = {
    units.Carrier.ELECTRICITY.value: "grid",
    units.Carrier.PV_GENERATION.value: "generation",
    units.Carrier.WIND_GENERATION.value: "generation",
    units.Carrier.GRID_EXPORT.value: "export",
}
SIGN = {"grid": 1.0, "generation": 1.0, "export": -1.0}
NOW_WINDOW_S = 300
_ALIGN_S = 900


def consumption_kwh(grid_kwh: float, generation_kwh: float, export_kwh: float) -> float:
    """Site electricity consumption = grid import + on-site generation − export (kWh)."""
    return grid_kwh + generation_kwh - export_kwh


@dataclass(frozen=True)
class LoadMeters:
    """The counted meters that make up a site's balance, by role."""

    site: str
    grid: list[ScopeMeter]
    generation: list[ScopeMeter]
    export: list[ScopeMeter]

    def by_role(self) -> dict[str, list[ScopeMeter]]:
        return {"grid": self.grid, "generation": self.generation, "export": self.export}

    def all(self) -> list[ScopeMeter]:
        return [*self.grid, *self.generation, *self.export]


def load_meters(session: Session, site: str) -> LoadMeters:
    roles: dict[str, list[ScopeMeter]] = {r: [] for r in ROLES}
    scope = counted_meters(session, site)
    for m in scope.counted:
        role = ROLE_OF_CARRIER.get(m.carrier)
        if role is not None:
            roles[role].append(m)
    return LoadMeters(scope.site, **roles)


def _kwh_per(m: ScopeMeter) -> float:
    return units.conversion(m.canonical_unit, "kWh")[0]


def _ceil(t: datetime) -> datetime:
    return datetime.fromtimestamp(-(-t.timestamp() // _ALIGN_S) * _ALIGN_S, UTC)


def _floor(t: datetime) -> datetime:
    return datetime.fromtimestamp(t.timestamp() // _ALIGN_S * _ALIGN_S, UTC)


def period_energy(
    session: Session, meter_ids: list[int], start: datetime, end: datetime
) -> dict[int, float]:
    """Energy per meter over exactly (start, end]: the 15-minute-aligned middle from the
    rollups, the ragged edges from raw readings."""
    lo, hi = _ceil(start), _floor(end)
    if lo >= hi:
        parts = [(start, end)]
    else:
        parts = [(a, b) for a, b in ((start, lo), (lo, hi), (hi, end)) if a < b]
    out: dict[int, float] = {}
    for a, b in parts:
        for mid, v in series._energy_by_meter(session, meter_ids, a, b).items():
            out[mid] = out.get(mid, 0.0) + v
    return out


_LATEST = text("""
SELECT max(newest) FROM (
  SELECT (SELECT max(ts) FROM reading r WHERE r.meter_id = m AND r.ts > :s AND r.ts <= :e)
         AS newest
  FROM unnest(CAST(:m AS integer[])) AS m) AS per_meter
""")


def _balance(kwh_by_role: dict[str, float], hours: float) -> dict:
    grid, gen, exp = (kwh_by_role.get(r, 0.0) for r in ROLES)
    cons = consumption_kwh(grid, gen, exp)
    return {
        "grid": round(grid, 9),
        "generation": round(gen, 9),
        "export": round(exp, 9),
        "consumption": round(cons, 9),
        "load_kw": round(cons / hours, 9) if hours > 0 else None,
    }


def site_load(
    session: Session,
    code: str,
    start: datetime,
    end: datetime,
    resolution: str = "15m",
    window_s: int = NOW_WINDOW_S,
) -> dict:
    """Grid, generation, export and consumption (kWh) per bucket with the load (kW), the
    period's totals over exactly (start, end], and the load now (see the module doc)."""
    series.check_period(start, end)
    if resolution not in series.RESOLUTIONS:
        raise Invalid("resolution", f"must be one of {', '.join(series.RESOLUTIONS)}")
    lm = load_meters(session, code)
    width = series.RESOLUTIONS[resolution]
    meters = lm.all()
    ids = [m.id for m in meters]
    role_of = {m.id: ROLE_OF_CARRIER[m.carrier] for m in meters}

    buckets: dict[datetime, dict[str, float]] = {}
    for m in meters:
        pts = series.meter_series(session, m.code, start, end, resolution)["points"]
        for p in pts:
            acc = buckets.setdefault(p["ts"], {})
            role = role_of[m.id]
            acc[role] = acc.get(role, 0.0) + float(p["value"] or 0.0) * _kwh_per(m)

    latest = session.execute(_LATEST, {"m": ids, "s": start, "e": end}).scalar() if ids else None
    now = None
    if latest is not None:
        lo = latest - timedelta(seconds=window_s)
        recent = period_energy(session, ids, lo, latest)
        kwh: dict[str, float] = {}
        for m in meters:
            kwh[role_of[m.id]] = kwh.get(role_of[m.id], 0.0) + recent.get(m.id, 0.0) * _kwh_per(m)
        now = {"ts": latest, "window_s": window_s, **_balance(kwh, window_s / 3600.0)}

    totals_by_meter = period_energy(session, ids, start, end) if ids else {}
    total_kwh: dict[str, float] = {}
    for m in meters:
        role = role_of[m.id]
        total_kwh[role] = total_kwh.get(role, 0.0) + totals_by_meter.get(m.id, 0.0) * _kwh_per(m)
    totals = _balance(total_kwh, (end - start).total_seconds() / 3600.0)  # mean load

    hours = width.total_seconds() / 3600.0
    points = [
        {
            "ts": ts,
            **_balance(buckets[ts], hours),
            "complete": latest is not None and ts + width <= latest,
        }
        for ts in sorted(buckets)
    ]
    return {
        "site": lm.site,
        "start": start,
        "end": end,
        "resolution": resolution,
        "unit": "kWh",
        "meters": {role: [m.code for m in ms] for role, ms in lm.by_role().items()},
        "points": points,
        "totals": totals,
        "now": now,
    }
