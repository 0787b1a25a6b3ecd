"""Exogenous inputs of the forecasts: a site's temperature and series posted with future values.

Two sources, per site:

- **Temperature meters**: gauges of the site whose unit is a temperature (°C after
  conversion). Their bucket means are the observed past of the column ``temperature``.
- **Posted series** (``POST /api/v1/exogenous``): weather forecasts, production plans,
  shutdown calendars … Each post is an *issue* of one series (``issued_at``) and is never
  changed. The values *as of* a time T are, for every timestamp, those of the newest issue
  issued at or before T, so a forecast made at T is rebuilt with exactly the inputs it had. A
  posted series in a temperature unit extends the column ``temperature`` where the meters
  have no value (the future: the weather forecast); any other series becomes the column
  ``exog_<code>``.

Posted points are interpolated in time onto the forecast's grid (between posted points, and
the last point held for less than one posted step); nothing is invented beyond. An input is
given to the models only when it has a value at every step of the forecast period and at
least half of the history (the rest of the history is interpolated, then held). Which inputs
a run used, and the issues behind them, are stored with the run (``forecast_run.inputs``).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from core import units
from core.canonical import canonical_json
from core.errors import Conflict, Invalid, NotFound
from forecasting.subjects import Subject
from metering import registry, series
from models import Meter, Site
from models.exogenous import ExogIssue, ExogPoint, ExogSeries

TEMPERATURE = "temperature"
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_POINTS = 100_000
MAX_WINDOW = timedelta(days=400)
MIN_HISTORY_SHARE = 0.5


@dataclass(frozen=True)
class IssueIn:
    site: str
    series: str
    unit: str
    issued_at: datetime
    points: Sequence[tuple[datetime, float]]


def column_of(code: str, unit: str) -> str:
    """The model column a posted series feeds."""
    return TEMPERATURE if units.lookup(unit).dimension == "temperature" else f"exog_{code}"


def post_issue(session: Session, data: IssueIn, actor: str) -> dict:
    """Store one issue of a series (the series is created by its first issue). Posting the
    same issue again is a no-op (``created`` false); other values under a stored
    ``issued_at`` are refused: issues are never changed."""
    site = registry.get_site(session, data.site)
    if not CODE.match(data.series):
        raise Invalid("series", "1-64 letters, digits, '_', '.', '-', starting with a letter/digit")
    unit = units.lookup(data.unit)
    canonical = units.BASE_UNITS[unit.dimension]
    factor, offset = units.conversion(unit.symbol, canonical)
    if data.issued_at.tzinfo is None:
        raise Invalid("issued_at", "timestamp without UTC offset")
    if not data.points:
        raise Invalid("points", "at least one point")
    if len(data.points) > MAX_POINTS:
        raise Invalid("points", f"at most {MAX_POINTS} points per issue")
    values: dict[datetime, float] = {}
    for i, (ts, value) in enumerate(data.points):
        if ts.tzinfo is None:
            raise Invalid(f"points[{i}].ts", "timestamp without UTC offset")
        if not math.isfinite(value):
            raise Invalid(f"points[{i}].value", "must be a finite number")
        ts = ts.astimezone(UTC)
        if ts in values:
            raise Invalid(f"points[{i}].ts", f"{ts.isoformat()} appears twice")
        values[ts] = value * factor + offset
    stamps = sorted(values)
    if stamps[-1] - stamps[0] > MAX_WINDOW:
        raise Invalid("points", f"an issue spans at most {MAX_WINDOW.days} days")
    issued_at = data.issued_at.astimezone(UTC)
    digest = hashlib.sha256(
        canonical_json([[t, values[t]] for t in stamps]).encode("utf-8")
    ).hexdigest()
    row = session.scalar(
        select(ExogSeries).where(ExogSeries.site_id == site.id, ExogSeries.code == data.series)
    )
    if row is None:
        row = ExogSeries(site_id=site.id, code=data.series, unit=canonical, created_by=actor)
        session.add(row)
        session.flush()
    elif row.unit != canonical:
        raise Invalid(
            "unit", f"series {data.series} is stored in {row.unit}; {data.unit} is not convertible"
        )
    issue = session.scalar(
        select(ExogIssue).where(ExogIssue.series_id == row.id, ExogIssue.issued_at == issued_at)
    )
    created = issue is None
    if issue is None:
        issue = ExogIssue(
            series=row,
            issued_at=issued_at,
            points=len(stamps),
            first_ts=stamps[0],
            last_ts=stamps[-1],
            digest=digest,
            created_by=actor,
        )
        session.add(issue)
        session.flush()
        session.execute(
            insert(ExogPoint),
            [{"issue_id": issue.id, "ts": t, "value": values[t]} for t in stamps],
        )
    elif issue.digest != digest:
        raise Conflict(
            "issued_at",
            f"an issue of {data.series} issued at {issued_at.isoformat()} is stored with other "
            "values; issues are never changed: post the new values with a newer issued_at",
        )
    return {
        "site": site.code,
        "series": row.code,
        "unit": row.unit,
        "column": column_of(row.code, row.unit),
        "created": created,
        **_issue_dict(issue),
    }


def _issue_dict(issue: ExogIssue) -> dict:
    return {
        "issued_at": issue.issued_at,
        "points": issue.points,
        "first": issue.first_ts,
        "last": issue.last_ts,
        "created_by": issue.created_by,
    }


def as_of_values(
    session: Session, series_id: int, as_of: datetime, lo: datetime, hi: datetime
) -> list[tuple[datetime, float, datetime]]:
    """``(ts, value, issued_at)`` for ``lo <= ts < hi``: every timestamp's value from the
    newest issue issued at or before ``as_of``."""
    rows = session.execute(
        text(
            "SELECT DISTINCT ON (p.ts) p.ts, p.value, i.issued_at FROM exog_point p "
            "JOIN exog_issue i ON i.id = p.issue_id WHERE i.series_id = :s "
            "AND i.issued_at <= :asof AND p.ts >= :lo AND p.ts < :hi "
            "ORDER BY p.ts, i.issued_at DESC"
        ),
        {"s": series_id, "asof": as_of, "lo": lo, "hi": hi},
    ).all()
    return [(r[0], float(r[1]), r[2]) for r in rows]


def list_inputs(
    session: Session,
    *,
    site: str,
    series_code: str | None = None,
    as_of: datetime | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
) -> dict:
    """The site's posted series with their issues and the values as of ``as_of`` (default
    now) in ``start``…``end`` (default: everything the issues cover, at most 400 days)."""
    for name, value in (("as_of", as_of), ("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            raise Invalid(name, "timestamp without UTC offset")
    if start is not None and end is not None and end <= start:
        raise Invalid("end", "must be after start")
    row = registry.get_site(session, site)
    as_of = (as_of or now or datetime.now(UTC)).astimezone(UTC)
    stmt = select(ExogSeries).where(ExogSeries.site_id == row.id)
    if series_code is not None:
        stmt = stmt.where(ExogSeries.code == series_code)
    found = session.scalars(stmt.order_by(ExogSeries.code)).all()
    if series_code is not None and not found:
        raise NotFound("series", f"site {site!r} has no exogenous series {series_code!r}")
    out = []
    for s in found:
        issues = session.scalars(
            select(ExogIssue)
            .where(ExogIssue.series_id == s.id, ExogIssue.issued_at <= as_of)
            .order_by(ExogIssue.issued_at)
        ).all()
        lo = start or (min(i.first_ts for i in issues) if issues else as_of)
        hi = end or (max(i.last_ts for i in issues) + timedelta(microseconds=1) if issues else lo)
        if hi - lo > MAX_WINDOW:
            raise Invalid("end", f"at most {MAX_WINDOW.days} days after start")
        out.append(
            {
                "series": s.code,
                "unit": s.unit,
                "column": column_of(s.code, s.unit),
                "issues": [_issue_dict(i) for i in issues],
                "points": [
                    {"ts": ts, "value": v, "issued_at": at}
                    for ts, v, at in as_of_values(session, s.id, as_of, lo, hi)
                ],
            }
        )
    return {"site": row.code, "as_of": as_of, "series": out}


# -- the inputs of one forecast ------------------------------------------------------------


@dataclass
class Inputs:
    """Exogenous columns on the history and forecast grid, and what they came from."""

    frame: pd.DataFrame  # indexed like history + future
    record: dict  # stored as forecast_run.inputs

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.frame.columns)


def _site_id(session: Session, subject: Subject) -> int:
    if subject.kind == "site":
        return subject.id
    return session.get_one(Meter, subject.id).site_id


def _chain(session: Session, site_id: int) -> list[int]:
    """The site and its ancestors, nearest first (a workshop takes its plant's weather)."""
    out: list[int] = []
    current: int | None = site_id
    while current is not None and current not in out:
        out.append(current)
        current = session.get_one(Site, current).parent_id
    return out


def _temperature_meters(session: Session, chain: list[int]) -> list[Meter]:
    """The temperature gauges of the nearest site of the chain that has any."""
    for site_id in chain:
        meters = session.scalars(
            select(Meter)
            .where(Meter.site_id == site_id, Meter.kind == "gauge")
            .order_by(Meter.code)
        ).all()
        found = [m for m in meters if units.lookup(m.canonical_unit).dimension == "temperature"]
        if found:
            return found
    return []


def _posted_series(session: Session, chain: list[int]) -> list[ExogSeries]:
    """The posted series of the chain, the nearest site's one where a code repeats."""
    rows = session.scalars(select(ExogSeries).where(ExogSeries.site_id.in_(chain))).all()
    nearest: dict[str, ExogSeries] = {}
    for row in sorted(rows, key=lambda r: chain.index(r.site_id), reverse=True):
        nearest[row.code] = row
    return [nearest[code] for code in sorted(nearest)]


def _on_grid(points: pd.Series, grid: pd.DatetimeIndex) -> pd.Series:
    """Posted points interpolated in time onto ``grid``; the last point held for less than
    one posted step; nothing outside."""
    if points.empty:
        return pd.Series(np.nan, index=grid)
    union = points.index.union(grid)
    out = points.reindex(union).interpolate("time", limit_area="inside")
    if len(points) > 1 and len(grid) > 1:
        spacing = pd.Series(points.index).diff().median()
        hold = int(spacing / (grid[1] - grid[0])) - 1
        if hold > 0:
            out = out.ffill(limit=hold)
    return out.reindex(grid)


def subject_inputs(
    session: Session,
    subject: Subject,
    history: pd.DatetimeIndex,
    future: pd.DatetimeIndex,
    as_of: datetime,
) -> Inputs:
    """The exogenous columns of a subject's site over ``history`` + ``future`` (the forecast
    period) as known at ``as_of``; only those complete over the future are kept. A site
    without its own temperature gauges or posted series takes its nearest ancestor's."""
    grid = history.append(future)
    utc = grid.tz_convert(UTC) if grid.tz is not None else grid.tz_localize(UTC)
    lo, hi = utc[0].to_pydatetime(), (utc[-1] + (utc[1] - utc[0])).to_pydatetime()
    chain = _chain(session, _site_id(session, subject))
    columns: dict[str, pd.Series] = {}
    sources: dict[str, list[dict]] = {}
    meters = _temperature_meters(session, chain)
    last = min(history[-1].to_pydatetime(), as_of)
    if meters and last + subject.step > lo:
        observed = []
        for m in meters:
            pts = series.meter_series(session, m.code, lo, last + subject.step, subject.resolution)[
                "points"
            ]
            observed.append(
                pd.Series(
                    [p["value"] for p in pts],
                    index=pd.DatetimeIndex(pd.to_datetime([p["ts"] for p in pts], utc=True)),
                    dtype=float,
                ).reindex(utc)
            )
        columns[TEMPERATURE] = pd.concat(observed, axis=1).mean(axis=1)
        sources[TEMPERATURE] = [{"meter": m.code, "unit": m.canonical_unit} for m in meters]
    for s in _posted_series(session, chain):
        rows = as_of_values(session, s.id, as_of, lo - timedelta(days=1), hi + timedelta(days=1))
        if not rows:
            continue
        values = pd.Series(
            [v for _, v, _ in rows],
            index=pd.DatetimeIndex(pd.to_datetime([r[0] for r in rows], utc=True)),
        )
        on_grid = _on_grid(values, utc)
        name = column_of(s.code, s.unit)
        columns[name] = columns[name].fillna(on_grid) if name in columns else on_grid
        issued = sorted({r[2] for r in rows})
        sources.setdefault(name, []).append(
            {
                "series": s.code,
                "unit": s.unit,
                "issues": len(issued),
                "newest_issue": issued[-1].astimezone(UTC).isoformat(),
            }
        )
    used, skipped = {}, []
    n = len(history)
    for name, values in columns.items():
        past, ahead = values.iloc[:n], values.iloc[n:]
        if ahead.isna().any():
            skipped.append({"column": name, "reason": "no value for every step of the forecast"})
        elif past.notna().mean() < MIN_HISTORY_SHARE:
            skipped.append({"column": name, "reason": "values for less than half the history"})
        else:
            used[name] = values.interpolate(limit_area="inside").ffill().bfill().to_numpy()
    frame = pd.DataFrame(used, index=grid)
    record = {
        "as_of": as_of.astimezone(UTC).isoformat(),
        "columns": [{"column": c, "sources": sources[c]} for c in used],
        "skipped": skipped,
    }
    return Inputs(frame, record)
