"""The center's view of its field collectors: health reports, devices offline, and the
automatic collection rate.

A collector reports (``POST /api/v1/collectors/health``, or over its NATS subject or MQTT topic
to the broker subscribers) its configured points with their health every ``report_every_s``;
both paths record it with ``metering.collector_health.record_health``. A device is
**offline** when its last report says so or when no report arrived for
``max(3 × report_every_s, 90 s)``. The **automatic collection rate** is the rule of
:mod:`metering.collection` (points reporting / points configured over ``(start, end]``;
collector points, or every meter where a site has no collector).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from metering import collection
from metering.collector_health import ERROR_KINDS, record_health
from models.collectors import CollectorPoint

MIN_STALE_S = 90.0
__all__ = ["ERROR_KINDS", "collection_rate", "devices", "record_health"]


def devices(session: Session, now: datetime, site: str | None = None) -> list[dict]:
    """Every reported device with its state (``online`` false when stale); with ``site``,
    the devices with a point whose meter is installed in that site or below it."""
    out: dict[tuple[str, str], dict] = {}
    query = select(CollectorPoint).order_by(CollectorPoint.collector, CollectorPoint.device)
    if site is not None:
        codes = set(collection.meter_codes(session, site))
        keys = {(p.collector, p.device) for p in session.scalars(query) if p.meter_code in codes}
    for p in session.scalars(query):
        if site is not None and (p.collector, p.device) not in keys:
            continue
        key = (p.collector, p.device)
        stale = (now - p.reported_at).total_seconds() > max(3 * p.report_every_s, MIN_STALE_S)
        d = out.setdefault(
            key,
            {
                "collector": p.collector,
                "device": p.device,
                "protocol": p.protocol,
                "online": p.online and not stale,
                "stale": stale,
                "reported_at": p.reported_at,
                "points": 0,
                "last_good": None,
                "errors": dict.fromkeys(ERROR_KINDS, 0),
            },
        )
        d["points"] += 1
        if p.last_good is not None and (d["last_good"] is None or p.last_good > d["last_good"]):
            d["last_good"] = p.last_good
        for k in ERROR_KINDS:
            d["errors"][k] += int(p.errors.get(k, 0))
    return list(out.values())


def collection_rate(session: Session, site: str, start: datetime, end: datetime) -> dict:
    """The API's answer: the one rule of ``metering.collection`` (points reporting / points
    configured over (start, end]) under the field names of ``GET /collection-rate``."""
    r = collection.collection_rate(session, site, start, end)
    return {
        "site": r.site,
        "start": r.start,
        "end": r.end,
        "basis": r.basis,
        "points_configured": r.configured,
        "points_reporting": r.reporting,
        "rate": r.rate,
        "not_reporting": r.not_reporting,
    }


def now_utc() -> datetime:
    return datetime.now(UTC)
