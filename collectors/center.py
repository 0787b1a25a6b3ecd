"""The center's view of its field collectors: health reports, devices offline, and the
automatic collection rate.

A collector reports (``POST /api/v1/collectors/health``, or over its NATS subject or MQTT topic
to the broker subscribers) its configured points with their health every ``report_every_s``;
both paths record it with ``metering.collector_health.record_health``. A device is
**offline** when its last report says so or when no report arrived for
``max(3 × report_every_s, 90 s)``. The **automatic collection rate** of a
site over ``[start, end)`` is points reporting / points configured, where the configured points
are the collector points whose meters belong to the site or its descendants, and a point
reports when its meter has at least one stored reading in the period (what reached the
database, not what the collector believes it sent).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.errors import Invalid
from metering import registry
from metering.collector_health import ERROR_KINDS, record_health
from models import Meter
from models.collectors import CollectorPoint

MIN_STALE_S = 90.0
__all__ = ["ERROR_KINDS", "collection_rate", "devices", "record_health"]


def devices(session: Session, now: datetime) -> list[dict]:
    """Every reported device with its state (``online`` false when stale)."""
    out: dict[tuple[str, str], dict] = {}
    for p in session.scalars(
        select(CollectorPoint).order_by(CollectorPoint.collector, CollectorPoint.device)
    ):
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
    """Points reporting / points configured for ``site`` (and descendants) over [start, end)."""
    if end <= start:
        raise Invalid("end", "must be after start")
    site_ids = registry.site_subtree_ids(session, site)
    configured = sorted(
        set(
            session.scalars(
                select(CollectorPoint.meter_code)
                .join(Meter, Meter.code == CollectorPoint.meter_code)
                .where(Meter.site_id.in_(site_ids))
            )
        )
    )
    reporting: set[str] = set()
    if configured:
        reporting = set(
            session.execute(
                text(
                    "SELECT m.code FROM meter m WHERE m.code = ANY(:codes) AND EXISTS ("
                    "SELECT 1 FROM reading r WHERE r.meter_id = m.id "
                    "AND r.ts >= :start AND r.ts < :end)"
                ),
                {"codes": configured, "start": start, "end": end},
            ).scalars()
        )
    return {
        "site": site,
        "start": start,
        "end": end,
        "points_configured": len(configured),
        "points_reporting": len(reporting),
        "rate": (len(reporting) / len(configured)) if configured else None,
        "not_reporting": [c for c in configured if c not in reporting],
    }


def now_utc() -> datetime:
    return datetime.now(UTC)
