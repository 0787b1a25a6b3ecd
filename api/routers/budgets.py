"""Budgets of electricity, energy (tce), CO2 and cost per year, and where they will land."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from accounts import keys
from api.deps import DbSession, Reader, require
from api.numbers import as_numbers
from budgets import service

router = APIRouter(tags=["budgets"])
Manager = Annotated[
    keys.Principal, Depends(require({keys.Role.ENGINEER, keys.Role.MANAGER, keys.Role.ADMIN}))
]


class BudgetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: str
    meter: str | None = None
    quantity: str = Field(description="electricity_kwh | energy_tce | co2_t | cost_cny")
    year: int
    amount: Decimal | None = None
    months: list[Decimal] | None = Field(default=None, description="12 amounts, Jan to Dec")
    split: str | None = Field(default=None, description="even | last_year")


@router.post("/budgets", status_code=201)
def create_budget(body: BudgetCreate, session: DbSession, who: Manager) -> dict:
    """Add a budget (the newest for a site, meter, quantity and year is the one in force)."""
    b = service.create_budget(session, service.BudgetIn(**body.model_dump()), who.name)
    session.commit()
    return as_numbers(service.to_dict(session, b))


@router.get("/budgets")
def list_budgets(session: DbSession, _: Reader, site: str | None = None) -> list[dict]:
    return as_numbers([service.to_dict(session, b) for b in service.list_budgets(session, site)])


@router.get("/budgets/status")
def budget_status(
    site: str,
    quantity: str,
    period: str,
    session: DbSession,
    _: Reader,
    meter: str | None = None,
    as_of: datetime | None = None,
) -> dict:
    """Budget, actual to date, forecast of the rest, projection, % and the crossing day of a
    month (``2026-06``) or a year (``2026``); ``as_of`` (default now) replays a past day."""
    out = service.status(session, site, quantity, period, meter=meter, as_of=as_of)
    session.commit()
    return as_numbers(out)
