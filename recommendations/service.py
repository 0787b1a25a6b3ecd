"""What the API asks of recommendations: run the analysers for a site, list, change status,
verify the savings of a done action."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from benchmarking import coefficients
from benchmarking import equipment as equipment_mod
from core.errors import Conflict, Invalid, NotFound
from metering import balance as metering_balance
from metering import registry, series
from metering.scope import counted_meters
from models import Meter, Site
from models.benchmarking import Recommendation
from recommendations import analysers, prices, verification

STATUSES = ("open", "accepted", "done", "dismissed")
TRANSITIONS = {
    "open": {"accepted", "dismissed", "done"},
    "accepted": {"done", "dismissed", "open"},
    "done": {"accepted"},
    "dismissed": {"open"},
}
SITE_KINDS = ("base_load", "power_factor", "contracted_demand")


def _tz(session: Session, site: Site) -> ZoneInfo:
    return ZoneInfo(site.timezone or "UTC")


def site_kwh(
    session: Session, site: str, start: datetime, end: datetime, res: str = "15m"
) -> pd.Series:
    """Site consumption (grid + generation − export, metering.balance) per interval, kWh,
    indexed by the interval's local start."""
    s = registry.get_site(session, site)
    pts = metering_balance.site_load(session, site, start, end, res)["points"]
    idx = pd.DatetimeIndex([p["ts"] for p in pts]).tz_convert(_tz(session, s)) if pts else None
    return pd.Series([p["consumption"] for p in pts], index=idx, dtype=float)


def meter_kwh(
    session: Session, meter: Meter, tz: ZoneInfo, start: datetime, end: datetime, res: str = "15m"
) -> pd.Series:
    pts = series.meter_series(session, meter.code, start, end, res)["points"]
    if not pts:
        return pd.Series(dtype=float)
    idx = pd.DatetimeIndex([p["ts"] for p in pts]).tz_convert(tz)
    return pd.Series([float(p["value"] or 0.0) for p in pts], index=idx, dtype=float)


def _reactive_kvarh(
    session: Session, site: str, start: datetime, end: datetime
) -> tuple[float, list[str]] | None:
    scope = counted_meters(session, site)
    meters = [m for m in scope.counted if m.canonical_unit == "kvarh"]
    if not meters:
        return None
    e = metering_balance.period_energy(session, [m.id for m in meters], start, end)
    return sum(e.values()), [m.code for m in meters]


def analyse(session: Session, site: str, start: datetime, end: datetime) -> list[Recommendation]:
    """Run every analyser over [start, end) and store its proposals: a proposal refreshes the
    open row of the same kind and subject; accepted, done or dismissed rows keep their figures."""
    series.check_period(start, end)
    s = registry.get_site(session, site)
    tz = _tz(session, s)
    p = prices.site_prices(session, site, end)
    factor = coefficients.grid_factor()
    out: list[analysers.Proposal] = []
    kwh = site_kwh(session, site, start, end)
    grid_codes = [m.code for m in metering_balance.load_meters(session, site).all()]
    if not kwh.empty:
        for prop in (analysers.base_load(kwh, p, site), analysers.contracted_demand(kwh, p, site)):
            if prop is not None:
                prop.meters = grid_codes
                out.append(prop)
        reactive = _reactive_kvarh(session, site, start, end)
        if reactive is not None:
            hours = len(kwh) * analysers.interval_hours(kwh)
            scale = analysers.HOURS_PER_YEAR / hours
            energy_cny = sum(
                (p.price(t) * Decimal(str(v)) for t, v in kwh.items()), Decimal(0)
            ) * Decimal(str(scale))
            max_kw = float((kwh / analysers.interval_hours(kwh)).max())
            demand = (
                p.demand_month_cny(p.contracted_kw or max_kw, max_kw) * 12
                if p.demand_cny_per_kw_month
                else Decimal(0)
            )
            funds = p.funds_cny_per_kwh * Decimal(str(float(kwh.sum()) * scale))
            prop = analysers.power_factor(
                float(kwh.sum()), reactive[0], hours, energy_cny + demand - funds, p, site
            )
            if prop is not None:
                prop.meters = grid_codes + reactive[1]
                out.append(prop)
    for e in equipment_mod.site_equipment(session, site):
        meter = session.get(Meter, e.meter_id) if e.meter_id else None
        ekwh = meter_kwh(session, meter, tz, start, end) if meter else pd.Series(dtype=float)
        d = equipment_mod.to_dict(session, e)
        props = []
        if e.shiftable and not ekwh.empty:
            props.append(analysers.load_shift(ekwh, p, e.code))
        if e.kind == "air_compressor" and not ekwh.empty:
            props.append(analysers.compressed_air_leakage(ekwh, p, e.code))
        if e.kind == "transformer":
            loading = equipment_mod.transformer_loading(session, e, start, end)
            loading["no_load_loss_kw"] = e.no_load_loss_kw
            props.append(analysers.transformer_below_economic(loading, p, e.code))
        year_kwh = None
        if not ekwh.empty:
            year_kwh = (
                float(ekwh.sum())
                * analysers.HOURS_PER_YEAR
                / (len(ekwh) * analysers.interval_hours(ekwh))
            )
        props.append(analysers.below_grade_1(d, year_kwh, p))
        for prop in props:
            if prop is not None:
                prop.meters = [meter.code] if meter else []
                out.append(prop)
    rows = [_store(session, s, prop.with_co2(factor["tco2_per_kwh"]), factor, p) for prop in out]
    session.flush()
    return rows


