"""Green electricity certificates (GEC) and green-power contract volumes retired for a site.

Kept for integrators: each POST is a ledger entry (``assets.ledger.record_certificate``): the
certificate is registered and retired for scope 2 market-based in one step."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import DbSession, Reader
from api.routers.activity import DataEntry
from assets import ledger
from carbon import records
from metering import registry

router = APIRouter(tags=["carbon"])


class CertificateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    serial: str = Field(min_length=1, max_length=128)
    mwh: float = Field(gt=0, le=1e9, description="1 GEC = 1 MWh")
    vintage: date = Field(description="month of generation (any day of it)")
    site: str
    retired_for_start: datetime
    retired_for_end: datetime
    instrument: str = Field(default="gec", description="gec | green_power (contract)")


class CertificateOut(CertificateCreate):
    id: int
    asset_id: int | None = None


@router.post("/green-certificates", response_model=CertificateOut, status_code=201)
def add_certificate(body: CertificateCreate, session: DbSession, who: DataEntry) -> CertificateOut:
    """A serial is accepted once (409 after); market-based scope 2 never claims more than the
    grid consumption of the period it is retired for."""
    asset, txn = ledger.record_certificate(
        session, records.CertificateIn(**body.model_dump()), who.name, datetime.now(UTC)
    )
    session.commit()
    return CertificateOut(
        **{**body.model_dump(), "vintage": asset.vintage},
        id=txn.certificate_id,
        asset_id=asset.id,
    )


@router.get("/green-certificates", response_model=list[CertificateOut])
def list_certificates(
    session: DbSession, _: Reader, site: str | None = None
) -> list[CertificateOut]:
    """Certificates and green-power volumes claimed for scope 2 market-based, oldest first."""
    sites = registry.site_codes(session)
    ids = None if site is None else registry.site_subtree_ids(session, site)
    return [
        CertificateOut(
            id=c.id,
            serial=c.serial,
            mwh=c.mwh,
            vintage=c.vintage,
            site=sites[c.site_id],
            retired_for_start=c.retired_for_start,
            retired_for_end=c.retired_for_end,
            instrument=c.instrument,
        )
        for c in records.all_certificates(session, ids)
    ]
