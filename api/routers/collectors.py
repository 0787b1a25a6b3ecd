"""Field collectors: health reports in, devices offline and the automatic collection rate out."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from api.deps import DbSession, Reader, ReadingWriter
from api.schemas import CollectionRateOut, CollectorDeviceOut, CollectorHealthIn
from collectors import center

router = APIRouter(tags=["collectors"])


@router.post("/collectors/health")
def post_health(body: CollectorHealthIn, session: DbSession, _: ReadingWriter) -> dict:
    """A collector's configured points and their health (replaces its previous report)."""
    n = center.record_health(session, body.model_dump(), datetime.now(UTC))
    session.commit()
    return {"collector": body.collector, "points": n}


@router.get("/collectors/devices", response_model=list[CollectorDeviceOut])
def list_devices(session: DbSession, _: Reader, site: str | None = None) -> list[dict]:
    """Every reported device; ``online`` is false when it said so or stopped reporting.
    ``site``: only the devices with a point on a meter of that site or below it."""
    return center.devices(session, datetime.now(UTC), site)


@router.get("/collection-rate", response_model=CollectionRateOut)
def collection_rate(
    site: str, start: datetime, end: datetime, session: DbSession, _: Reader
) -> dict:
    """Automatic collection rate: points reporting / points configured over (start, end]
    (collector points; every meter of a site without collectors)."""
    return center.collection_rate(session, site, start, end)
