"""The automatic collection rate (能源数据自动采集率; zero-carbon indicator
``auto_collection_rate``; issue 18): the one home of the rule.

Over a site and its descendants and a period ``(start, end]`` (closed at the end, like every
bucket of the house: an interval reading is stamped at its end):

    rate = points reporting / points configured

A **point configured** is a field-collector point (``collector_point``, reported by
``ecc collect``) whose meter is installed in the subtree; a site whose subtree has no
collector point counts instead every meter installed there (each is expected to report,
whatever brings its readings in). Several collector points reading one meter count once. A
point **reports** when its meter has at least one stored reading in the period: what reached
the database, not what a collector believes it sent.

Called by the API (``GET /api/v1/collection-rate``, through ``collectors.center``), the
zero-carbon scorecard (``assets.scorecard``) and, through the API, the wall.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.errors import Invalid
from metering import registry
from models import Meter
from models.collectors import CollectorPoint

BASES = ("collector_points", "meters")

_REPORTING = text(
    """
    SELECT m.code FROM meter m
    WHERE m.code = ANY(:codes) AND EXISTS (
        SELECT 1 FROM reading r WHERE r.meter_id = m.id AND r.ts > :start AND r.ts <= :end)
    """
)


@dataclass(frozen=True)
class CollectionRate:
    site: str
    start: datetime
    end: datetime
    basis: str  # "collector_points" or "meters" (the site has no collector point)
    configured: int
    reporting: int
    rate: float | None  # None: nothing configured
    not_reporting: list[str]  # meter codes, sorted

    def as_dict(self) -> dict:
        return asdict(self)


def configured_points(session: Session, site: str) -> tuple[str, list[str]]:
    """``(basis, meter codes)`` of the points configured in a site subtree (see module doc)."""
    site_ids = registry.site_subtree_ids(session, site)
    collected = session.scalars(
        select(CollectorPoint.meter_code)
        .join(Meter, Meter.code == CollectorPoint.meter_code)
        .where(Meter.site_id.in_(site_ids))
        .distinct()
    ).all()
    if collected:
        return "collector_points", sorted(collected)
    return "meters", meter_codes(session, site, site_ids)


def meter_codes(session: Session, site: str, site_ids: list[int] | None = None) -> list[str]:
    """Codes of the meters installed in a site and its descendants, sorted."""
    ids = site_ids if site_ids is not None else registry.site_subtree_ids(session, site)
    return sorted(session.scalars(select(Meter.code).where(Meter.site_id.in_(ids))))


def collection_rate(session: Session, site: str, start: datetime, end: datetime) -> CollectionRate:
    """Points reporting / points configured for ``site`` (and descendants) over (start, end];
    unknown site → 404, ``end`` not after ``start`` → 422."""
    if end <= start:
        raise Invalid("end", "must be after start")
    basis, configured = configured_points(session, site)
    reporting: set[str] = set()
    if configured:
        reporting = set(
            session.execute(_REPORTING, {"codes": configured, "start": start, "end": end}).scalars()
        )
    return CollectionRate(
        site=site,
        start=start,
        end=end,
        basis=basis,
        configured=len(configured),
        reporting=len(reporting),
        rate=len(reporting) / len(configured) if configured else None,
        not_reporting=[c for c in configured if c not in reporting],
    )
