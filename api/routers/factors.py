"""Emission factors and coefficients: add a version (admin), list, and the change log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from accounts import keys
from api.deps import DbSession, Reader, require
from carbon import factors
from metering import registry

router = APIRouter(tags=["carbon"])
Admin = Annotated[keys.Principal, Depends(require({keys.Role.ADMIN}))]


class FactorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    carrier: str = Field(description="electricity, natural_gas, steam, a fuel, carbonate or gas")
    value: float = Field(ge=0)
    unit: str = Field(description="tCO2/MWh, kgCO2/kWh, tCO2/10^4 m3, kgce/kWh, tCO2e/t, …")
    valid_from: date | None = None
    valid_to: date | None = Field(default=None, description="exclusive")
    region: str | None = Field(default=None, description="national, a grid region or province")
    site: str | None = Field(default=None, description="site-specific factor (and descendants)")
    source: str = Field(min_length=1, description="source document")
    variant: str | None = Field(
        default=None,
        description="average (location) | residual | "
        "supplier (market) | equivalent | equal_value | AR4/AR5/AR6",
    )
    gas: str | None = None
    source_url: str | None = None
    notes: str | None = None
    params: dict | None = Field(default=None, description="e.g. measured NCV, carbon content")


class FactorOut(BaseModel):
    id: int
    key: str
    kind: str
    carrier: str
    variant: str
    gas: str | None
    region: str | None
    site: str | None
    valid_from: str | None
    valid_to: str | None
    value: float
    unit: str
    params: dict | None
    published_on: str | None
    source_document: str
    source_url: str | None
    verification: str | None
    notes: str | None
    library_version: str
    supersedes_id: int | None
    created_by: str
    applied: bool = Field(description="used by the current calculation version")


class FactorLogOut(BaseModel):
    factor_id: int
    action: str
    actor: str
    at: datetime
    old_value: float | None
    new_value: float
    detail: str | None


def _out(session, f) -> FactorOut:  # noqa: ANN001
    watermark = factors.current_version(session).factor_watermark
    return FactorOut(
        **factors.factor_dict(f, registry.site_codes(session)), applied=f.id <= watermark
    )


@router.post("/factors", response_model=FactorOut, status_code=201)
def add_factor(body: FactorCreate, session: DbSession, who: Admin) -> FactorOut:
    """Add a factor version (nothing is edited or deleted). It is used from the next
    recalculation on: `POST /api/v1/carbon/recalculations`."""
    row = factors.add_factor(session, factors.FactorIn(**body.model_dump()), who.name)
    session.commit()
    return _out(session, row)


@router.get("/factors", response_model=list[FactorOut])
def list_factors(
    session: DbSession, _: Reader, carrier: str | None = None, kind: str | None = None
) -> list[FactorOut]:
    return [_out(session, f) for f in factors.list_factors(session, carrier, kind)]


@router.get("/factors/log", response_model=list[FactorLogOut])
def factor_log(session: DbSession, _: Reader, factor_id: int | None = None) -> list[FactorLogOut]:
    """Every change to the library: who, when, old and new value."""
    return [
        FactorLogOut(
            factor_id=r.factor_id,
            action=r.action,
            actor=r.actor,
            at=r.at,
            old_value=r.old_value,
            new_value=r.new_value,
            detail=r.detail,
        )
        for r in factors.factor_log(session, factor_id)
    ]
