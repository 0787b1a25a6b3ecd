"""What a field collector says about its points: the one recorder of health reports, for the
API (``POST /api/v1/collectors/health``) and the broker subscribers (``ingest/brokers.py``,
health sent over the same NATS subject or MQTT topic as the readings).

On the metering floor because both callers stand on it: ``collectors`` (floor 4, the API's
``collectors.center``) and ``ingest`` (floor 4) may not import each other. A report replaces
what the same collector said last time; a malformed one is refused naming the field (the
broker path has no request schema in front of it).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.errors import Invalid
from models.collectors import CollectorPoint

ERROR_KINDS = ("timeout", "exception", "bad_value")
# The body key of a health report on a broker (``{"collector_health": report}``).
BROKER_KEY = "collector_health"


def _ts(raw: object, field: str) -> datetime | None:
    if raw is None or isinstance(raw, datetime):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if not math.isfinite(raw) or not 0 <= raw < 7.3e9:  # 1970 … 2200
            raise Invalid(field, f"not a timestamp: {raw!r}")
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


def _text(raw: object, field: str, max_len: int, min_len: int = 1) -> str:
    if not isinstance(raw, str) or not min_len <= len(raw) <= max_len or "\x00" in raw:
        raise Invalid(field, f"a string of {min_len} to {max_len} characters")
    return raw


def _number(raw: object, field: str, *, positive: bool = False) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise Invalid(field, "a finite number")
    if raw < 0 or (positive and raw == 0):
        raise Invalid(field, "must be above 0" if positive else "must not be negative")
    return float(raw)


def _list(raw: object, field: str) -> list:
    if not isinstance(raw, list):
        raise Invalid(field, "a list")
    return raw


def _dict(raw: object, field: str) -> dict:
    if not isinstance(raw, dict):
        raise Invalid(field, "an object")
    return raw


def rows_of(report: object, now: datetime) -> tuple[str, list[dict]]:
    """The collector's name and one ``collector_point`` row per reported point; raises
    ``Invalid`` naming the first wrong field."""
    rep = _dict(report, "body")
    collector = _text(rep.get("collector"), "collector", 100)
    every = _number(rep.get("report_every_s", 30.0), "report_every_s", positive=True)
    rows = []
    for d_no, dev in enumerate(_list(rep.get("devices"), "devices")):
        w = f"devices[{d_no}]"
        dev = _dict(dev, w)
        name = _text(dev.get("name"), f"{w}.name", 100)
        protocol = _text(dev.get("protocol", ""), f"{w}.protocol", 32, min_len=0)
        poll_s = _number(dev.get("poll_s"), f"{w}.poll_s", positive=True)
        online = dev.get("online")
        if not isinstance(online, bool):
            raise Invalid(f"{w}.online", "true or false")
        for p_no, p in enumerate(_list(dev.get("points"), f"{w}.points")):
            where = f"{w}.points[{p_no}]"
            p = _dict(p, where)
            errors = _dict(p.get("errors") or {}, f"{where}.errors")
            rows.append(
                {
                    "collector": collector,
                    "device": name,
                    "meter_code": _text(p.get("meter"), f"{where}.meter", 64),
                    "protocol": protocol,
                    "poll_s": poll_s,
                    "online": online,
                    "last_good": _ts(p.get("last_good"), f"{where}.last_good"),
                    "reads": int(_number(p.get("reads", 0), f"{where}.reads")),
                    "errors": {
                        k: int(_number(errors.get(k, 0), f"{where}.errors.{k}"))
                        for k in ERROR_KINDS
                    },
                    "report_every_s": every,
                    "reported_at": now,
                }
            )
    return collector, rows


def record_health(session: Session, report: object, now: datetime) -> int:
    """Replace what ``report['collector']`` said last time; returns the points recorded."""
    collector, rows = rows_of(report, now)
    session.execute(delete(CollectorPoint).where(CollectorPoint.collector == collector))
    if rows:
        session.execute(insert(CollectorPoint), rows)
    return len(rows)
