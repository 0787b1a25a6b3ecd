"""Processes (工序): meters grouped under a product; unit consumption per GB/T 2589 and its
rating against the library levels; trend, internal ranking and the best-10 %-days target.

Unit consumption (kgce per output unit) = Σ over the process's meters of energy × the shipped
GB/T 2589 equivalent-value coefficient of its carrier (all carriers), × 1000 ÷ output. Output
is the ``/production`` rows of the process's site with the same product and unit, each counted
by the share of its period inside the window. Lower is better for every level.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from benchmarking import coefficients, library
from core.errors import Conflict, Invalid, NotFound
from metering import registry, series
from metering.balance import period_energy
from models import Meter, Site
from models.benchmarking import Process, ProcessMeter
from models.carbon import CarbonProduction

RATINGS = ("level_1", "level_2", "level_3", "above_level_3", "no_levels")
LIGHT = {
    "level_1": "green",
    "level_2": "amber",
    "level_3": "amber",
    "above_level_3": "red",
    "no_levels": "grey",
}
CORRECTION_KEYS = ("clinker_ratio_pct", "altitude_m", "altitude_factor")
# GB 16780-2021: level 3 of a plant above 1500 m is multiplied by the standard's altitude
# factor. The data pack carries the rule but not the factor's value: the user enters the
# factor the standard gives for the plant's altitude (``altitude_factor``, ≥ 1).
ALTITUDE_THRESHOLD_M = 1500.0
# GB 16780-2021 cement: ±1.10/1.15/1.20 kgce/t per percentage point of clinker vs 75 %.
CLINKER_RATIO_BASIS_PCT = 75.0
CLINKER_RATIO_PER_PCT = {"level_1": 1.10, "level_2": 1.15, "level_3": 1.20}


@dataclass(frozen=True)
class ProcessIn:
    code: str
    name: str
    site: str
    meters: list[str]
    product: str
    unit: str = "t"
    benchmark: str | None = None
    corrections: dict[str, float] = field(default_factory=dict)


def _check_corrections(c: dict[str, float]) -> None:
    bounds = {
        "clinker_ratio_pct": (0.0, 100.0),
        "altitude_m": (-500.0, 9000.0),
        "altitude_factor": (1.0, 2.0),
    }
    for key, value in c.items():
        lo, hi = bounds[key]
        if not isinstance(value, int | float) or not math.isfinite(value) or not lo <= value <= hi:
            raise Invalid(f"corrections.{key}", f"a number from {lo:g} to {hi:g}")
    if "altitude_factor" in c and "altitude_m" not in c:
        raise Invalid("corrections.altitude_m", "the altitude factor needs the plant's altitude_m")


def create_process(session: Session, data: ProcessIn, actor: str) -> Process:
    for name in ("code", "name", "product", "unit"):
        if not getattr(data, name).strip():
            raise Invalid(name, "must not be empty")
    if not data.meters:
        raise Invalid("meters", "list at least one meter")
    if len(set(data.meters)) != len(data.meters):
        raise Invalid("meters", "a meter is listed twice")
    unknown = set(data.corrections) - set(CORRECTION_KEYS)
    if unknown:
        raise Invalid("corrections", f"known keys: {', '.join(CORRECTION_KEYS)}")
    _check_corrections(data.corrections)
    site = registry.get_site(session, data.site)
    if session.scalar(select(Process.id).where(Process.code == data.code)):
        raise Conflict("code", f"process {data.code!r} exists")
    meters = [registry.get_meter(session, c) for c in data.meters]
    inside = set(registry.subtree_ids(session, site.id))
    ids = {m.id for m in meters}
    for m in meters:
        if m.kind == "gauge":
            raise Invalid("meters", f"{m.code} is a gauge: it measures no quantity")
        if m.site_id not in inside:
            raise Invalid("meters", f"{m.code} is not installed in {site.code} or below it")
        if coefficients.tce_per_unit(m.carrier, m.canonical_unit) is None:
            raise Invalid("meters", f"{m.code}: no GB/T 2589 coefficient for {m.carrier}")
        if _has_ancestor_in(session, m, ids):
            raise Invalid("meters", f"{m.code} is a sub-meter of another listed meter")
    if data.benchmark is not None:
        row = library.find(session, data.benchmark)
        if not row["unit"].startswith("kgce") and not row["unit"].startswith("kWh"):
            raise Invalid("benchmark", f"{data.benchmark} is in {row['unit']}, not kgce or kWh")
    proc = Process(
        code=data.code.strip(),
        name=data.name.strip(),
        site_id=site.id,
        product=data.product.strip(),
        unit=data.unit.strip(),
        benchmark=data.benchmark,
        corrections=dict(data.corrections) or None,
        created_by=actor,
    )
    session.add(proc)
    session.flush()
    session.add_all(ProcessMeter(process_id=proc.id, meter_id=m.id) for m in meters)
    session.flush()
    return proc


def _has_ancestor_in(session: Session, m: Meter, ids: set[int]) -> bool:
    parent, seen = m.parent_id, set()
    while parent is not None and parent not in seen:
        if parent in ids:
            return True
        seen.add(parent)
        parent = session.scalar(select(Meter.parent_id).where(Meter.id == parent))
    return False


def get_process(session: Session, code: str) -> Process:
    p = session.scalar(select(Process).where(Process.code == code))
    if p is None:
        raise NotFound("process", f"unknown process {code!r}")
    return p


def process_meters(session: Session, proc: Process) -> list[Meter]:
    return list(
        session.scalars(
            select(Meter)
            .join(ProcessMeter, ProcessMeter.meter_id == Meter.id)
            .where(ProcessMeter.process_id == proc.id)
            .order_by(Meter.id)
        )
    )


def output(session: Session, proc: Process, start: datetime, end: datetime) -> float:
    """Output in the process unit over [start, end): production rows pro-rated by overlap."""
    rows = session.scalars(
        select(CarbonProduction).where(
            CarbonProduction.site_id == proc.site_id,
            CarbonProduction.product == proc.product,
            CarbonProduction.unit == proc.unit,
            CarbonProduction.period_start < end,
            CarbonProduction.period_end > start,
        )
    )
    total = 0.0
    for r in rows:
        span = (r.period_end - r.period_start).total_seconds()
        inside = (min(end, r.period_end) - max(start, r.period_start)).total_seconds()
        total += r.quantity * inside / span
    return total


def site_of(session: Session, site_id: int) -> Site:
    """The site row of a process (its foreign key: present unless deleted meanwhile)."""
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("site", f"unknown site id {site_id}")
    return site


def energy(session: Session, proc: Process, start: datetime, end: datetime) -> dict:
    """``{"energy_tce", "carriers": [{carrier, unit, quantity, tce}]}`` over (start, end]."""
    meters = process_meters(session, proc)
    by_meter = period_energy(session, [m.id for m in meters], start, end)
    carriers: dict[tuple[str, str], list[float]] = {}
    for m in meters:
        q = by_meter.get(m.id, 0.0)
        acc = carriers.setdefault((m.carrier, m.canonical_unit), [0.0, 0.0])
        acc[0] += q
        acc[1] += q * (coefficients.tce_per_unit(m.carrier, m.canonical_unit) or 0.0)
    rows = []
    for (c, u), v in sorted(carriers.items()):
        coef = coefficients.tce_row(c) or {}
        rows.append(
            {
                "carrier": c,
                "unit": u,
                "quantity": v[0],
                "tce": v[1],
                "coefficient": coef.get("value"),
                "coefficient_unit": coef.get("unit"),
                "coefficient_source": coef.get("source_document"),
            }
        )
    return {"energy_tce": sum(r["tce"] for r in rows), "carriers": rows}


def corrected_levels(row: dict, corrections: dict | None) -> tuple[dict, list[dict]]:
    """The row's levels with the standard's corrections where the data allow, and a note per
    correction (applied or why not)."""
    levels = {k: row.get(k) for k in library.LEVELS}
    notes: list[dict] = []
    corrections = corrections or {}
    note = (row.get("correction_note") or "").lower()
    ratio = corrections.get("clinker_ratio_pct")
    if "clinker-ratio correction" in note:
        if ratio is None:
            notes.append(
                {
                    "correction": "clinker_ratio",
                    "applied": False,
                    "why": "clinker_ratio_pct of the process not given",
                }
            )
        else:
            d = float(ratio) - CLINKER_RATIO_BASIS_PCT
            for k, per in CLINKER_RATIO_PER_PCT.items():
                level = levels[k]
                if level is not None:
                    levels[k] = level + per * d
            notes.append(
                {
                    "correction": "clinker_ratio",
                    "applied": True,
                    "clinker_ratio_pct": ratio,
                    "formula": "level_i + k_i × (ratio − 75), k = 1.10/1.15/1.20",
                }
            )
    alt = corrections.get("altitude_m")
    if "altitude" in note and alt is not None:
        notes.append(_altitude(levels, float(alt), corrections.get("altitude_factor")))
    return levels, notes


def _altitude(levels: dict, altitude_m: float, factor: float | None) -> dict:
    """Level 3 × the standard's altitude factor for a plant above 1500 m (GB 16780-2021; the
    factor is the user's input: the shipped data carry the rule, not the value)."""
    base = {"correction": "altitude", "altitude_m": altitude_m}
    if altitude_m <= ALTITUDE_THRESHOLD_M:
        return {**base, "applied": False, "why": "plant at or below 1500 m: no correction"}
    if factor is None:
        return {
            **base,
            "applied": False,
            "why": "altitude_factor not given (the standard's value for the plant's altitude; "
            "not in the shipped data): level 3 unchanged",
        }
    if levels.get("level_3") is not None:
        levels["level_3"] = levels["level_3"] * float(factor)
    return {
        **base,
        "applied": True,
        "altitude_factor": float(factor),
        "formula": "level_3 × altitude_factor (above 1500 m; factor entered by the user)",
    }


