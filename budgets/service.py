"""Budgets: create (split evenly, by last year's profile, or month by month) and status.

Status of a month or a year at ``as_of`` (default now, floored to the quarter hour):

* ``actual``: the quantity over (period start, as_of];
* ``forecast_rest``: electricity kWh of (as_of, period end] from the newest stored forecast of
  the site's (or meter's) electricity (``forecasting``), and beyond its last point — or when
  none is stored — the run rate of the last seven days (of the period so far when shorter; of
  the seven days before the period when it has not started); for tce, CO₂ and CNY that kWh
  times the period's own ratio (quantity per kWh to date, or of that window);
* ``projected = actual + forecast_rest``, ``projected_pct = projected / budget × 100``;
* ``crossing_date``: the first local day on which the cumulative actual, then forecast, reaches
  the budget (None if the projection stays below).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Invalid, NotFound
from cost import clock, compute, tariffs
from models import Meter, Site
from models.cost import Budget

QUANTITIES = {
    "electricity_kwh": ("kWh", Decimal("0.001")),
    "energy_tce": ("tce", Decimal("0.000001")),
    "co2_t": ("tCO2", Decimal("0.000001")),
    "cost_cny": ("CNY", Decimal("0.01")),
}
SPLITS = ("even", "last_year", "months")
RUN_RATE_WINDOW = timedelta(days=7)
QUARTER = 900


@dataclass
class BudgetIn:
    site: str
    quantity: str
    year: int
    meter: str | None = None
    amount: Decimal | None = None
    months: list[Decimal] | None = None
    split: str | None = None


def _q(quantity: str, x: Decimal) -> Decimal:
    return x.quantize(QUANTITIES[quantity][1], rounding=ROUND_HALF_UP)


def _site(session: Session, code: str) -> Site:
    site = session.scalar(select(Site).where(Site.code == code))
    if site is None:
        raise Invalid("site", f"unknown site {code!r}")
    return site


def _zone(session: Session, site: Site) -> Any:
    billing = tariffs.billing_site(session, site)
    return clock.site_zone((billing[0] if billing else site).timezone)


def create_budget(session: Session, data: BudgetIn, user: str) -> Budget:
    site = _site(session, data.site)
    if data.quantity not in QUANTITIES:
        raise Invalid("quantity", f"must be one of {', '.join(QUANTITIES)}")
    if not 2000 <= data.year <= 2100:
        raise Invalid("year", "must be 2000 to 2100")
    meter_id = None
    if data.meter is not None:
        meter = session.scalar(select(Meter).where(Meter.code == data.meter))
        if meter is None:
            raise Invalid("meter", f"unknown meter {data.meter!r}")
        if data.quantity not in ("electricity_kwh", "cost_cny") or meter.carrier != "electricity":
            raise Invalid("meter", "a meter budget is for an electricity meter's kWh or cost (CNY)")
        meter_id = meter.id
    if data.months is not None:
        if data.split not in (None, "months"):
            raise Invalid("split", "months are given: leave split out (or months)")
        if len(data.months) != 12:
            raise Invalid("months", "give 12 monthly amounts (January to December)")
        months = [Decimal(str(m)) for m in data.months]
        if any(not m.is_finite() or m < 0 for m in months):
            raise Invalid("months", "amounts must be finite and >= 0")
        if data.amount is not None and Decimal(str(data.amount)) != sum(months):
            raise Invalid("amount", "differs from the sum of months; give one of them")
        split = "months"
    else:
        if data.amount is None:
            raise Invalid("amount", "give the year's amount (or 12 months)")
        amount = Decimal(str(data.amount))
        if not amount.is_finite() or amount <= 0:
            raise Invalid("amount", "must be a finite number above 0")
        split = data.split or "even"
        if split == "even":
            share = [Decimal(1)] * 12
        elif split == "last_year":
            share = _last_year(session, site, data.meter, data.quantity, data.year - 1)
        else:
            raise Invalid("split", "must be even or last_year (or give months)")
        total = sum(share)
        months = [_q(data.quantity, amount * s / total) for s in share]
        months[-1] += amount - sum(months)  # the months add up to the amount exactly
    budget = Budget(
        site_id=site.id,
        meter_id=meter_id,
        quantity=data.quantity,
        year=data.year,
        amount=sum(months),
        months=months,
        split=split,
        created_by=user,
    )
    session.add(budget)
    session.flush()
    return budget


def _last_year(
    session: Session, site: Site, meter: str | None, quantity: str, year: int
) -> list[Decimal]:
    zone = _zone(session, site)
    out = []
    for m in range(1, 13):
        lo, hi = clock.month_bounds(year, m, zone)
        out.append(measure(session, site.code, meter, quantity, lo, hi).total)
    if sum(out) <= 0:
        raise Invalid("split", f"no {quantity} measured in {year}: split evenly or give months")
    return out


def to_dict(session: Session, b: Budget) -> dict[str, Any]:
    site = session.get(Site, b.site_id)
    meter = session.get(Meter, b.meter_id) if b.meter_id else None
    return {
        "id": b.id,
        "site": site.code if site else None,
        "meter": meter.code if meter else None,
        "quantity": b.quantity,
        "unit": QUANTITIES[b.quantity][0],
        "year": b.year,
        "amount": b.amount,
        "months": list(b.months),
        "split": b.split,
        "created_by": b.created_by,
        "created_at": b.created_at,
    }


def current(
    session: Session, site: Site, quantity: str, year: int, meter: str | None = None
) -> Budget | None:
    stmt = select(Budget).where(
        Budget.site_id == site.id, Budget.quantity == quantity, Budget.year == year
    )
    if meter is None:
        stmt = stmt.where(Budget.meter_id.is_(None))
    else:
        stmt = stmt.join(Meter, Meter.id == Budget.meter_id).where(Meter.code == meter)
    return session.scalar(stmt.order_by(Budget.id.desc()).limit(1))


def list_budgets(session: Session, site: str | None = None) -> list[Budget]:
    stmt = select(Budget).order_by(Budget.id)
    if site is not None:
        stmt = stmt.join(Site, Site.id == Budget.site_id).where(Site.code == site)
    return list(session.scalars(stmt))


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Measured:
    total: Decimal
    kwh: Decimal
    kwh_by_day: dict[date, Decimal]


def measure(
    session: Session, site: str, meter: str | None, quantity: str, lo: datetime, hi: datetime
) -> Measured:
    """The quantity over (lo, hi], the electricity kWh and its profile by local day."""
    if hi <= lo:
        return Measured(Decimal(0), Decimal(0), {})
    cost = compute.site_cost(
        session,
        site,
        lo,
        hi,
        meters=[meter] if meter else None,
        record=False,
        require_tariff=quantity == "cost_cny",
    )
    by_day = {d["date"]: d["kwh"] for d in cost["by_day"]}
    kwh = sum(by_day.values(), Decimal(0))
    if quantity == "electricity_kwh":
        total = kwh
    elif quantity == "cost_cny":
        total = cost["total_cny"]
    else:
        from carbon import engine  # the carbon engine, only for tce and CO2 budgets

        em = engine.emissions(session, site, lo, hi)
        if quantity == "energy_tce":
            total = Decimal(repr(em["energy_tce"]))
        else:
            total = Decimal(repr(em["scope1_tco2"])) + Decimal(repr(em["scope2_location_tco2"]))
    return Measured(total, kwh, by_day)


def _floor(t: datetime) -> datetime:
    return datetime.fromtimestamp(int(t.timestamp()) // QUARTER * QUARTER, UTC)


def parse_period(text: str) -> tuple[int, int | None]:
    try:
        if len(text) == 4:
            return int(text), None
        y, m = text.split("-")
        year, month = int(y), int(m)
    except ValueError:
        raise Invalid("period", f"{text!r} is not YYYY or YYYY-MM") from None
    if not 1 <= month <= 12:
        raise Invalid("period", "month must be 01 to 12")
    return year, month


def _forecast_kwh_by_day(
    session: Session, site: Site, meter: str | None, lo: datetime, hi: datetime, zone: Any
) -> tuple[dict[date, Decimal], datetime]:
    """kWh per local day in [lo, hi) from the newest stored forecast, and how far it reaches."""
    from forecasting.runs import latest_run  # pandas: only when a status is asked
    from forecasting.subjects import find_subject
    from models.forecasting import ForecastPoint

    try:
        subject = find_subject(
            session, meter=meter, site=None if meter else site.code, carrier=None
        )
    except (Invalid, NotFound):
        return {}, lo
    if subject.quantity != "energy" or subject.unit != "kWh":
        return {}, lo
    run = latest_run(session, subject)
    if run is None:
        return {}, lo
    out: dict[date, Decimal] = defaultdict(Decimal)
    reach = lo
    for ts, yhat in session.execute(
        select(ForecastPoint.ts, ForecastPoint.yhat)
        .where(ForecastPoint.run_id == run.id, ForecastPoint.ts >= lo, ForecastPoint.ts < hi)
        .order_by(ForecastPoint.ts)
    ):
        if ts != reach:  # the forecast must continue from lo without a hole
            break
        out[ts.astimezone(zone).date()] += Decimal(repr(max(float(yhat), 0.0)))
        reach = ts + subject.step
    return dict(out), reach


def _spread(rate_per_s: Decimal, lo: datetime, hi: datetime, zone: Any) -> dict[date, Decimal]:
    """A constant rate over [lo, hi) split by local day."""
    out: dict[date, Decimal] = {}
    t = lo
    while t < hi:
        day = t.astimezone(zone).date()
        nxt = min(hi, clock.local_midnight(day + timedelta(days=1), zone))
        out[day] = out.get(day, Decimal(0)) + rate_per_s * int((nxt - t).total_seconds())
        t = nxt
    return out


def status(
    session: Session,
    site_code: str,
    quantity: str,
    period: str,
    *,
    meter: str | None = None,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    if quantity not in QUANTITIES:
        raise Invalid("quantity", f"must be one of {', '.join(QUANTITIES)}")
    if as_of is not None and as_of.tzinfo is None:
        raise Invalid("as_of", "timestamp without UTC offset")
    site = _site(session, site_code)
    year, month = parse_period(period)
    budget = current(session, site, quantity, year, meter)
    if budget is None:
        raise NotFound("budget", f"no {quantity} budget for {site_code} in {year}")
    zone = _zone(session, site)
    if month is None:
        ps, pe = (
            clock.local_midnight(date(year, 1, 1), zone),
            clock.local_midnight(date(year + 1, 1, 1), zone),
        )
        amount = budget.amount
    else:
        ps, pe = clock.month_bounds(year, month, zone)
        amount = budget.months[month - 1]
    now = _floor(as_of or datetime.now(UTC))
    t = min(max(now, ps), pe)
    actual = measure(session, site.code, meter, quantity, ps, t)
    rest_kwh: dict[date, Decimal] = {}
    method = "complete"
    ratio = Decimal(1)
    if t < pe:
        fc, reach = _forecast_kwh_by_day(session, site, meter, t, pe, zone)
        method = "forecast" if fc else "run_rate"
        rest_kwh = dict(fc)
        w_lo = max(ps, t - RUN_RATE_WINDOW) if t > ps else ps - RUN_RATE_WINDOW
        w_hi = t if t > ps else ps
        window = measure(session, site.code, meter, quantity, w_lo, w_hi)
        if reach < pe:
            if fc:
                method = "forecast+run_rate"
            rate = window.kwh / int((w_hi - w_lo).total_seconds())
            for d, v in _spread(rate, reach, pe, zone).items():
                rest_kwh[d] = rest_kwh.get(d, Decimal(0)) + v
        if quantity != "electricity_kwh":
            base = actual if actual.kwh > 0 else window
            ratio = base.total / base.kwh if base.kwh > 0 else Decimal(0)
    rest = sum(rest_kwh.values(), Decimal(0)) * ratio
    projected = actual.total + rest
    crossing = _crossing(actual, rest_kwh, ratio, amount, quantity)
    unit = QUANTITIES[quantity][0]
    scale = (
        Decimal(1)
        if quantity == "electricity_kwh"
        else (actual.total / actual.kwh if actual.kwh > 0 else Decimal(0))
    )
    by_day = [
        {
            "date": d,
            "actual": _q(quantity, actual.kwh_by_day.get(d, Decimal(0)) * scale),
            "forecast": _q(quantity, rest_kwh.get(d, Decimal(0)) * ratio),
        }
        for d in sorted(set(actual.kwh_by_day) | set(rest_kwh))
    ]
    return {
        "site": site.code,
        "meter": meter,
        "quantity": quantity,
        "unit": unit,
        "period": period,
        "as_of": t,
        "budget": amount,
        "actual": _q(quantity, actual.total),
        "forecast_rest": _q(quantity, rest),
        "projected": _q(quantity, projected),
        "actual_pct": _pct(actual.total, amount),
        "projected_pct": _pct(projected, amount),
        "crossing_date": crossing,
        "method": method,
        "budget_id": budget.id,
        "by_day": by_day,
    }


def _pct(x: Decimal, budget: Decimal) -> Decimal | None:
    if budget <= 0:
        return None
    return (x / budget * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _crossing(
    actual: Measured, rest_kwh: dict[date, Decimal], ratio: Decimal, amount: Decimal, quantity: str
) -> date | None:
    """First local day the cumulative quantity reaches the budget: the actual days (their kWh
    profile scaled to the actual total), then the forecast days."""
    days = sorted(actual.kwh_by_day)
    scale = actual.total / actual.kwh if actual.kwh > 0 else Decimal(0)
    cum = Decimal(0)
    if quantity == "electricity_kwh":
        scale = Decimal(1)
    for d in days:
        cum += actual.kwh_by_day[d] * scale
        if cum >= amount:
            return d
    cum = actual.total
    for d in sorted(rest_kwh):
        cum += rest_kwh[d] * ratio
        if cum >= amount:
            return d
    return None
