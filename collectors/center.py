"""The center's view of its field collectors: health reports, devices offline, and the
automatic collection rate.

A collector reports (``POST /api/v1/collectors/health``) its configured points with their
health every ``report_every_s``. A device is **offline** when its last report says so or when
no report arrived for ``max(3 × report_every_s, 90 s)``. The **automatic collection rate** is
the rule of :mod:`metering.collection` (points reporting / points configured over
``(start, end]``; collector points, or every meter where a site has no collector).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.errors import Invalid
from metering import collection
from models.collectors import CollectorPoint

ERROR_KINDS = ("timeout", "exception", "bad_value")
MIN_STALE_S = 90.0


def _ts(raw: object, field: str) -> datetime | None:
    if raw is None or isinstance(raw, datetime):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return datetime.fromtimestamp(float(raw), UTC)
    if isinstance(raw, str):
        try:
            ts = datetime.fromisoformat(raw)
        except ValueError:
            raise Invalid(field, f"not an RFC 3339 timestamp: {raw!r}") from None
        if ts.tzinfo is None:
            raise Invalid(field, f"timestamp without UTC offset: {raw!r}")
        return ts
    raise Invalid(field, f"expected a timestamp, got {raw!r}")


def record_health(session: Session, report: dict, now: datetime) -> int:
    """Replace what ``report['collector']`` said last time; returns the points recorded."""
    collector = report["collector"]
    every = float(report.get("report_every_s", 30.0))
    rows = []
    for d_no, dev in enumerate(report.get("devices", [])):
        for p_no, p in enumerate(dev.get("points", [])):
            where = f"devices[{d_no}].points[{p_no}]"
            errors = p.get("errors") or {}
            rows.append(
                {
                    "collector": collector,
                    "device": dev["name"],
                    "meter_code": p["meter"],
                    "protocol": dev.get("protocol", ""),
                    "poll_s": float(dev.get("poll_s", 0.0)),
                    "online": bool(dev.get("online", False)),
                    "last_good": _ts(p.get("last_good"), f"{where}.last_good"),
                    "reads": int(p.get("reads", 0)),
                    "errors": {k: int(errors.get(k, 0)) for k in ERROR_KINDS},
                    "report_every_s": every,
                    "reported_at": now,
                }
            )
    session.execute(delete(CollectorPoint).where(CollectorPoint.collector == collector))
    if rows:
        session.execute(insert(CollectorPoint), rows)
    return len(rows)


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