def rate(value: float | None, levels: dict) -> str:
    """The best level the value meets (lower is better, a value on a level meets it)."""
    if value is None or not math.isfinite(value):
        return "no_levels"
    present = [k for k in ("level_1", "level_2", "level_3") if levels.get(k) is not None]
    if not present:
        return "no_levels"
    for k in present:
        if value <= levels[k]:
            return k
    return "above_level_3"


def process_rating(session: Session, proc: Process, start: datetime, end: datetime) -> dict:
    """One entry of ``GET /benchmarking``: output, energy, unit consumption, levels, rating."""
    e = energy(session, proc, start, end)
    out = output(session, proc, start, end)
    per_unit = e["energy_tce"] * 1000.0 / out if out > 0 else None
    row = library.find(session, proc.benchmark) if proc.benchmark else None
    compare = per_unit
    levels: dict = dict.fromkeys(library.LEVELS)
    notes: list[dict] = []
    if row is not None:
        levels, notes = corrected_levels(row, proc.corrections)
        if row["unit"].startswith("kWh"):  # an electricity-only level: compare kWh per unit
            kwh = sum(c["quantity"] for c in e["carriers"] if c["unit"] == "kWh")
            compare = kwh / out if out > 0 else None
    rating = rate(compare, levels) if row is not None else "no_levels"
    at_benchmark = (
        compare is not None
        and levels.get("benchmark") is not None
        and compare <= levels["benchmark"]
    )
    return {
        "process": proc.code,
        "name": proc.name,
        "site": site_of(session, proc.site_id).code,
        "product": proc.product,
        "output": out,
        "unit": proc.unit,
        "energy_tce": e["energy_tce"],
        "unit_consumption_kgce": per_unit,
        "unit_consumption_unit": f"kgce/{proc.unit}",
        "per_carrier": [
            {
                **c,
                "per_unit": c["quantity"] / out if out > 0 else None,
                "per_unit_unit": f"{c['unit']}/{proc.unit}",
            }
            for c in e["carriers"]
        ],
        "compared_value": compare,
        "compared_unit": row["unit"] if row else None,
        "levels": levels,
        "rating": rating,
        "at_benchmark": at_benchmark,
        "light": "green" if at_benchmark else LIGHT[rating],
        "benchmark_ref": proc.benchmark,
        "standard": row and row["standard"],
        "source": row and row["source"],
        "verification": row and row["verification"],
        "single_source": row["single_source"] if row else None,
        "corrections": notes,
        "derivation": "unit_consumption_kgce = Σ quantity × GB/T 2589 coefficient × 1000 / output",
    }


