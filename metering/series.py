"""Reading back: meter series at any resolution and site totals per carrier.

One query path for both databases: the rollup relations have the same names and columns on
TimescaleDB (continuous aggregates) and plain PostgreSQL (tables). A bucket covers
``(start, start + width]`` and is stored labelled ``start + 1 µs`` (see
``migrations.timeseries``); everything returned here is labelled by ``start``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db import psycopg_connection
from core.errors import Invalid
from metering import registry
from metering.rollups import refresh_all
from models import Meter

RESOLUTIONS = {
    "1m": timedelta(minutes=1),
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
}
MAX_RAW_POINTS = 200_000
_US = timedelta(microseconds=1)


def _check_period(start: datetime, end: datetime) -> None:
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None:
            raise Invalid(name, "timestamp without UTC offset")
    if end <= start:
        raise Invalid("end", "must be after start")


def meter_series(
    session: Session, code: str, start: datetime, end: datetime, resolution: str = "raw"
) -> dict:
    """Points of one meter in canonical units.

    raw: every reading ``{ts, value}`` (plus ``energy`` for counter and delta meters).
    1m/15m/1h/1d: per bucket ``{ts, value, n}``, value = energy for counter/delta meters and
    the average for gauges, with ``min``/``max``/``avg``/``last`` for gauges.
    """
    _check_period(start, end)
    meter = registry.get_meter(session, code)
    if resolution == "raw":
        rows = session.execute(
            text(
                "SELECT ts, value, energy FROM reading WHERE meter_id = :m AND ts >= :s "
                "AND ts < :e ORDER BY ts LIMIT :lim"
            ),
            {"m": meter.id, "s": start, "e": end, "lim": MAX_RAW_POINTS},
        ).all()
        if meter.kind == "gauge":
            points = [{"ts": ts, "value": v} for ts, v, _ in rows]
        else:
            points = [{"ts": ts, "value": v, "energy": en} for ts, v, en in rows]
    elif resolution in RESOLUTIONS:
        points = _rollup_points(session, meter, start, end, resolution)
    else:
        raise Invalid("resolution", f"must be raw, {', '.join(RESOLUTIONS)}; got {resolution!r}")
    return {
        "meter": meter.code,
        "unit": meter.canonical_unit,
        "kind": meter.kind,
        "resolution": resolution,
        "points": points,
    }


def ensure_fresh(session: Session, meter_ids: list[int]) -> None:
    """Fold queued rollup work of these meters first (plain PostgreSQL path), so a reader
    always sees every committed reading, as TimescaleDB's real-time aggregates do."""
    meta = dict(session.execute(text("SELECT key, value FROM ecc_meta")).all())
    if meta.get("timeseries_path") != "postgresql" or not meter_ids:
        return
    with psycopg_connection(session.get_bind()) as conn:
        refresh_all(conn, meta.get("day_timezone", "UTC"), meter_ids)


# 1-minute buckets come straight from the readings on both paths (a bucket holds about one
# reading; the TimescaleDB continuous aggregate rollup_1m gives the same rows).
_ONE_MINUTE = text("""
SELECT ecc_bucket(INTERVAL '1 minute', ts) AS bucket, sum(energy), count(*), min(value),
       max(value), sum(value), (array_agg(value ORDER BY ts DESC))[1]
FROM reading WHERE meter_id = :m AND ts >= :s AND ts < :e
GROUP BY 1 ORDER BY 1
""")


def _rollup_points(
    session: Session, meter: Meter, start: datetime, end: datetime, resolution: str
) -> list[dict]:
    params = {"m": meter.id, "s": start + _US, "e": end + _US}
    if resolution == "1m":
        rows = session.execute(_ONE_MINUTE, params).all()
    else:
        ensure_fresh(session, [meter.id])
        rows = session.execute(
            text(
                f"SELECT bucket, energy, n, value_min, value_max, value_sum, value_last "
                f"FROM rollup_{resolution} WHERE meter_id = :m AND bucket >= :s "
                f"AND bucket < :e ORDER BY bucket"
            ),
            params,
        ).all()
    if meter.kind == "gauge":
        return [
            {
                "ts": b - _US,
                "value": vs / n,
                "min": lo,
                "max": hi,
                "avg": vs / n,
                "last": last,
                "n": n,
            }
            for b, _, n, lo, hi, vs, last in rows
        ]
    return [
        {"ts": b - _US, "value": en if en is not None else 0.0, "n": n} for b, en, n, *_ in rows
    ]


