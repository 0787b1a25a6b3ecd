"""Bill reconciliation (对账): the utility's bill for a month beside the computed one, per line.

A bill holds what the utility printed: kWh (and optionally CNY) per TOU period, maximum demand,
power factor, demand and power-factor charges, and the total. The reconciliation computes the
same month from the readings and the tariff in force and lists, per line, bill, computed and
the difference (computed − bill, and in % of the bill)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Invalid, NotFound
from cost import clock, compute, schedule, tariffs
from models import Site
from models.cost import UtilityBill

LINE_FIELDS = ("max_demand_kw", "power_factor", "energy_cny", "demand_cny", "power_factor_cny")


@dataclass
class BillIn:
    site: str
    month: str  # YYYY-MM
    total_cny: Decimal
    periods: list[dict[str, Any]] = field(default_factory=list)
    max_demand_kw: Decimal | None = None
    power_factor: Decimal | None = None
    energy_cny: Decimal | None = None
    demand_cny: Decimal | None = None
    power_factor_cny: Decimal | None = None


def _month(text: str) -> date:
    try:
        y, m = text.split("-")
        return date(int(y), int(m), 1)
    except ValueError:
        raise Invalid("month", f"{text!r} is not YYYY-MM") from None


def _num(value: Any, name: str) -> str:
    try:
        d = Decimal(str(value))
    except ArithmeticError:
        raise Invalid(name, f"{value!r} is not a number") from None
    if not d.is_finite():
        raise Invalid(name, "must be finite")
    return str(d)


def add_bill(session: Session, data: BillIn, user: str) -> UtilityBill:
    site = session.scalar(select(Site).where(Site.code == data.site))
    if site is None:
        raise Invalid("site", f"unknown site {data.site!r}")
    month = _month(data.month)
    lines: dict[str, Any] = {"periods": []}
    for i, p in enumerate(data.periods):
        if p.get("period") not in schedule.PERIODS:
            raise Invalid(f"periods[{i}].period", f"must be one of {', '.join(schedule.PERIODS)}")
        if p.get("kwh") is None:
            raise Invalid(f"periods[{i}].kwh", "required")
        lines["periods"].append(
            {
                "period": p["period"],
                "kwh": _num(p["kwh"], f"periods[{i}].kwh"),
                "cny": None if p.get("cny") is None else _num(p["cny"], f"periods[{i}].cny"),
            }
        )
    for name in LINE_FIELDS:
        value = getattr(data, name)
        lines[name] = None if value is None else _num(value, name)
    bill = UtilityBill(
        site_id=site.id,
        month=month,
        total_cny=Decimal(_num(data.total_cny, "total_cny")),
        lines=lines,
        created_by=user,
    )
    session.add(bill)
    session.flush()
    return bill


def _line(name: str, bill: str | Decimal | None, computed: Decimal | None, unit: str) -> dict:
    b = None if bill is None else Decimal(str(bill))
    diff = None if b is None or computed is None else computed - b
    pct = None if diff is None or not b else (diff / b * 100).quantize(Decimal("0.01"))
    return {
        "line": name,
        "unit": unit,
        "bill": b,
        "computed": computed,
        "difference": diff,
        "difference_pct": pct,
    }


def _as_printed(lines: dict[str, Any]) -> dict[str, Any]:
    """The bill's stored lines (exact decimal strings in the database) as Decimals, so the
    answer writes every figure of the bill like its ``total_cny``: a JSON number."""

    def dec(v: str | None) -> Decimal | None:
        return None if v is None else Decimal(v)

    return {
        **{k: dec(v) for k, v in lines.items() if k != "periods"},
        "periods": [
            {"period": p["period"], "kwh": dec(p["kwh"]), "cny": dec(p.get("cny"))}
            for p in lines["periods"]
        ],
    }


def reconciliation(session: Session, bill_id: int) -> dict[str, Any]:
    bill = session.get(UtilityBill, bill_id)
    if bill is None:
        raise NotFound("id", f"unknown bill {bill_id}")
    site = session.get(Site, bill.site_id)
    assert site is not None
    billing = tariffs.billing_site(session, site)
    zone = clock.site_zone((billing[0] if billing else site).timezone)
    start, end = clock.month_bounds(bill.month.year, bill.month.month, zone)
    cost = compute.site_cost(session, site.code, start, end)
    month = cost["months"][0]
    got = {p["period"]: p for p in cost["by_period"]}
    lines = []
    for p in bill.lines["periods"]:
        c = got.get(p["period"], {"kwh": Decimal(0), "cny": Decimal(0)})
        lines.append(_line(f"{p['period']}_kwh", p["kwh"], c["kwh"], "kWh"))
        if p.get("cny") is not None:
            lines.append(_line(f"{p['period']}_cny", p["cny"], c["cny"], "CNY"))
    extra = bill.lines
    if extra.get("max_demand_kw") is not None:
        lines.append(_line("max_demand_kw", extra["max_demand_kw"], month["max_demand_kw"], "kW"))
    if extra.get("power_factor") is not None:
        lines.append(_line("power_factor", extra["power_factor"], month["power_factor"], "1"))
    electricity = next((c for c in cost["by_carrier"] if c["carrier"] == "electricity"), None)
    elec_energy = (
        electricity["cny"] - cost["demand_cny"] - cost["power_factor_cny"] if electricity else None
    )
    for name, computed in (
        ("energy_cny", elec_energy),
        ("demand_cny", cost["demand_cny"]),
        ("power_factor_cny", cost["power_factor_cny"]),
    ):
        if extra.get(name) is not None:
            lines.append(_line(name, extra[name], computed, "CNY"))
    elec_total = electricity["cny"] if electricity else Decimal(0)
    lines.append(_line("total_cny", bill.total_cny, elec_total, "CNY"))
    return {
        "bill": {
            "id": bill.id,
            "site": site.code,
            "month": bill.month.strftime("%Y-%m"),
            "total_cny": bill.total_cny,
            **_as_printed(bill.lines),
        },
        "computed": {
            k: cost[k]
            for k in (
                "total_cny",
                "energy_cny",
                "demand_cny",
                "power_factor_cny",
                "by_period",
                "tariff",
                "derivation_hash",
            )
        },
        "lines": lines,
    }