def site_processes(session: Session, site: str) -> list[Process]:
    s = registry.get_site(session, site)
    ids = registry.subtree_ids(session, s.id)
    return list(
        session.scalars(select(Process).where(Process.site_id.in_(ids)).order_by(Process.code))
    )


def benchmarking(session: Session, site: str, start: datetime, end: datetime) -> dict:
    """``{"processes": [...]}`` for every process of the site subtree, with the internal
    ranking among processes making the same product."""
    series.check_period(start, end)
    rows = [process_rating(session, p, start, end) for p in site_processes(session, site)]
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        if r["unit_consumption_kgce"] is not None:
            groups[(r["product"], r["unit"])].append(r)
    for group in groups.values():
        group.sort(key=lambda r: r["unit_consumption_kgce"])
        for i, r in enumerate(group, 1):
            r["rank"] = {"position": i, "of": len(group)}
    for r in rows:
        r.setdefault("rank", None)
    return {"site": site, "start": start, "end": end, "processes": rows}


def share_at_level_1(session: Session, site: str, start: datetime, end: datetime) -> dict:
    """For the zero-carbon scorecard: processes rated level 1 or at the 标杆 value, of the
    processes rated. ``value_pct`` is None when no process is rated."""
    rows = [process_rating(session, p, start, end) for p in site_processes(session, site)]
    rated = [r for r in rows if r["rating"] != "no_levels"]
    good = [r for r in rated if r["rating"] == "level_1" or r["at_benchmark"]]
    return {
        "value_pct": 100.0 * len(good) / len(rated) if rated else None,
        "processes_rated": len(rated),
        "processes_at_level_1": [r["process"] for r in good],
        "ratings": {r["process"]: r["rating"] for r in rated},
    }