def _store(
    session: Session, site: Site, prop: analysers.Proposal, factor: dict, p: prices.Prices
) -> Recommendation:
    now = datetime.now(UTC)
    evidence = {
        **prop.evidence,
        "meters": prop.meters,
        "co2_factor": factor,
        "price_source": p.source,
    }
    row = session.scalar(
        select(Recommendation).where(
            Recommendation.site_id == site.id,
            Recommendation.kind == prop.kind,
            Recommendation.subject == prop.subject,
        )
    )
    figures = {
        "title": prop.title,
        "title_zh": prop.title_zh,
        "evidence": evidence,
        "savings_kwh_per_year": prop.savings_kwh_per_year,
        "savings_cny_per_year": prop.savings_cny_per_year,
        "savings_tco2_per_year": prop.savings_tco2_per_year,
        "confidence": prop.confidence,
    }
    if row is None:
        row = Recommendation(
            site_id=site.id,
            kind=prop.kind,
            subject=prop.subject,
            status="open",
            history=[],
            updated_at=now,
            **figures,
        )
        session.add(row)
    elif row.status == "open":
        for k, v in figures.items():
            setattr(row, k, v)
        row.updated_at = now
    return row


def to_dict(r: Recommendation) -> dict:
    return {
        "id": r.id,
        "kind": r.kind,
        "subject": r.subject,
        "title": r.title,
        "title_zh": r.title_zh,
        "evidence": r.evidence,
        "savings_kwh_per_year": round(r.savings_kwh_per_year, 3),
        "savings_cny_per_year": r.savings_cny_per_year,
        "savings_tco2_per_year": round(r.savings_tco2_per_year, 6),
        "confidence": r.confidence,
        "status": r.status,
        "reason": r.reason,
        "done_at": r.done_at,
        "history": r.history,
    }


def list_recommendations(
    session: Session, site: str, status: str | None = None
) -> list[Recommendation]:
    s = registry.get_site(session, site)
    ids = registry.subtree_ids(session, s.id)
    q = select(Recommendation).where(Recommendation.site_id.in_(ids))
    if status is not None:
        if status not in STATUSES:
            raise Invalid("status", f"one of {', '.join(STATUSES)}")
        q = q.where(Recommendation.status == status)
    return list(
        session.scalars(q.order_by(Recommendation.savings_cny_per_year.desc(), Recommendation.id))
    )


