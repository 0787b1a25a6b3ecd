"""Cost of a site (or some of its meters) over (start, end]: electricity by TOU period, the
month's demand charge and power-factor adjustment, and other carriers at their unit prices,
with a derivation (inputs, formulas, results, sha256) that reproduces every figure.

Intervals: every meter's energy is read from the 15-minute rollup, whose bucket
``(s, s + 15 min]`` holds the readings stamped at its end; a bucket is priced by the TOU period
that contains it, i.e. the period at ``s`` in the billing site's local time (tariff hours are
on quarter hours). Months are the billing site's local calendar months: a range covering part
of a month carries that month's demand charge pro rata by time (on the maximum demand so far)
and the power-factor adjustment of the covered part. Demand and power-factor charges belong to
the billing point: they are computed for the site that holds the tariff assignment, not for its
workshops or single meters (those get the energy charge).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core import units
from core.errors import Invalid
from cost import clock, derivation, event_days, power_factor, schedule, tariffs
from metering import registry
from metering.series import ensure_fresh
from models import Meter, Site
from models.cost import CarrierPrice, Tariff

CENT = Decimal("0.01")
KWH = Decimal("0.001")
STEP_US = 900_000_000
BLOCKS_PER_HOUR = 4
NOT_PRICED = {"pv_generation", "wind_generation", "grid_export", "other", "compressed_air"}
FORMULAS = {
    "energy_cny": "Σ_month Σ_period round(kWh_period, 0.001) × price_period (CNY/kWh, the tariff "
    "version in force that local day), each line rounded to 0.01 CNY; + other carriers",
    "period_of_interval": "a 15-minute bucket (s, s+15min] belongs to the TOU period at s "
    "(local time)",
    "max_demand_kw": "max over the month's 15-minute buckets of Σ top-level electricity kWh × 4",
    "demand_month_cny": "max_demand: contracted_kw (>= 40 % of capacity_kva) × price + "
    "max(0, max_demand_kw − 1.05 × contracted_kw) × 2 × price; without a contract max_demand_kw "
    "× price; capacity: capacity_kva × price",
    "demand_cny": "Σ_month demand_month_cny × covered share of the month (time)",
    "power_factor": "round_half_up(kWh / √(kWh² + kvarh²), 0.01) per month",
    "power_factor_cny": "adjustment_pct(standard, pf) / 100 × (energy_cny_month + demand_cny_month "
    "− funds_cny_per_kwh × kWh_month), rounded to 0.01",
    "carrier_cny": "quantity in the price's unit × price_cny_per_unit (the newest price valid "
    "that day)",
    "total_cny": "energy_cny + demand_cny + power_factor_cny",
}


def _round(x: Decimal, q: Decimal = CENT) -> Decimal:
    return x.quantize(q, rounding=ROUND_HALF_UP)


def _dec(x: float) -> Decimal:
    return _round(Decimal(repr(float(x))), KWH)


def check_range(start: datetime, end: datetime) -> None:
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None:
            raise Invalid(name, "timestamp without UTC offset")
        if int(value.timestamp()) % 900 or value.microsecond:
            raise Invalid(
                name, "must be on a 15-minute boundary (costs are priced per quarter hour)"
            )
    if end <= start:
        raise Invalid("end", "must be after start")


def _is_workday(day: date) -> bool:
    try:
        import chinese_calendar

        return bool(chinese_calendar.is_workday(day))
    except (ImportError, NotImplementedError):  # outside the calendar's years: Mon-Fri
        return day.weekday() < 5


def _meters(session: Session, site: Site, meter_codes: list[str] | None) -> list[Meter]:
    if meter_codes:
        found = [registry.get_meter(session, c) for c in meter_codes]
        inside = set(registry.site_subtree_ids(session, site.code))
        for m in found:
            if m.site_id not in inside:
                raise Invalid("meter", f"meter {m.code!r} is not in site {site.code!r}")
        return found
    ids = registry.site_subtree_ids(session, site.code)
    meters = list(
        session.scalars(
            select(Meter).where(Meter.site_id.in_(ids), Meter.kind != "gauge").order_by(Meter.id)
        )
    )
    inside = {m.id for m in meters}
    return [m for m in meters if m.parent_id is None or m.parent_id not in inside]


_BUCKETS = """
SELECT meter_id, (extract(epoch FROM bucket) * 1000000)::bigint - 1, energy
FROM rollup_15m WHERE meter_id = ANY(:m) AND bucket >= :s AND bucket < :e AND energy IS NOT NULL
"""


def _buckets(
    session: Session, meter_ids: list[int], start: datetime, end: datetime
) -> list[tuple[int, int, float]]:
    if not meter_ids:
        return []
    ensure_fresh(session, meter_ids)
    us = timedelta(microseconds=1)
    return [
        (int(m), int(b), float(e))
        for m, b, e in session.execute(
            text(_BUCKETS), {"m": meter_ids, "s": start + us, "e": end + us}
        ).all()
    ]


@dataclass
class _Month:
    key: str
    start: datetime
    end: datetime
    share: Decimal
    version: Tariff | None = None
    kwh: Decimal = Decimal(0)
    kvarh: Decimal = Decimal(0)
    max_kw: Decimal = Decimal(0)
    energy_cny: Decimal = Decimal(0)
    demand_cny: Decimal = Decimal(0)
    pf: Decimal | None = None
    pf_pct: Decimal | None = None
    pf_cny: Decimal = Decimal(0)
    billed_kw: Decimal | None = None
    demand_month_cny: Decimal = Decimal(0)


def _months(start: datetime, end: datetime, zone: Any) -> list[_Month]:
    out = []
    local = start.astimezone(zone)
    y, m = local.year, local.month
    while True:
        ms, me = clock.month_bounds(y, m, zone)
        if ms >= end:
            break
        lo, hi = max(start, ms), min(end, me)
        share = Decimal(int((hi - lo).total_seconds())) / Decimal(int((me - ms).total_seconds()))
        out.append(_Month(f"{y:04d}-{m:02d}", lo, hi, share))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def demand_month_cny(t: Tariff, max_kw: Decimal) -> tuple[Decimal | None, Decimal]:
    """(billed kW or kVA, the month's demand charge) under a tariff version."""
    if t.demand_basis is None or t.demand_price_cny is None:
        return None, Decimal(0)
    price = t.demand_price_cny
    if t.demand_basis == "capacity":
        assert t.capacity_kva is not None
        return t.capacity_kva, t.capacity_kva * price
    if t.contracted_kw is None:
        return max_kw, max_kw * price
    contract = t.contracted_kw
    if t.capacity_kva is not None:
        contract = max(contract, t.capacity_kva * Decimal("0.4"))
    excess = max(Decimal(0), max_kw - contract * Decimal("1.05"))
    return contract, contract * price + excess * 2 * price


def site_cost(
    session: Session,
    site_code: str,
    start: datetime,
    end: datetime,
    *,
    meters: list[str] | None = None,
    record: bool = True,
    require_tariff: bool = True,
) -> dict[str, Any]:
    """The cost figures of the contract (``total_cny`` … ``derivation_hash``) plus months,
    days and the tariff versions used. ``require_tariff=False`` (energy budgets) counts the kWh
    of days without a tariff instead of refusing them."""
    check_range(start, end)
    site = registry.get_site(session, site_code)
    billing = tariffs.billing_site(session, site)
    zone = clock.site_zone((billing[0] if billing else site).timezone)
    assignments = billing[1] if billing else []
    at_billing_point = billing is not None and billing[0].id == site.id and not meters
    chosen = _meters(session, site, meters)
    elec = [m for m in chosen if m.carrier == units.Carrier.ELECTRICITY.value]
    reactive = [m for m in chosen if m.carrier == units.Carrier.REACTIVE_ENERGY.value]
    others = [
        m
        for m in chosen
        if m.carrier not in NOT_PRICED
        and m.carrier not in (units.Carrier.ELECTRICITY.value, units.Carrier.REACTIVE_ENERGY.value)
    ]
    priced = {m.id for m in others}
    rows = _buckets(session, [m.id for m in (*elec, *reactive, *others)], start, end)
    kind = {m.id: m.carrier for m in chosen}
    months = _months(start, end, zone)
    month_of = {mo.key: mo for mo in months}

    # electricity per bucket (site sum), reactive per month
    e_by_bucket: dict[int, float] = defaultdict(float)
    q_by_bucket: dict[int, float] = defaultdict(float)
    other_rows: list[tuple[int, int, float]] = []
    for mid, b, e in rows:
        if kind[mid] == units.Carrier.ELECTRICITY.value:
            e_by_bucket[b] += e
        elif kind[mid] == units.Carrier.REACTIVE_ENERGY.value:
            q_by_bucket[b] += e
        elif mid in priced:
            other_rows.append((mid, b, e))

    versions: dict[int, tariffs.Version] = {}
    version_by_day: dict[date, Tariff | None] = {}

    def version_for(day: date) -> Tariff | None:
        if day not in version_by_day:
            version_by_day[day] = tariffs.version_on(session, assignments, day)
        return version_by_day[day]

    events_used: dict[str, list[date]] = {}  # tariff code → its event days in the period
    lines: dict[tuple[str, int, int], float] = defaultdict(float)  # (month, tariff, row) → kWh
    by_day_kwh: dict[date, float] = defaultdict(float)
    by_day_line: dict[tuple[date, int, int], float] = defaultdict(float)
    if e_by_bucket:
        ts = np.array(sorted(e_by_bucket), np.int64)
        kwh = np.array([e_by_bucket[t] for t in ts])
        local = clock.local_parts(ts, zone)
        minute = (local.hour * 60 + local.minute).to_numpy()
        month_idx = (local.month - 1).to_numpy()
        dates = local.date
        keys = [f"{d.year:04d}-{d.month:02d}" for d in dates]
        for d in sorted(set(dates)):
            if version_for(d) is None and require_tariff:
                raise Invalid(
                    "site",
                    f"site {site_code!r} has no tariff in force on {d.isoformat()} "
                    "(PUT /api/v1/sites/{code}/tariff)",
                )
        daytypes = {d: 0 if _is_workday(d) else 1 for d in set(dates)}
        codes = {t.code for t in version_by_day.values() if t is not None}
        events = event_days.days_of(session, codes, min(dates), max(dates))
        for code, days in events.items():
            if days:
                events_used[code] = sorted(days)
        for i in range(len(ts)):
            d = dates[i]
            by_day_kwh[d] += kwh[i]
            mo = month_of[keys[i]]
            mo.max_kw = max(mo.max_kw, _dec(kwh[i] * BLOCKS_PER_HOUR))
            t = version_by_day[d]
            if t is None:  # not priced (require_tariff=False)
                mo.kwh += _dec(kwh[i])
                continue
            v = tariffs.load_version(session, t, versions)
            row = int(v.grid[daytypes[d], month_idx[i], minute[i]])
            if d in events[t.code]:  # an event day: its event rows replace their hours
                ev = int(v.grid[schedule.EVENT_LAYER, month_idx[i], minute[i]])
                row = ev if ev >= 0 else row
            lines[(keys[i], t.id, row)] += kwh[i]
            by_day_line[(d, t.id, row)] += kwh[i]
    for b, q in q_by_bucket.items():
        d = clock.local_parts(np.array([b], np.int64), zone)[0]
        month_of[f"{d.year:04d}-{d.month:02d}"].kvarh += Decimal(repr(q))

    by_period: dict[str, dict[str, Decimal]] = {}
    energy_lines = []
    for (mkey, tid, row), e in sorted(lines.items()):
        price_row = versions[tid].rows[row]
        k = _dec(e)
        cny = _round(k * price_row.price_cny_per_kwh)
        mo = month_of[mkey]
        mo.kwh += k
        mo.energy_cny += cny
        agg = by_period.setdefault(price_row.period, {"kwh": Decimal(0), "cny": Decimal(0)})
        agg["kwh"] += k
        agg["cny"] += cny
        energy_lines.append(
            {
                "month": mkey,
                "tariff_id": tid,
                "period": price_row.period,
                "hours": price_row.hours,
                "kwh": k,
                "price_cny_per_kwh": price_row.price_cny_per_kwh,
                "cny": cny,
            }
        )

    demand_cny = pf_cny = Decimal(0)
    for mo in months:
        mo.kvarh = _round(mo.kvarh, KWH)
        mo.version = version_for(mo.start.astimezone(zone).date()) if assignments else None
        if not at_billing_point or mo.version is None:
            continue
        t = mo.version
        mo.billed_kw, mo.demand_month_cny = demand_month_cny(t, mo.max_kw)
        mo.demand_cny = _round(mo.demand_month_cny * mo.share)
        demand_cny += mo.demand_cny
        if t.power_factor_standard is not None and reactive:
            mo.pf = power_factor.power_factor(mo.kwh, mo.kvarh)
            if mo.pf is not None:
                mo.pf_pct = power_factor.adjustment_pct(t.power_factor_standard, mo.pf)
                base = mo.energy_cny + mo.demand_cny - t.funds_cny_per_kwh * mo.kwh
                mo.pf_cny = _round(base * mo.pf_pct / 100)
                pf_cny += mo.pf_cny

    elec_energy = sum((mo.energy_cny for mo in months), Decimal(0))
    elec_kwh = sum((mo.kwh for mo in months), Decimal(0))
    carriers, carrier_inputs, missing, by_day_other = _other_carriers(
        session, billing[0] if billing else site, others, other_rows, zone
    )
    other_cny = sum((c["cny"] for c in carriers), Decimal(0))
    energy_cny = elec_energy + other_cny
    total = energy_cny + demand_cny + pf_cny
    by_carrier = []
    if elec:
        by_carrier.append(
            {
                "carrier": "electricity",
                "quantity": elec_kwh,
                "unit": "kWh",
                "cny": elec_energy + demand_cny + pf_cny,
            }
        )
    by_carrier += carriers
    used = sorted({t.id for t in version_by_day.values() if t is not None} | set(versions))
    tariff_rows = [session.get(Tariff, tid) for tid in used]
    tariff_inputs = [
        {k: v for k, v in tariffs.to_dict(session, t).items() if k not in ("created_at",)}
        for t in tariff_rows
        if t is not None
    ]
    month_out = [
        {
            "month": mo.key,
            "start": mo.start,
            "end": mo.end,
            "share_of_month": str(_round(mo.share, Decimal("0.000001"))),
            "tariff_id": mo.version.id if mo.version else None,
            "kwh": mo.kwh,
            "kvarh": mo.kvarh,
            "max_demand_kw": mo.max_kw,
            "billed_demand": mo.billed_kw,
            "demand_month_cny": _round(mo.demand_month_cny),
            "demand_cny": mo.demand_cny,
            "energy_cny": mo.energy_cny,
            "power_factor": mo.pf,
            "power_factor_adjustment_pct": mo.pf_pct,
            "power_factor_cny": mo.pf_cny,
        }
        for mo in months
    ]
    inputs: dict[str, Any] = {
        "site": site_code,
        "billing_site": billing[0].code if billing else None,
        "timezone": str(zone.key),
        "start": start,
        "end": end,
        "meters": [
            {"meter": m.code, "carrier": m.carrier, "unit": m.canonical_unit} for m in chosen
        ],
        "tariff_versions": tariff_inputs,
        "energy_lines": energy_lines,
        "months": [
            {
                k: v
                for k, v in mo.items()
                if k in ("month", "share_of_month", "tariff_id", "kwh", "kvarh", "max_demand_kw")
            }
            for mo in month_out
        ],
        "carriers": carrier_inputs,
        "demand_and_power_factor": "billed here"
        if at_billing_point
        else "billed at the billing site",
    }
    result = {
        "site": site_code,
        "meters": meters,
        "start": start,
        "end": end,
        "currency": "CNY",
        "total_cny": total,
        "energy_cny": energy_cny,
        "demand_cny": demand_cny,
        "power_factor_cny": pf_cny,
        "by_period": [
            {"period": p, "kwh": by_period[p]["kwh"], "cny": by_period[p]["cny"]}
            for p in schedule.PERIODS
            if p in by_period
        ],
        "by_carrier": by_carrier,
        "tariff": tariff_rows[0].code if tariff_rows and tariff_rows[0] else None,
        "tariff_versions": [
            {"id": t.id, "code": t.code, "version": t.version} for t in tariff_rows if t
        ],
        "billing_site": billing[0].code if billing else None,
        "months": month_out,
        "by_day": _by_day(by_day_kwh, by_day_line, by_day_other, versions),
        "missing_prices": missing,
    }
    if events_used:  # only then: figures without event days keep their hashes
        inputs["event_days"] = {
            c: [d.isoformat() for d in ds] for c, ds in sorted(events_used.items())
        }
    digest = derivation.content_hash(inputs, FORMULAS)
    if record:
        derivation.record(
            session,
            "cost",
            inputs,
            FORMULAS,
            {
                k: result[k]
                for k in ("total_cny", "energy_cny", "demand_cny", "power_factor_cny", "by_period")
            },
        )
    result["derivation_hash"] = digest
    return result


def _by_day(
    kwh: dict[date, float],
    line: dict[tuple[date, int, int], float],
    other: dict[date, Decimal],
    versions: dict[int, tariffs.Version],
) -> list[dict[str, Any]]:
    cny: dict[date, Decimal] = defaultdict(Decimal)
    for (d, tid, row), e in line.items():
        cny[d] += _dec(e) * versions[tid].rows[row].price_cny_per_kwh
    days = sorted(set(kwh) | set(other))
    return [
        {
            "date": d,
            "kwh": _dec(kwh.get(d, 0.0)),
            "energy_cny": _round(cny.get(d, Decimal(0)) + other.get(d, Decimal(0))),
        }
        for d in days
    ]


def _prices(session: Session, site: Site, carrier: str) -> list[CarrierPrice]:
    return list(
        session.scalars(
            select(CarrierPrice)
            .where(
                CarrierPrice.carrier == carrier,
                (CarrierPrice.site_id.is_(None)) | (CarrierPrice.site_id == site.id),
            )
            .order_by(CarrierPrice.site_id.is_(None), CarrierPrice.id.desc())
        )
    )


def _other_carriers(
    session: Session,
    billing: Site,
    meters: list[Meter],
    rows: list[tuple[int, int, float]],
    zone: Any,
) -> tuple[list[dict], list[dict], list[dict], dict[date, Decimal]]:
    """Quantities of gas, steam, heat, water … per local day, at the price valid that day."""
    by_id = {m.id: m for m in meters}
    qty: dict[tuple[str, str, date], float] = defaultdict(float)
    if rows:
        ts = np.array([b for _, b, _ in rows], np.int64)
        dates = clock.local_parts(ts, zone).date
        for (mid, _, e), d in zip(rows, dates, strict=True):
            m = by_id[mid]
            qty[(m.carrier, m.canonical_unit, d)] += e
    out: dict[tuple[str, str], dict[str, Any]] = {}
    inputs, missing = [], []
    by_day: dict[date, Decimal] = defaultdict(Decimal)
    price_cache: dict[str, list[CarrierPrice]] = {}
    for (carrier, unit, d), q in sorted(qty.items()):
        agg = out.setdefault(
            (carrier, unit),
            {"carrier": carrier, "quantity": Decimal(0), "unit": unit, "cny": Decimal(0)},
        )
        amount = _dec(q)
        agg["quantity"] += amount
        if carrier not in price_cache:
            price_cache[carrier] = _prices(session, billing, carrier)
        price = next(
            (
                p
                for p in price_cache[carrier]
                if p.valid_from <= d and (p.valid_to is None or p.valid_to > d)
            ),
            None,
        )
        if price is None:
            missing.append({"carrier": carrier, "date": d})
            continue
        factor, _ = units.conversion(unit, price.unit)
        cny = _round(amount * Decimal(repr(factor)) * price.price_cny_per_unit)
        agg["cny"] += cny
        by_day[d] += cny
        inputs.append(
            {
                "carrier": carrier,
                "date": d,
                "quantity": amount,
                "unit": unit,
                "price_id": price.id,
                "price_cny_per_unit": price.price_cny_per_unit,
                "price_unit": price.unit,
                "cny": cny,
            }
        )
    return list(out.values()), inputs, missing, by_day
