"""Reading back: meter series at any resolution and site totals per carrier.

One query path for both databases: the rollup relations have the same names and columns on
TimescaleDB (continuous aggregates) and plain PostgreSQL (tables). A bucket covers
``(start, start + width]`` and is stored labelled ``start + 1 µs`` (see
``migrations.timeseries``); everything returned here is labelled by ``start``.

Days are the meter's site's local days (``metering.clock``): built here from the hourly
rollup, or the 15-minute one where the zone's midnight is not on a whole UTC hour, with a
time-range predicate; identical on both paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from core.db import psycopg_connection
from core.errors import Invalid
from metering import clock, registry
from metering.rollups import refresh_all
from metering.scope import counted_meters
from models import Meter

RESOLUTIONS = {
    "1m": timedelta(minutes=1),
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
}
MAX_RAW_POINTS = 200_000
_US = timedelta(microseconds=1)


def check_period(start: datetime, end: datetime) -> None:
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
    check_period(start, end)
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
    meta: dict[str, str] = dict(session.execute(text("SELECT key, value FROM ecc_meta")).all())
    if meta.get("timeseries_path") != "postgresql" or not meter_ids:
        return
    with psycopg_connection(cast(Engine, session.get_bind())) as conn:
        refresh_all(conn, meter_ids)


# 1-minute buckets come straight from the readings on both paths (a bucket holds about one
# reading; the TimescaleDB continuous aggregate rollup_1m gives the same rows).
_ONE_MINUTE = text("""
SELECT ecc_bucket(INTERVAL '1 minute', ts) AS bucket, sum(energy), count(*), min(value),
       max(value), sum(value), (array_agg(value ORDER BY ts DESC))[1]