def _local_days(
    start: datetime, end: datetime, tz: ZoneInfo
) -> list[tuple[date, datetime, datetime]]:
    out = []
    d = start.astimezone(tz).date()
    while True:
        lo = datetime(d.year, d.month, d.day, tzinfo=tz)
        if lo >= end:
            break
        hi = datetime.fromordinal(d.toordinal() + 1).replace(tzinfo=tz)
        a, b = max(lo, start), min(hi, end)
        if a < b:
            out.append((d, a, b))
        d = hi.date()
    return out


SHIFTS = (("night", 0, 8), ("day", 8, 16), ("evening", 16, 24))  # local hours [from, to)


def _hourly_tce(
    session: Session, proc: Process, start: datetime, end: datetime, tz: ZoneInfo
) -> dict[datetime, float]:
    """tce per hour (local start) of the process's meters."""
    out: dict[datetime, float] = defaultdict(float)
    for m in process_meters(session, proc):
        coef = coefficients.tce_per_unit(m.carrier, m.canonical_unit) or 0.0
        for p in series.meter_series(session, m.code, start, end, "1h")["points"]:
            out[p["ts"].astimezone(tz)] += float(p["value"] or 0.0) * coef
    return out


def shifts(session: Session, proc: Process, start: datetime, end: datetime) -> list[dict]:
    """Shifts compared: energy per shift; output from production rows that lie inside one
    shift (rows spanning shifts are not split: their output is left unattributed)."""
    tz = ZoneInfo(site_of(session, proc.site_id).timezone or "UTC")
    energy_by = dict.fromkeys((n for n, _, _ in SHIFTS), 0.0)
    for ts, v in _hourly_tce(session, proc, start, end, tz).items():
        energy_by[next(n for n, a, b in SHIFTS if a <= ts.hour < b)] += v
    output_by = dict.fromkeys(energy_by, 0.0)
    rows = session.scalars(
        select(CarbonProduction).where(
            CarbonProduction.site_id == proc.site_id,
            CarbonProduction.product == proc.product,
            CarbonProduction.unit == proc.unit,
            CarbonProduction.period_start >= start,
            CarbonProduction.period_end <= end,
        )
    )
    for r in rows:
        a, b = r.period_start.astimezone(tz), r.period_end.astimezone(tz)
        for name, lo, hi in SHIFTS:
            end_hour = b.hour + (24 if b.date() > a.date() and b.hour == 0 else 0)
            if (b - a).total_seconds() <= 8 * 3600 and lo <= a.hour and end_hour <= hi:
                output_by[name] += r.quantity
                break
    return [
        {
            "shift": n,
            "hours": f"{a:02d}:00–{b:02d}:00",
            "energy_tce": energy_by[n],
            "output": output_by[n],
            "unit_consumption_kgce": energy_by[n] * 1000 / output_by[n] if output_by[n] else None,
        }
        for n, a, b in SHIFTS
    ]


