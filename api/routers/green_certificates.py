"""Green electricity certificates (GEC) and green-power contract volumes retired for a site."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import DbSession
from api.routers.activity import DataEntry
from carbon import records

router = APIRouter(tags=["carbon"])


class CertificateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    serial: str = Field(min_length=1, max_length=128)
    mwh: float = Field(gt=0, description="1 GEC = 1 MWh")
    vintage: date = Field(description="month of generation (any day of it)")
    site: str
    retired_for_start: datetime
    retired_for_end: datetime
    instrument: str = Field(default="gec", description="gec | green_power (contract)")


class CertificateOut(CertificateCreate):
    id: int


@router.post("/green-certificates", response_model=CertificateOut, status_code=201)
def add_certificate(body: CertificateCreate, session: DbSession, who: DataEntry) -> CertificateOut:
    """A serial is accepted once (409 after); market-based scope 2 never claims more than the
    grid consumption of the period it is retired for."""
    row = records.add_certificate(session, records.CertificateIn(**body.model_dump()), who.name)
    session.commit()
    return CertificateOut(**{**body.model_dump(), "vintage": row.vintage}, id=row.id)
