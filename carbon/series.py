"""Carbon time series for the wall screen and for interval checks.

Hourly points come from the carbon rollup views (``carbon_1h``, ``carbon_site_1h``: energy
rollups × pinned factors, made by migrations ``0002`` and ``0005_site_clock``); daily points
are the local days of the meter's site, or of the site asked for (``metering.clock``), summed
from ``carbon_1h`` or, where the zone's midnight is not on a whole UTC hour, ``carbon_15m``
(and the ``_site_`` views) with a time-range predicate; raw points multiply each reading's
interval quantity by the factor of its period. Nothing recomputes history from readings except
the raw resolution.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from carbon import aggregates, factors
from carbon.boundary import BoundaryMeter, meter_mapping, site_boundary
from core.errors import Invalid
from metering import clock, series
from metering.series import check_period

RESOLUTIONS = ("raw", "1h", "1d")
_US = timedelta(microseconds=1)

_RAW = text("""
SELECT r.ts, r.energy, r.energy * a.coef AS co2_t, a.factor_id
FROM reading r
LEFT JOIN carbon_assignment a ON a.version = :v AND a.meter_id = r.meter_id
  AND a.purpose = 'co2' AND r.ts > a.valid_from AND r.ts <= a.valid_to
WHERE r.meter_id = :m AND r.ts > :s AND r.ts <= :e AND r.energy IS NOT NULL
ORDER BY r.ts
""")


def _version(session: Session, version: int | None):  # noqa: ANN202
    return factors.get_version(session, version)


def meter_carbon(
    session: Session,
    code: str,
    start: datetime,
    end: datetime,
    resolution: str = "1h",
    version: int | None = None,
) -> dict:
    """Per-interval (raw: labelled by the reading's end) or per-bucket (labelled by the bucket
    start) tCO2 of one meter; ``tce`` too for hourly and daily points."""
    check_period(start, end)
    if resolution not in RESOLUTIONS:
        raise Invalid("resolution", f"one of {', '.join(RESOLUTIONS)}")
    meter, mapping = meter_mapping(session, code)
    ver = _version(session, version)
    bm = BoundaryMeter(
        meter.id,
        meter.code,
        meter.site_id,
        meter.carrier,
        meter.canonical_unit,
        meter.kind,
        mapping,
    )
    factors.ensure_assignments(session, ver, [bm])
    if resolution == "raw":
        rows = session.execute(_RAW, {"v": ver.version, "m": meter.id, "s": start, "e": end}).all()
        points = [
            {"ts": ts, "activity": en, "co2_t": co2, "factor_id": fid} for ts, en, co2, fid in rows
        ]
    else:
        aggregates.ensure_fresh(session, [meter.id])
        params = {"v": ver.version, "m": meter.id, "s": start, "e": end}
        if resolution == "1h":
            sql = (
                "SELECT bucket, activity, co2_t, tce, co2_factor_id FROM carbon_1h "
                "WHERE version = :v AND meter_id = :m AND bucket > :s AND bucket <= :e "
                "ORDER BY bucket"
            )
        else:
            zone = clock.meter_zone(session, meter)
            params["s"], params["e"] = clock.day_span(start, end, zone)
            day, day_params = series.local_day_sql(zone, params["s"], params["e"])
            params.update(day_params)
            sql = (
                f"SELECT {day}, sum(activity), sum(co2_t), sum(tce), "
                f"max(co2_factor_id) FROM carbon_{clock.day_level(zone, start, end)} "
                "WHERE version = :v AND meter_id = :m AND bucket > :s AND bucket <= :e "
                "GROUP BY 1 ORDER BY 1"
            )
        rows = session.execute(text(sql), params).all()
        points = [
            {"ts": b - _US, "activity": a, "co2_t": c, "tce": t, "factor_id": f}
            for b, a, c, t, f in rows
        ]
    return {
        "meter": meter.code,
        "unit": meter.canonical_unit,
        "scope": mapping.scope,
        "source": mapping.source,
        "version": ver.version,
        "resolution": resolution,
        "points": points,
    }


def site_carbon(
    session: Session,
    code: str,
    start: datetime,
    end: datetime,
    resolution: str = "1h",
    version: int | None = None,
) -> dict:
    """Hourly or daily tCO2 (scope 1, scope 2 location-based) and tce of a site and its
    descendants, sub-meters not counted twice."""
    check_period(start, end)
    if resolution not in ("1h", "1d"):
        raise Invalid("resolution", "one of 1h, 1d")
    ver = _version(session, version)
    boundary = site_boundary(session, code)
    factors.ensure_assignments(session, ver, boundary.counted)
    aggregates.ensure_fresh(session, [m.id for m in boundary.counted])
    params = {"v": ver.version, "site": boundary.site_ids[0], "s": start, "e": end}
    if resolution == "1h":
        sql = (
            "SELECT bucket, scope1_co2_t, scope2_co2_t, co2_t, tce FROM carbon_site_1h "
            "WHERE version = :v AND site_id = :site AND bucket > :s AND bucket <= :e "
            "ORDER BY bucket"
        )
    else:  # the site's local days
        zone = clock.site_zone(session, code)
        params["s"], params["e"] = clock.day_span(start, end, zone)
        day, day_params = series.local_day_sql(zone, params["s"], params["e"])
        params.update(day_params)
        sql = (
            f"SELECT {day}, sum(scope1_co2_t), sum(scope2_co2_t), "
            f"sum(co2_t), sum(tce) FROM carbon_site_{clock.day_level(zone, start, end)} "
            "WHERE version = :v AND site_id = :site AND bucket > :s AND bucket <= :e "
            "GROUP BY 1 ORDER BY 1"
        )
    rows = session.execute(text(sql), params).all()
    return {
        "site": code,
        "version": ver.version,
        "resolution": resolution,
        "points": [
            {
                "ts": b - _US,
                "scope1_co2_t": s1 or 0.0,
                "scope2_co2_t": s2 or 0.0,
                "co2_t": c or 0.0,
                "tce": t or 0.0,
            }
            for b, s1, s2, c, t in rows
        ],
    }