FROM reading WHERE meter_id = :m AND ts >= :s AND ts < :e
GROUP BY 1 ORDER BY 1
""")


def local_day_sql(zone: ZoneInfo, lo: datetime, hi: datetime) -> tuple[str, dict]:
    """SQL labelling a sub-day ``bucket`` with its local day (day start + 1 µs), and its
    parameters: ``ecc_day_bucket`` (the zone's calendar, DST-safe), or the same labels from the
    cheaper ``date_bin`` where the zone keeps one offset from ``lo`` to ``hi`` (a local
    midnight)."""
    if clock.fixed_offset(zone, lo, hi):
        return (
            "(date_bin(INTERVAL '1 day', bucket - INTERVAL '1 microsecond', :day_origin) "
            "+ INTERVAL '1 microsecond')",
            {"day_origin": lo},
        )
    return "ecc_day_bucket(bucket, :tz)", {"tz": zone.key}


# Local days of one meter from a sub-day rollup: a sub-bucket belongs to the day holding its
# start (as ``ecc_day_bucket`` says), the same grouping as the ``rollup_1d`` view.
_LOCAL_DAYS = """
SELECT {day} AS day, sum(energy), sum(n)::bigint, {gauge}
FROM rollup_{level} WHERE meter_id = :m AND bucket >= :s AND bucket < :e
GROUP BY 1 ORDER BY 1
"""
_GAUGE_DAY = (
    "min(value_min), max(value_max), sum(value_sum), "
    "(array_agg(value_last ORDER BY ts_last DESC))[1]"
)


def _rollup_points(
    session: Session, meter: Meter, start: datetime, end: datetime, resolution: str
) -> list[dict]:
    params: dict = {"m": meter.id, "s": start + _US, "e": end + _US}
    if resolution == "1m":
        rows = session.execute(_ONE_MINUTE, params).all()
    elif resolution == "1d":
        zone = clock.meter_zone(session, meter)
        lo, hi = clock.day_span(start, end, zone)
        rows = []
        if lo < hi:
            ensure_fresh(session, [meter.id])
            day, day_params = local_day_sql(zone, lo, hi)
            sql = _LOCAL_DAYS.format(
                day=day,
                level=clock.day_level(zone, lo, hi),
                gauge=_GAUGE_DAY if meter.kind == "gauge" else "NULL",  # energy meters: no sort
            )
            params = {"m": meter.id, "s": lo + _US, "e": hi + _US, **day_params}
            rows = session.execute(text(sql), params).all()
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


@dataclass(frozen=True)
class RangeSum:
    """Energy of one meter over (lo, hi] in its canonical unit, with the reading count."""

    energy: float
    n: int
    resolution: str  # raw, 15m, 1h or 15m+1h: the relations that tiled the range


def rollup_tiles(lo: datetime, hi: datetime) -> dict[str, list[tuple[datetime, datetime]]] | None:
    """Rollup tiles of (lo, hi]: whole hours from ``rollup_1h``, the 15-minute head and tail from
    ``rollup_15m``; None when the ends are not on 15-minute marks (use raw readings). Works for
    every zone's days, weeks, months and years (local midnights are on 15-minute marks)."""
    q, h = 900, 3600
    a, b = lo.timestamp(), hi.timestamp()
    if a % q or b % q:
        return None
    ha, hb = -(-a // h) * h, b // h * h  # first and last whole hour inside
    if ha >= hb:
        return {"15m": [(lo, hi)]}
    first, last = lo + timedelta(seconds=ha - a), hi - timedelta(seconds=b - hb)
    tiles: dict[str, list[tuple[datetime, datetime]]] = {"1h": [(first, last)]}
    edges = [(x, y) for x, y in ((lo, first), (last, hi)) if x < y]
    if edges:
        tiles["15m"] = edges
    return tiles


def range_sums(
    session: Session, meter_ids: list[int], start: datetime, end: datetime
) -> dict[int, RangeSum]:
    """Energy per meter over (start, end] from the coarsest rollups that tile it exactly, raw
    readings otherwise; meters without readings are absent. The one place that chooses."""
    if not meter_ids or end <= start:
        return {}
    tiles = rollup_tiles(start, end)
    if tiles is None:
        sql = (
            "SELECT meter_id, sum(energy), count(*) FROM reading WHERE meter_id = ANY(:m) "
            "AND ts > :s AND ts <= :e GROUP BY meter_id"
        )
        params: dict = {"m": meter_ids, "s": start, "e": end}
        label = "raw"
    else:
        ensure_fresh(session, meter_ids)
        parts, params = [], {"m": meter_ids}
        for level, spans in tiles.items():
            for k, (lo, hi) in enumerate(spans):
                params[f"s{level}{k}"], params[f"e{level}{k}"] = lo + _US, hi + _US
                parts.append(
                    f"SELECT meter_id, energy, n FROM rollup_{level} WHERE meter_id = ANY(:m) "
                    f"AND bucket >= :s{level}{k} AND bucket < :e{level}{k}"
                )
        sql = (
            "SELECT meter_id, sum(energy), sum(n)::bigint FROM ("
            + " UNION ALL ".join(parts)
            + ") t GROUP BY meter_id"
        )
        label = "+".join(sorted(tiles))
    return {
        mid: RangeSum(float(e or 0.0), int(n), label)
        for mid, e, n in session.execute(text(sql), params).all()
    }


def site_totals(session: Session, code: str, start: datetime, end: datetime) -> dict:
    """Energy per carrier over (start, end] for a site and its descendants.

    The counted meters (:func:`metering.scope.counted_meters`) are added up; sub-meters are
    listed with ``submeter: true`` for drill-down, never added again.
    """
    check_period(start, end)
    scope = counted_meters(session, code)
    meters = sorted(scope.counted + scope.submeters, key=lambda m: m.id)
    energy = _energy_by_meter(session, [m.id for m in meters], start, end)
    carriers: dict[tuple[str, str], float] = {}
    for m in scope.counted:
        key = (m.carrier, m.canonical_unit)
        carriers[key] = carriers.get(key, 0.0) + energy.get(m.id, 0.0)
    submeters = {m.id for m in scope.submeters}
    return {
        "site": scope.site,
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
                "submeter": m.id in submeters,
            }
            for m in meters
        ],
    }


def energy_by_meter(
    session: Session, meter_ids: list[int], start: datetime, end: datetime
) -> dict[int, float]:
    """Energy (canonical units) of each counter/delta meter over (start, end]."""
    check_period(start, end)
    return _energy_by_meter(session, meter_ids, start, end)


def _energy_by_meter(
    session: Session, meter_ids: list[int], start: datetime, end: datetime
) -> dict[int, float]:
    """Energy per meter over (start, end] (:func:`range_sums`, without the counts)."""
    return {mid: r.energy for mid, r in range_sums(session, meter_ids, start, end).items()}