def daily(session: Session, proc: Process, start: datetime, end: datetime) -> list[dict]:
    """Per local day of the site: energy (tce), output and unit consumption (kgce/unit)."""
    series.check_period(start, end)
    tz = ZoneInfo(site_of(session, proc.site_id).timezone or "UTC")
    tce_by_day: dict[date, float] = defaultdict(float)
    for ts, v in _hourly_tce(session, proc, start, end, tz).items():
        tce_by_day[ts.date()] += v
    out = []
    for d, a, b in _local_days(start, end, tz):
        o = output(session, proc, a, b)
        t = tce_by_day.get(d, 0.0)
        out.append(
            {
                "day": d,
                "energy_tce": t,
                "output": o,
                "unit_consumption_kgce": t * 1000.0 / o if o > 0 else None,
            }
        )
    return out


def trend(
    session: Session, code: str, start: datetime, end: datetime, resolution: str = "day"
) -> dict:
    """Unit consumption by day, month or year, and the best-10 %-days target: the 10th
    percentile of the daily unit consumption of days with output."""
    if resolution not in ("day", "month", "year"):
        raise Invalid("resolution", "one of day, month, year")
    proc = get_process(session, code)
    days = daily(session, proc, start, end)
    key = {
        "day": lambda d: d.isoformat(),
        "month": lambda d: f"{d:%Y-%m}",
        "year": lambda d: f"{d:%Y}",
    }[resolution]
    buckets: dict[str, list[float]] = {}
    for r in days:
        acc = buckets.setdefault(key(r["day"]), [0.0, 0.0])
        acc[0] += r["energy_tce"]
        acc[1] += r["output"]
    points = [
        {
            "period": k,
            "energy_tce": v[0],
            "output": v[1],
            "unit_consumption_kgce": v[0] * 1000.0 / v[1] if v[1] > 0 else None,
        }
        for k, v in buckets.items()
    ]
    return {
        "process": proc.code,
        "unit_consumption_unit": f"kgce/{proc.unit}",
        "resolution": resolution,
        "points": points,
        "target": best_days_target(days),
        "shifts": shifts(session, proc, start, end),
    }


def best_days_target(days: list[dict]) -> dict:
    vals = sorted(
        r["unit_consumption_kgce"] for r in days if r["unit_consumption_kgce"] is not None
    )
    if not vals:
        return {"target_kgce": None, "days": 0}
    p10 = float(np.percentile(vals, 10))
    best = [v for v in vals if v <= p10]
    return {
        "target_kgce": p10,
        "days": len(vals),
        "best_days": len(best),
        "method": "10th percentile of daily unit consumption (days with output)",
    }