def _best_resolution(start: datetime, end: datetime, day_tz: str) -> str | None:
    """Coarsest rollup whose buckets tile [start, end) exactly; None → use raw readings."""
    tz = ZoneInfo(day_tz)

    def midnight(t: datetime) -> bool:
        local = t.astimezone(tz)
        return (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)

    if midnight(start) and midnight(end):
        return "1d"
    for res, step in (("1h", 3600), ("15m", 900)):
        if start.timestamp() % step == 0 and end.timestamp() % step == 0:
            return res
    return None


def day_timezone(session: Session) -> str:
    tz = session.execute(text("SELECT value FROM ecc_meta WHERE key = 'day_timezone'")).scalar()
    return tz or "UTC"


def site_totals(session: Session, code: str, start: datetime, end: datetime) -> dict:
    """Energy per carrier over (start, end] for a site and its descendants.

    Sub-meters whose parent meter is inside the same site subtree are not added again; they
    are listed under ``submetered`` for drill-down.
    """
    _check_period(start, end)
    site_ids = registry.site_subtree_ids(session, code)
    meters = session.execute(
        text(
            "SELECT id, code, carrier, canonical_unit, parent_id, kind FROM meter "
            "WHERE site_id = ANY(:s) AND kind <> 'gauge'"
        ),
        {"s": site_ids},
    ).all()
    ids_in = {m.id for m in meters}
    top = [m for m in meters if m.parent_id is None or m.parent_id not in ids_in]
    energy = _energy_by_meter(session, [m.id for m in meters], start, end)
    carriers: dict[tuple[str, str], float] = {}
    for m in top:
        key = (m.carrier, m.canonical_unit)
        carriers[key] = carriers.get(key, 0.0) + energy.get(m.id, 0.0)
    return {
        "site": code,
        "start": start,
        "end": end,
        "carriers": [
            {"carrier": c, "unit": u, "total": round(v, 9)}
            for (c, u), v in sorted(carriers.items())
        ],
        "meters": [
            {
                "meter": m.code,
                "carrier": m.carrier,
                "unit": m.canonical_unit,
                "total": energy.get(m.id, 0.0),
                "submeter": m not in top,
            }
            for m in meters
        ],
    }


def energy_by_meter(
    session: Session, meter_ids: list[int], start: datetime, end: datetime
) -> dict[int, float]:
    """Energy (canonical units) of each counter/delta meter over (start, end]."""
    _check_period(start, end)
    return _energy_by_meter(session, meter_ids, start, end)


def _energy_by_meter(
    session: Session, meter_ids: list[int], start: datetime, end: datetime
) -> dict[int, float]:
    if not meter_ids:
        return {}
    res = _best_resolution(start, end, day_timezone(session))
    if res is not None:
        ensure_fresh(session, meter_ids)
    if res is None:
        sql = (
            "SELECT meter_id, sum(energy) FROM reading WHERE meter_id = ANY(:m) "
            "AND ts > :s AND ts <= :e GROUP BY meter_id"
        )
        params = {"m": meter_ids, "s": start, "e": end}
    else:
        sql = (
            f"SELECT meter_id, sum(energy) FROM rollup_{res} WHERE meter_id = ANY(:m) "
            f"AND bucket >= :s AND bucket < :e GROUP BY meter_id"
        )
        params = {"m": meter_ids, "s": start + _US, "e": end + _US}
    return {mid: float(v or 0.0) for mid, v in session.execute(text(sql), params).all()}