def get(session: Session, rec_id: int) -> Recommendation:
    r = session.get(Recommendation, rec_id)
    if r is None:
        raise NotFound("id", f"no recommendation {rec_id}")
    return r


def set_status(
    session: Session,
    rec_id: int,
    status: str,
    actor: str,
    reason: str | None = None,
    done_at: datetime | None = None,
) -> Recommendation:
    if status not in STATUSES:
        raise Invalid("status", f"one of {', '.join(STATUSES)}")
    r = get(session, rec_id)
    if status != r.status and status not in TRANSITIONS[r.status]:
        raise Conflict("status", f"{r.status} → {status} is not allowed")
    if status == "dismissed" and not (reason or "").strip():
        raise Invalid("reason", "say why the recommendation is dismissed")
    if done_at is not None and done_at.tzinfo is None:
        raise Invalid("done_at", "timestamp without UTC offset")
    now = datetime.now(UTC)
    r.history = [
        *r.history,
        {"from": r.status, "to": status, "by": actor, "at": now.isoformat(), "reason": reason},
    ]
    r.status = status
    r.reason = reason
    if status == "done":
        r.done_at = done_at or now
    r.updated_at = now
    session.flush()
    return r


_LAST = text("SELECT max(ts) FROM reading WHERE meter_id = ANY(:m)")


def verify(session: Session, rec_id: int, baseline_days: int = 365) -> dict:
    """Avoided energy since the action was done, against a baseline fitted on up to
    ``baseline_days`` days before it (option B on the equipment meter, C on the site)."""
    r = get(session, rec_id)
    if r.status != "done" or r.done_at is None:
        raise Conflict("status", "only a done recommendation is verified")
    site = session.get(Site, r.site_id)
    assert site is not None  # a recommendation's site exists (foreign key)
    tz = _tz(session, site)
    codes = r.evidence.get("meters") or []
    meters = [registry.get_meter(session, c) for c in codes]
    energy_meters = [m for m in meters if m.canonical_unit == "kWh"]
    if not energy_meters:
        return {"id": r.id, "status": "insufficient_data", "reason": "no energy meter in evidence"}
    last = session.execute(_LAST, {"m": [m.id for m in energy_meters]}).scalar()
    done_local = r.done_at.astimezone(tz)
    cut = datetime(done_local.year, done_local.month, done_local.day, tzinfo=tz)
    start = cut - timedelta(days=baseline_days)
    end = min(last, cut + timedelta(days=366)) if last else cut + timedelta(days=1)
    option = "C" if r.kind in SITE_KINDS else "B"
    if option == "C":
        hourly = site_kwh(session, site.code, start, max(end, start + timedelta(hours=1)), "1h")
    else:
        parts = [
            meter_kwh(session, m, tz, start, max(end, start + timedelta(hours=1)), "1h")
            for m in energy_meters
        ]
        hourly = pd.concat(parts).groupby(level=0).sum()
    days = _complete_days(hourly)
    done_day = cut.date()
    # the day the action was done is neither baseline nor reporting
    base = [(d, v) for d, v in days if d < done_day]
    rep = [(d, v) for d, v in days if d > done_day]
    result = verification.verify(base, rep, _non_workdays([d for d, _ in days]))
    result.update(
        id=r.id,
        option=option,
        meters=[m.code for m in energy_meters],
        done_at=r.done_at,
        expected_kwh_per_year=r.savings_kwh_per_year,
    )
    return result


def _non_workdays(days: list[date]) -> set[date]:
    """Public holidays on weekdays (chinese_calendar); outside its years none."""
    import chinese_calendar

    out = set()
    for d in days:
        try:
            if d.weekday() < 5 and not chinese_calendar.is_workday(d):
                out.add(d)
        except NotImplementedError:
            continue
    return out


def _complete_days(hourly: pd.Series) -> list[tuple[date, float]]:
    if hourly.empty:
        return []
    g = hourly.groupby(hourly.index.date)
    counts, sums = g.count(), g.sum()
    return [(d, float(sums[d])) for d in sums.index if counts[d] >= 23]
