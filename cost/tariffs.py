"""Tariffs as versioned data: create a version (validated: periods cover each day exactly
once), list, assign a tariff to a site from a date, and find the version in force.

Posting a code that exists adds a new version (nothing is edited or deleted): the version in
force on a day is the newest version whose ``[valid_from, valid_to)`` holds that day, so a
month's new price is a new version valid for that month, and a correction is a newer version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import Invalid, NotFound
from cost import power_factor, schedule
from models import Site
from models.cost import SiteTariff, Tariff, TariffEnergyPrice


@dataclass
class TariffIn:
    code: str
    name: str
    valid_from: date
    valid_to: date | None = None
    energy_prices: list[dict[str, Any]] | None = None
    demand_charge: dict[str, Any] | None = None
    power_factor_standard: Decimal | None = None
    template: str | None = None
    flat_price_cny_per_kwh: Decimal | None = None
    non_floating_cny_per_kwh: Decimal = Decimal(0)
    funds_cny_per_kwh: Decimal = Decimal(0)
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _dec(value: Any, name: str, *, positive: bool = False) -> Decimal:
    try:
        d = Decimal(str(value))
    except ArithmeticError:
        raise Invalid(name, f"{value!r} is not a number") from None
    if not d.is_finite() or d < 0 or (positive and d == 0):
        raise Invalid(name, "must be a finite number " + ("above 0" if positive else ">= 0"))
    return d


def _energy_rows(data: TariffIn) -> list[dict[str, Any]]:
    if data.template is not None:
        if data.energy_prices:
            raise Invalid("energy_prices", "give energy_prices or a template, not both")
        if data.flat_price_cny_per_kwh is None:
            raise Invalid(
                "flat_price_cny_per_kwh", "a template needs the month's flat price (CNY/kWh)"
            )
        flat = _dec(data.flat_price_cny_per_kwh, "flat_price_cny_per_kwh", positive=True)
        return schedule.expand_template(data.template, flat)
    if not data.energy_prices:
        raise Invalid("energy_prices", "give the periods with their prices, or a template")
    rows = []
    for i, raw in enumerate(data.energy_prices):
        if not isinstance(raw, dict):
            raise Invalid(f"energy_prices[{i}]", "must be an object")
        unknown = set(raw) - {"period", "hours", "months", "day_type", "price_cny_per_kwh"}
        if unknown:
            raise Invalid(f"energy_prices[{i}].{sorted(unknown)[0]}", "unknown field")
        schedule.check_row(raw, i)
        if raw.get("price_cny_per_kwh") is None:
            raise Invalid(f"energy_prices[{i}].price_cny_per_kwh", "required")
        rows.append(
            {
                "period": raw["period"],
                "hours": list(raw["hours"]),
                "months": sorted(set(raw.get("months") or schedule.ALL_MONTHS)),
                "day_type": raw.get("day_type", "all"),
                "price_cny_per_kwh": _dec(
                    raw["price_cny_per_kwh"], f"energy_prices[{i}].price_cny_per_kwh"
                ),
                "multiplier_to_flat": None,
                "verification": None,
            }
        )
    return rows


def _demand(data: TariffIn) -> dict[str, Any]:
    d = data.demand_charge
    if d is None:
        return {}
    unknown = set(d) - {
        "basis",
        "price_cny_per_kw_month",
        "price_cny_per_kva_month",
        "contracted_kw",
        "capacity_kva",
    }
    if unknown:
        raise Invalid(f"demand_charge.{sorted(unknown)[0]}", "unknown field")
    basis = d.get("basis")
    out: dict[str, Any] = {"demand_basis": basis}
    if basis == "max_demand":
        if d.get("price_cny_per_kw_month") is None:
            raise Invalid("demand_charge.price_cny_per_kw_month", "required for max_demand")
        out["demand_price_cny"] = _dec(
            d["price_cny_per_kw_month"], "demand_charge.price_cny_per_kw_month"
        )
    elif basis == "capacity":
        if d.get("price_cny_per_kva_month") is None:
            raise Invalid("demand_charge.price_cny_per_kva_month", "required for capacity")
        if d.get("capacity_kva") is None:
            raise Invalid("demand_charge.capacity_kva", "capacity billing needs the kVA")
        out["demand_price_cny"] = _dec(
            d["price_cny_per_kva_month"], "demand_charge.price_cny_per_kva_month"
        )
    else:
        raise Invalid("demand_charge.basis", "must be max_demand or capacity")
    for name in ("contracted_kw", "capacity_kva"):
        if d.get(name) is not None:
            out[name] = _dec(d[name], f"demand_charge.{name}", positive=True)
    return out


def create_tariff(session: Session, data: TariffIn, user: str) -> Tariff:
    if data.extra:
        raise Invalid(next(iter(data.extra)), "unknown field")
    if not data.code or len(data.code) > 64:
        raise Invalid("code", "must be 1 to 64 characters")
    if not data.name:
        raise Invalid("name", "required")
    if data.valid_to is not None and data.valid_to <= data.valid_from:
        raise Invalid("valid_to", "must be after valid_from")
    rows = _energy_rows(data)
    schedule.period_grid([_row(r) for r in rows])  # 422 on a gap or an overlap
    pf = (
        power_factor.check_standard(_dec(data.power_factor_standard, "power_factor_standard"))
        if data.power_factor_standard is not None
        else None
    )
    version = (
        session.scalar(select(func.max(Tariff.version)).where(Tariff.code == data.code)) or 0
    ) + 1
    tariff = Tariff(
        code=data.code,
        version=version,
        name=data.name,
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        template=data.template,
        flat_price_cny_per_kwh=data.flat_price_cny_per_kwh,
        non_floating_cny_per_kwh=_dec(data.non_floating_cny_per_kwh, "non_floating_cny_per_kwh"),
        funds_cny_per_kwh=_dec(data.funds_cny_per_kwh, "funds_cny_per_kwh"),
        power_factor_standard=pf,
        source=data.source
        or (schedule.manifest()["templates"][data.template]["document"] if data.template else None),
        created_by=user,
        **_demand(data),
    )
    session.add(tariff)
    session.flush()
    for r in rows:
        session.add(
            TariffEnergyPrice(
                tariff_id=tariff.id,
                period=r["period"],
                hours=r["hours"],
                months=r["months"],
                day_type=r["day_type"],
                price_cny_per_kwh=r["price_cny_per_kwh"] + tariff.non_floating_cny_per_kwh,
                multiplier_to_flat=r["multiplier_to_flat"],
                verification=r["verification"],
            )
        )
    session.flush()
    return tariff


def _row(r: dict[str, Any]) -> schedule.Row:
    return schedule.Row(
        r["period"],
        tuple(r["hours"]),
        tuple(r["months"]),
        r["day_type"],
        Decimal(str(r["price_cny_per_kwh"])),
    )


def prices_of(session: Session, tariff_id: int) -> list[TariffEnergyPrice]:
    return list(
        session.scalars(
            select(TariffEnergyPrice)
            .where(TariffEnergyPrice.tariff_id == tariff_id)
            .order_by(TariffEnergyPrice.id)
        )
    )


def to_dict(session: Session, t: Tariff) -> dict[str, Any]:
    demand = None
    if t.demand_basis:
        key = (
            "price_cny_per_kw_month"
            if t.demand_basis == "max_demand"
            else "price_cny_per_kva_month"
        )
        demand = {
            "basis": t.demand_basis,
            key: t.demand_price_cny,
            "contracted_kw": t.contracted_kw,
            "capacity_kva": t.capacity_kva,
        }
    return {
        "id": t.id,
        "code": t.code,
        "version": t.version,
        "name": t.name,
        "valid_from": t.valid_from,
        "valid_to": t.valid_to,
        "template": t.template,
        "flat_price_cny_per_kwh": t.flat_price_cny_per_kwh,
        "non_floating_cny_per_kwh": t.non_floating_cny_per_kwh,
        "funds_cny_per_kwh": t.funds_cny_per_kwh,
        "power_factor_standard": t.power_factor_standard,
        "demand_charge": demand,
        "source": t.source,
        "created_by": t.created_by,
        "created_at": t.created_at,
        "energy_prices": [
            {
                "period": p.period,
                "hours": p.hours,
                "months": p.months,
                "day_type": p.day_type,
                "price_cny_per_kwh": p.price_cny_per_kwh,
                "multiplier_to_flat": p.multiplier_to_flat,
                "verification": p.verification,
            }
            for p in prices_of(session, t.id)
        ],
    }


def list_tariffs(session: Session, code: str | None = None) -> list[Tariff]:
    stmt = select(Tariff).order_by(Tariff.code, Tariff.version)
    if code is not None:
        stmt = stmt.where(Tariff.code == code)
    return list(session.scalars(stmt))


def assign(
    session: Session, site_code: str, tariff_code: str, start: date, user: str
) -> SiteTariff:
    site = session.scalar(select(Site).where(Site.code == site_code))
    if site is None:
        raise NotFound("site", f"unknown site {site_code!r}")
    if session.scalar(select(Tariff.id).where(Tariff.code == tariff_code).limit(1)) is None:
        raise Invalid("tariff", f"unknown tariff {tariff_code!r}")
    row = SiteTariff(site_id=site.id, tariff_code=tariff_code, valid_from=start, created_by=user)
    session.add(row)
    session.flush()
    return row


def billing_site(session: Session, site: Site) -> tuple[Site, list[SiteTariff]] | None:
    """The site itself or its nearest ancestor with a tariff assignment, and its assignments
    (newest first). A sub-site is priced under its billing site's tariff."""
    cur: Site | None = site
    while cur is not None:
        rows = list(
            session.scalars(
                select(SiteTariff)
                .where(SiteTariff.site_id == cur.id)
                .order_by(SiteTariff.valid_from.desc(), SiteTariff.id.desc())
            )
        )
        if rows:
            return cur, rows
        cur = session.get(Site, cur.parent_id) if cur.parent_id else None
    return None


@dataclass
class Version:
    """A tariff version ready to price: its rows and the (day type, month, minute) grid."""

    tariff: Tariff
    rows: list[TariffEnergyPrice]
    grid: np.ndarray


def load_version(session: Session, tariff: Tariff, cache: dict[int, Version]) -> Version:
    if tariff.id not in cache:
        rows = prices_of(session, tariff.id)
        grid = schedule.period_grid(
            [
                schedule.Row(
                    r.period, tuple(r.hours), tuple(r.months), r.day_type, r.price_cny_per_kwh
                )
                for r in rows
            ]
        )
        cache[tariff.id] = Version(tariff, rows, grid)
    return cache[tariff.id]


def version_on(session: Session, assignments: list[SiteTariff], day: date) -> Tariff | None:
    """The tariff version in force at a billing site on a local day."""
    code = next((a.tariff_code for a in assignments if a.valid_from <= day), None)
    if code is None:
        return None
    return session.scalar(
        select(Tariff)
        .where(
            Tariff.code == code,
            Tariff.valid_from <= day,
            (Tariff.valid_to.is_(None)) | (Tariff.valid_to > day),
        )
        .order_by(Tariff.version.desc())
        .limit(1)
    )
