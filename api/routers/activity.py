"""Activity data no meter measures (fuel deliveries, refrigerant top-ups, carbonates)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from accounts import keys
from api.deps import DbSession, require
from carbon import records

router = APIRouter(tags=["carbon"])
DataEntry = Annotated[
    keys.Principal, Depends(require({keys.Role.ENGINEER, keys.Role.MANAGER, keys.Role.ADMIN}))
]


class ActivityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: str
    source: str = Field(
        description="stationary_combustion, mobile_combustion, process, "
        "fugitive, purchased_electricity, purchased_heat, …"
    )
    carrier: str = Field(
        description="a fuel (diesel, natural_gas), carbonate (CaCO3), gas "
        "(SF6, HFC-134a) or electricity/heat"
    )
    quantity: float = Field(ge=0)
    unit: str
    start: datetime
    end: datetime
    evidence: str | None = Field(default=None, description="invoice, delivery note, log book")


class ActivityOut(ActivityCreate):
    model_config = ConfigDict(extra="ignore")
    id: int
    scope: int | None


@router.post("/activity", response_model=ActivityOut, status_code=201)
def add_activity(body: ActivityCreate, session: DbSession, who: DataEntry) -> ActivityOut:
    row = records.add_activity(session, records.ActivityIn(**body.model_dump()), who.name)
    session.commit()
    return ActivityOut(**body.model_dump(), id=row.id, scope=row.scope)
