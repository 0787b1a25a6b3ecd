"""Energy cost: tariffs (versioned), site tariff assignment, prices of other carriers, cost
figures with derivations, utility bills and their reconciliation."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from accounts import keys
from api.deps import DbSession, Reader, require
from api.numbers import as_numbers
from cost import bills, compute, derivation, event_days, prices, tariffs

router = APIRouter(tags=["cost"])
Manager = Annotated[
    keys.Principal, Depends(require({keys.Role.ENGINEER, keys.Role.MANAGER, keys.Role.ADMIN}))
]


class TariffCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    valid_from: date
    valid_to: date | None = Field(default=None, description="exclusive")
    energy_prices: list[dict[str, Any]] | None = Field(
        default=None,
        description='[{"period": "peak", "hours": ["14:00-22:00"], "months"?: [6, 7, 8], '
        '"day_type"?: "all|workday|non_workday", "price_cny_per_kwh": 1.0}, …] (site local hours)',
    )
    demand_charge: dict[str, Any] | None = Field(
        default=None,
        description='{"basis": "max_demand"|"capacity", "price_cny_per_kw_month"|'
        '"price_cny_per_kva_month", "contracted_kw"?, "capacity_kva"?}',
    )
    power_factor_standard: Decimal | None = Field(default=None, description="0.90, 0.85 or 0.80")
    template: str | None = Field(default=None, description="e.g. jiangsu-2025-two-part")
    flat_price_cny_per_kwh: Decimal | None = Field(default=None, description="with a template")
    non_floating_cny_per_kwh: Decimal = Field(
        default=Decimal(0), description="added to every period's price (T&D, funds …)"
    )
    funds_cny_per_kwh: Decimal = Field(
        default=Decimal(0), description="government funds, left out of the power-factor base"
    )
    source: str | None = None


@router.post("/tariffs", status_code=201)
def create_tariff(body: TariffCreate, session: DbSession, who: Manager) -> dict:
    """Add a tariff version (a code that exists gets its next version; nothing is edited)."""
    t = tariffs.create_tariff(session, tariffs.TariffIn(**body.model_dump()), who.name)
    session.commit()
    return as_numbers(tariffs.to_dict(session, t))


@router.get("/tariffs")
def list_tariffs(session: DbSession, _: Reader, code: str | None = None) -> list[dict]:
    return as_numbers([tariffs.to_dict(session, t) for t in tariffs.list_tariffs(session, code)])


@router.get("/tariffs/templates")
def tariff_templates(_: Reader) -> dict:
    """The shipped TOU templates with their source documents and verification per row."""
    from cost import schedule

    return schedule.templates()


class EventDaysCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: list[date] = Field(min_length=1, max_length=366, description="local dates")
    kind: str = Field(description="heat (daily max ≥ 35 °C) | holiday | other")
    reason: str = Field(min_length=1, max_length=2000, description="why, and the source")


@router.post("/tariffs/{code}/event-days", status_code=201)
def add_event_days(
    code: str, body: EventDaysCreate, session: DbSession, who: Manager
) -> list[dict]:
    """Declare event days of a tariff code: its ``day_type`` ``event`` periods apply then."""
    rows = event_days.add(session, code, event_days.EventDaysIn(**body.model_dump()), who.name)
    session.commit()
    return [event_days.to_dict(r) for r in rows]


@router.get("/tariffs/{code}/event-days")
def list_event_days(
    code: str,
    session: DbSession,
    _: Reader,
    start: Annotated[date | None, Query(description="from this date")] = None,
    end: Annotated[date | None, Query(description="before this date")] = None,
) -> list[dict]:
    return [event_days.to_dict(r) for r in event_days.list_days(session, code, start, end)]


@router.delete("/tariffs/{code}/event-days/{day}", status_code=204)
def remove_event_day(code: str, day: date, session: DbSession, who: Manager) -> Response:
    event_days.remove(session, code, day)
    session.commit()
    return Response(status_code=204)


class SiteTariffIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    tariff: str
    from_: date = Field(alias="from")


@router.put("/sites/{code}/tariff")
def assign_tariff(code: str, body: SiteTariffIn, session: DbSession, who: Manager) -> dict:
    row = tariffs.assign(session, code, body.tariff, body.from_, who.name)
    session.commit()
    return {"site": code, "tariff": row.tariff_code, "from": row.valid_from, "id": row.id}


class PriceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    carrier: str
    unit: str
    price_cny_per_unit: Decimal
    valid_from: date
    valid_to: date | None = None
    site: str | None = None
    source: str | None = None


def _price_out(p) -> dict:  # noqa: ANN001
    return {
        "id": p.id,
        "carrier": p.carrier,
        "unit": p.unit,
        "price_cny_per_unit": p.price_cny_per_unit,
        "valid_from": p.valid_from,
        "valid_to": p.valid_to,
        "site_id": p.site_id,
        "source": p.source,
        "created_by": p.created_by,
    }


@router.post("/prices", status_code=201)
def add_price(body: PriceCreate, session: DbSession, who: Manager) -> dict:
    """Price per unit of gas, steam, heat, water … with validity dates."""
    row = prices.add_price(session, prices.PriceIn(**body.model_dump()), who.name)
    session.commit()
    return as_numbers(_price_out(row))


@router.get("/prices")
def list_prices(session: DbSession, _: Reader, carrier: str | None = None) -> list[dict]:
    return as_numbers([_price_out(p) for p in prices.list_prices(session, carrier)])


@router.get("/costs")
def costs(
    site: str,
    start: datetime,
    end: datetime,
    session: DbSession,
    _: Reader,
    meter: Annotated[list[str] | None, Query()] = None,
) -> dict:
    """Cost over (start, end] (quarter-hour boundaries): by TOU period and carrier, demand
    charge and power-factor adjustment, with the derivation that reproduces it."""
    out = compute.site_cost(session, site, start, end, meters=meter)
    session.commit()  # the derivation is stored
    return as_numbers(out)


@router.get("/costs/derivations/{digest}")
def cost_derivation(digest: str, session: DbSession, _: Reader) -> dict:
    return derivation.get(session, digest)


class PeriodLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: str
    kwh: Decimal
    cny: Decimal | None = None


class BillCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: str
    month: str = Field(description="YYYY-MM")
    total_cny: Decimal
    periods: list[PeriodLine] = []
    max_demand_kw: Decimal | None = None
    power_factor: Decimal | None = None
    energy_cny: Decimal | None = None
    demand_cny: Decimal | None = None
    power_factor_cny: Decimal | None = None


@router.post("/bills", status_code=201)
def add_bill(body: BillCreate, session: DbSession, who: Manager) -> dict:
    bill = bills.add_bill(session, bills.BillIn(**body.model_dump()), who.name)
    session.commit()
    return as_numbers(
        {"id": bill.id, "site": body.site, "month": body.month, "total_cny": bill.total_cny}
    )


@router.get("/bills/{bill_id}/reconciliation")
def reconciliation(bill_id: int, session: DbSession, _: Reader) -> dict:
    """The bill beside the computed month, per line, with the differences."""
    out = bills.reconciliation(session, bill_id)
    session.commit()
    return as_numbers(out)
