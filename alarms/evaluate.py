"""Rule evaluation: on committed reading batches (threshold, rate, idle) and on the clock
(stale data, demand, forecast deviation, budgets, node loss, ETS deadline, shelving expiry).

Batch path, one transaction: find the stream rules of the batch's meters, lock their alarm
points (and those of the rules they suppress) in id order, drop every reading at or before a
point's ``eval_ts`` (re-sent, duplicate and late readings never raise or clear anything: the
condition follows reading time forward only), compute the rule's quantity for the rest (from
the batch, or from ``reading`` for counter energy, windows and rollups), run the deadband and
delays (:mod:`alarms.conditions`), record the transitions (:mod:`alarms.store`) and the outbox.

Forecast deviation (clock path): per complete bucket of the forecast subject (the meter, or
the site's carrier total, as :mod:`forecasting.subjects` defines it) the actual is compared
with the 90 % interval of the forecast *in force* for that bucket: the newest stored run that
has a point for it (refresh runs start at the bucket after their training data, so the newest
run of all never covers a complete bucket). ``exceed_high = actual - upper``, ``exceed_low =
lower - actual``; a point's quantity at a bucket is the smallest exceedance over the K buckets
ending there (NaN if any of them lacks an actual or a forecast), active above the margin and
cleared at or below margin - deadband, at the bucket's end time. A bucket is evaluated once
a reading at or after its end is stored for every meter of the subject that reported in the
window (late and partial buckets wait for their data); a subject without any stored forecast
leaves the rule's points untouched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from alarms import outbox
from alarms.conditions import DebounceState, debounce, limit_masks
from alarms.config import AlarmConfig
from alarms.lifecycle import Action
from alarms.rules import LIMITS, NODE_LOSS_PERIODS, STREAM_TYPES, TIMED_TYPES
from alarms.schedule import Window, in_windows, local_us, parse_holidays, parse_windows
from alarms.store import PointRow, Recorder, db_now, lock_points, resync_children
from alarms.store import us_to_dt as us_dt
from assets.offsets import ets_position
from benchmarking.energy_balance import site_balance
from core import units
from core.errors import Invalid, NotFound
from metering.registry import contracted_demand_kw
from metering.scope import counted_meters
from models import Meter, Site
from models.alarms import RuleType

log = logging.getLogger(__name__)

US = 1_000_000
WIDTH_US = {"15m": 900 * US, "1h": 3600 * US, "1d": 86_400 * US}
RECENT_US = 300 * US  # demand projection: power over the last five minutes
BUDGET_EVERY_US = 900 * US  # budget rules: re-projected every 15 minutes
SYSTEM = "system"


@dataclass(frozen=True)
class Compiled:
    """A rule ready to evaluate: limits and deadband converted to the quantity's unit."""

    id: int
    version: int
    type: RuleType
    meter_id: int | None
    site_id: int | None
    kind: str | None
    interval_s: int
    tz: str
    limits: dict[str, float]
    deadband: float
    on_delay_us: int
    off_delay_us: int
    x_scale: float
    resolution: str
    window_us: int
    intervals: float
    method: str
    block_us: int
    schedule: list[Window] | None
    idle: list[Window] | None
    holidays: list[date]
    created_us: int
    target: str = "energy"  # forecast_deviation: energy | load
    carrier: str | None = None  # forecast_deviation of a site
    budget: tuple[str, str, str] | None = None  # budget: (quantity, period, basis)
    node_loss: tuple[str, str | None, int] | None = None  # (carrier, node or None, window s)
    ets: tuple[int, int] | None = None  # ets_deadline: (compliance year, days before)
    # demand without ``high``: the site (the rule's, or its meter's) whose own contracted
    # demand is the limit, read at every evaluation (a changed contract applies at once)
    contract_site_id: int | None = None


_RULES = """
SELECT r.id, r.version, r.type, r.meter_id, r.site_id, r.high, r.low, r.high_high, r.low_low,
       r.deadband, r.on_delay_s, r.off_delay_s, r.unit, r.params, r.schedule,
       (extract(epoch FROM r.created_at) * 1000000)::bigint,
       m.kind, m.interval_s, m.canonical_unit, coalesce(s.timezone, 'UTC'), s.id
FROM alarm_rule r LEFT JOIN meter m ON m.id = r.meter_id
LEFT JOIN site s ON s.id = coalesce(r.site_id, m.site_id)
WHERE r.id = ANY(:ids)
"""


def compile_rule(row: Any) -> Compiled:
    (
        rid,
        version,
        rtype,
        meter_id,
        site_id,
        high,
        low,
        hh,
        ll,
        deadband,
        on_s,
        off_s,
        unit,
        params,
        schedule,
        created_us,
        kind,
        interval_s,
        canonical,
        tz,
        own_site_id,
    ) = row
    rtype = RuleType(rtype)
    params = params or {}
    quantity = "kW" if rtype is RuleType.DEMAND else (canonical or "1")
    factor, offset, x_scale = 1.0, 0.0, 1.0
    if unit is not None and rtype not in (RuleType.STALE, RuleType.FORECAST_DEVIATION):
        if units.lookup(unit).dimension == units.lookup(quantity).dimension:
            factor, offset = units.conversion(unit, quantity)
        else:  # idle on an energy meter with a power baseline: energy per interval → kW
            factor, offset = units.conversion(unit, "kW")
            x_scale = units.conversion(quantity, "kWh")[0] * 3600.0 / interval_s
    raw = dict(zip(LIMITS, (high, hh, low, ll), strict=True))
    limits = {k: v * factor + offset for k, v in raw.items() if v is not None}
    return Compiled(
        id=rid,
        version=version,
        type=rtype,
        meter_id=meter_id,
        site_id=site_id,
        kind=kind,
        interval_s=interval_s or 60,
        tz=tz,
        limits=limits,
        deadband=deadband * factor,
        on_delay_us=int(on_s * US),
        off_delay_us=int(off_s * US),
        x_scale=x_scale,
        resolution=params.get("resolution", "raw"),
        window_us=int(params.get("window_s", 0) * US),
        intervals=params.get("intervals", 3.0),
        method=params.get("method", "block"),
        block_us=int(params.get("block_s", 900)) * US,
        schedule=parse_windows(schedule, "schedule") if schedule else None,
        idle=parse_windows(params["idle_periods"], "idle_periods")
        if rtype is RuleType.IDLE
        else None,
        holidays=parse_holidays(params.get("holidays")),
        created_us=created_us,
        target=params.get("target", "energy"),
        carrier=params.get("carrier"),
        budget=(params["quantity"], params.get("period", "month"), params.get("basis", "projected"))
        if rtype is RuleType.BUDGET
        else None,
        node_loss=(
            params.get("carrier", "electricity"),
            params.get("node"),
            NODE_LOSS_PERIODS[params.get("period", "1d")],
        )
        if rtype is RuleType.NODE_LOSS
        else None,
        ets=(int(params["year"]), int(params.get("days_before", 30)))
        if rtype is RuleType.ETS_DEADLINE
        else None,
        contract_site_id=own_site_id if rtype is RuleType.DEMAND and high is None else None,
    )


class RuleCache:
    """Compiled rules by (id, version), per process; a changed rule has a new version."""

    def __init__(self, max_size: int = 20_000) -> None:
        self._rules: dict[tuple[int, int], Compiled] = {}
        self._max = max_size

    def get(self, conn: Connection, versions: dict[int, int]) -> dict[int, Compiled]:
        missing = [rid for rid, v in versions.items() if (rid, v) not in self._rules]
        if missing:
            if len(self._rules) + len(missing) > self._max:
                self._rules.clear()
            for row in conn.execute(text(_RULES), {"ids": missing}).all():
                c = compile_rule(row)
                self._rules[(c.id, c.version)] = c
        return {
            rid: self._rules[(rid, v)] for rid, v in versions.items() if (rid, v) in self._rules
        }


@dataclass
class History:
    """Stored readings of one meter (µs, value, energy) around the batch."""

    ts: np.ndarray
    value: np.ndarray
    energy: np.ndarray

    def base(self, kind: str | None) -> np.ndarray:
        return self.energy if kind == "counter" else self.value

    def at(self, t: np.ndarray, kind: str | None) -> np.ndarray:
        """The quantity of the stored reading at each time (NaN where none)."""
        i = np.searchsorted(self.ts, t)
        ok = i < len(self.ts)
        ok[ok] = self.ts[i[ok]] == t[ok]
        out = np.full(len(t), np.nan)
        out[ok] = self.base(kind)[i[ok]]
        return out


_HISTORY = """
SELECT r.meter_id, array_agg((extract(epoch FROM r.ts) * 1000000)::bigint ORDER BY r.ts),
       array_agg(r.value ORDER BY r.ts),
       array_agg(coalesce(r.energy, 'NaN'::float8) ORDER BY r.ts)
FROM unnest(%(m)s::int[], %(lo)s::bigint[], %(hi)s::bigint[]) AS q(m, lo, hi)
JOIN reading r ON r.meter_id = q.m
 AND r.ts > timestamptz 'epoch' + q.lo * interval '1 microsecond'
 AND r.ts <= timestamptz 'epoch' + q.hi * interval '1 microsecond'
GROUP BY r.meter_id
"""


def fetch_history(conn: Connection, spans: dict[int, tuple[int, int]]) -> dict[int, History]:
    """Stored readings per meter over its span, fetched as binary arrays (the hot query)."""
    if not spans:
        return {}
    ids = list(spans)
    raw: Any = conn.connection.dbapi_connection  # psycopg, in this transaction
    assert raw is not None
    with raw.cursor(binary=True) as cur:
        cur.execute(
            _HISTORY, {"m": ids, "lo": [spans[m][0] for m in ids], "hi": [spans[m][1] for m in ids]}
        )
        rows = cur.fetchall()
    empty = History(np.empty(0, np.int64), np.empty(0), np.empty(0))
    out = dict.fromkeys(ids, empty)
    for mid, ts, value, energy in rows:
        out[mid] = History(
            np.array(ts, np.int64), np.array(value, np.float64), np.array(energy, np.float64)
        )
    return out


def _bucket_starts(t: np.ndarray, rule: Compiled) -> np.ndarray:
    w = WIDTH_US[rule.resolution]
    off = local_us(t, rule.tz) - t if rule.resolution == "1d" else np.zeros_like(t)
    return ((t - 1 + off) // w) * w - off


def _span(rule: Compiled, t: np.ndarray) -> tuple[int, int]:
    """The stored readings (lo, hi] the rule's quantity at times ``t`` depends on."""
    lo, hi = int(t.min()), int(t.max())
    if rule.type is RuleType.RATE:
        return lo - 2 * rule.window_us - 1, hi
    if rule.resolution != "raw":
        return int(_bucket_starts(t, rule).min()), hi
    return lo - 1, hi


def quantity(rule: Compiled, t: np.ndarray, hist: History | None) -> np.ndarray:
    """The compared quantity at each reading time (canonical units; NaN: not defined), from the
    stored readings: a reading the writer rejected as a conflict is never evaluated."""
    if rule.type is RuleType.RATE:
        assert hist is not None
        base = hist.base(rule.kind)
        now = hist.at(t, rule.kind)
        j = np.searchsorted(hist.ts, t - rule.window_us, side="right") - 1
        ok = (
            (j >= 0) & (hist.ts[np.maximum(j, 0)] >= t - 2 * rule.window_us)
            if len(hist.ts)
            else np.zeros(len(t), bool)
        )
        out = np.full(len(t), np.nan)
        out[ok] = now[ok] - base[j[ok]]
        return out
    if rule.resolution != "raw":
        assert hist is not None
        b = np.nan_to_num(hist.base(rule.kind))
        cs = np.concatenate(([0.0], np.cumsum(b)))
        it = np.searchsorted(hist.ts, t, side="right")
        i0 = np.searchsorted(hist.ts, _bucket_starts(t, rule), side="right")
        total = cs[it] - cs[i0]
        if rule.kind == "gauge":
            with np.errstate(invalid="ignore", divide="ignore"):
                return total / (it - i0)
        return total
    assert hist is not None
    return hist.at(t, rule.kind) * rule.x_scale


def armed_mask(rule: Compiled, t: np.ndarray) -> np.ndarray | None:
    mask = None
    if rule.schedule:
        mask = in_windows(t, rule.tz, rule.schedule)
    if rule.idle is not None:
        idle = in_windows(t, rule.tz, rule.idle, rule.holidays)
        mask = idle if mask is None else mask & idle
    return mask


def condition_masks(
    rule: Compiled, condition: str, x: np.ndarray, armed: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    if rule.type is RuleType.FORECAST_DEVIATION:  # both points: exceedance beyond a margin
        limit = rule.limits[condition]
        with np.errstate(invalid="ignore"):
            on, off = x > limit, x <= limit - rule.deadband
    elif condition == "stale":
        limit_s = rule.intervals * rule.interval_s
        on, off = x > limit_s, x <= limit_s
    else:
        on, off = limit_masks(x, condition, rule.limits[condition], rule.deadband)
    if armed is not None:
        on &= armed
        off |= ~armed
    return on, off


def _run_point(
    rec: Recorder,
    row: PointRow,
    rule: Compiled,
    t: np.ndarray,
    x: np.ndarray,
    armed: np.ndarray | None,
    reading_us: int | None = None,
) -> bool:
    """Evaluate one point on its new readings; True if its condition changed."""
    state = row.debounce
    if state.eval_ts is not None:
        new = t > state.eval_ts
        if not new.any():
            return False
        t, x = t[new], x[new]
        armed = armed[new] if armed is not None else None
    on, off = condition_masks(rule, row.condition, x, armed)
    state = DebounceState(state.eval_ts, state.raw, state.raw_since, row.point.condition_active)
    new_state, changes = debounce(t, on, off, state, rule.on_delay_us, rule.off_delay_us)
    last = float(x[-1]) if np.isfinite(x[-1]) else row.last_value
    rec.evaluated(row, new_state, last)
    for c in changes:
        value = float(x[c.index]) if np.isfinite(x[c.index]) else None
        rec.act(
            row,
            Action.ACTIVATE if c.active else Action.CLEAR,
            user=SYSTEM,
            value=value,
            reading_us=int(t[c.index]) if reading_us is None else reading_us,
        )
    return bool(changes)


def _points_by_rule(rows: dict[int, PointRow]) -> dict[int, list[PointRow]]:
    out: dict[int, list[PointRow]] = {}
    for row in rows.values():
        out.setdefault(row.rule_id, []).append(row)
    return out


def evaluate_readings(
    conn: Connection, meter_id: np.ndarray, ts_us: np.ndarray, config: AlarmConfig, cache: RuleCache
) -> list[int]:
    """Evaluate the readings committed at these (meter, time) pairs, sorted by meter then
    time; returns the ids of the outbox rows to deliver."""
    meters = np.unique(meter_id)
    found = conn.execute(
        text(
            "SELECT id, version FROM alarm_rule WHERE meter_id = ANY(:m) AND type = ANY(:t) "
            "AND deleted_at IS NULL AND enabled"
        ),
        {"m": meters.tolist(), "t": [t.value for t in STREAM_TYPES]},
    ).all()
    if not found:
        return []
    versions: dict[int, int] = dict(found)
    rows = lock_points(conn, rule_ids=list(versions), family=True)
    rules = cache.get(conn, versions)
    lo = np.searchsorted(meter_id, meters, side="left")
    hi = np.searchsorted(meter_id, meters, side="right")
    slices = {int(m): (int(a), int(b)) for m, a, b in zip(meters, lo, hi, strict=True)}
    spans: dict[int, tuple[int, int]] = {}
    for rule in rules.values():
        if rule.meter_id in slices:
            a, b = slices[rule.meter_id]
            s_lo, s_hi = _span(rule, ts_us[a:b])
            old = spans.get(rule.meter_id)
            spans[rule.meter_id] = (
                (s_lo, s_hi) if old is None else (min(old[0], s_lo), max(old[1], s_hi))
            )
    hist = fetch_history(conn, spans)
    rec = Recorder(conn, db_now(conn), config)
    changed = set()
    for rid, points in _points_by_rule(rows).items():
        found_rule = rules.get(rid)
        mid = found_rule.meter_id if found_rule is not None else None
        if found_rule is None or mid is None or mid not in slices:
            continue  # a suppressed child of a rule in the batch, or a rule not evaluated here
        rule = found_rule
        a, b = slices[mid]
        t = ts_us[a:b]
        x = quantity(rule, t, hist.get(mid))
        armed = armed_mask(rule, t)
        for row in points:
            if row.condition in rule.limits and _run_point(rec, row, rule, t, x, armed):
                changed.add(rid)
    ids = rec.flush()
    if changed:
        ids += resync_children(conn, sorted(changed), rec.now, config, rows=rows)
    return ids


# --- clock-driven rules -------------------------------------------------------------------

_LAST_READING = """
SELECT m.id, (SELECT (extract(epoch FROM max(r.ts)) * 1000000)::bigint
              FROM reading r WHERE r.meter_id = m.id)
FROM meter m WHERE m.id = ANY(:m)
"""


def _energy_kwh(
    conn: Connection, rule: Compiled, meter_ids: list[int], lo_us: int, hi_us: int
) -> float:
    """Energy (kWh) over (lo, hi]: summed interval energy, or mean power × time (gauge)."""
    span = {"m": meter_ids, "lo": lo_us, "hi": hi_us}
    where = (
        "meter_id = ANY(:m) AND ts > timestamptz 'epoch' + :lo * interval '1 microsecond' "
        "AND ts <= timestamptz 'epoch' + :hi * interval '1 microsecond'"
    )
    if rule.kind == "gauge":
        avg = conn.execute(text(f"SELECT avg(value) FROM reading WHERE {where}"), span).scalar()
        return 0.0 if avg is None else float(avg) * (hi_us - lo_us) / 3600 / US
    total = conn.execute(text(f"SELECT sum(energy) FROM reading WHERE {where}"), span).scalar()
    return 0.0 if total is None else float(total)


def demand_kw(conn: Connection, rule: Compiled, now_us: int) -> float:
    """Block demand projected to the end of the current block, or rolling demand, in kW."""
    if rule.meter_id is not None:
        meter_ids = [rule.meter_id]
    else:
        assert rule.site_id is not None  # a rule has a meter or a site (database constraint)
        scope = counted_meters(conn, rule.site_id, carrier="electricity")
        meter_ids = [m.id for m in scope.counted]
    block_h = rule.block_us / 3600 / US
    if rule.method == "rolling":
        return _energy_kwh(conn, rule, meter_ids, now_us - rule.block_us, now_us) / block_h
    start = now_us // rule.block_us * rule.block_us
    so_far = _energy_kwh(conn, rule, meter_ids, start, now_us)
    recent_kw = _energy_kwh(conn, rule, meter_ids, now_us - RECENT_US, now_us) / (
        RECENT_US / 3600 / US
    )
    remaining_h = (start + rule.block_us - now_us) / 3600 / US
    return (so_far + recent_kw * remaining_h) / block_h


def with_site_contract(conn: Connection, rule: Compiled) -> Compiled:
    """A demand rule without ``high`` takes its site's contracted demand (kW) as ``high``
    (kept above a ``high_high`` only if that is larger); no contract now: no ``high``."""
    assert rule.contract_site_id is not None
    kw = contracted_demand_kw(conn, rule.contract_site_id)
    limits = {k: v for k, v in rule.limits.items() if k != "high"}
    if kw is not None:
        limits["high"] = float(kw)
    return replace(rule, limits=limits)


_FORECAST_EXISTS = "SELECT EXISTS (SELECT 1 FROM forecast_run r WHERE {subject})"

# the forecast in force per bucket: the newest run (by training data) with a point for it
_FORECAST_IN_FORCE = """
SELECT DISTINCT ON (p.ts) (extract(epoch FROM p.ts) * 1000000)::bigint, p.q05, p.q95
FROM forecast_run r JOIN forecast_point p ON p.run_id = r.id
WHERE {subject} AND r.resolution_s = :res
  AND r.train_end >= CAST(:lo AS timestamptz) - interval '7 days' AND r.train_end < :hi
  AND p.ts >= :lo AND p.ts <= :hi
ORDER BY p.ts, r.train_end DESC, r.id DESC
"""

# per bucket (label = start; a reading at ts belongs to the bucket (ts - step, ts]): energy,
# or the mean of a kW gauge; NULL where no meter has a value
_ACTUALS = """
SELECT ((extract(epoch FROM ts) * 1000000)::bigint - 1) / :step, {agg}
FROM reading WHERE meter_id = ANY(:m) AND ts > :lo AND ts <= :hi
GROUP BY 1
"""

# how far every meter that reported in the window has reported (a bucket is measured once a
# reading at or after its end is stored: late and partial buckets wait)
_REPORTED_UNTIL = """
SELECT (extract(epoch FROM min(newest)) * 1000000)::bigint FROM (
  SELECT max(ts) AS newest FROM reading
  WHERE meter_id = ANY(:m) AND ts > :lo AND ts <= :hi GROUP BY meter_id) AS per_meter
"""


def _forecast_subject(session: Session, rule: Compiled):  # noqa: ANN202 - a Subject or None
    from forecasting import subjects  # pandas, loaded with the first such rule

    if rule.meter_id is not None:
        meter = session.get(Meter, rule.meter_id)
        assert meter is not None
        return subjects.meter_subject(meter, session.get_one(Site, meter.site_id))
    site = session.get(Site, rule.site_id)
    assert site is not None
    return next(
        (
            s
            for s in subjects.site_subjects(session, site)
            if s.carrier == (rule.carrier or "electricity")
        ),
        None,
    )


def deviation_series(
    conn: Connection, rule: Compiled, now_us: int, evaluated_us: int | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """Per point (``high``, ``low``) of a forecast_deviation rule: the end times (µs) of the
    last K+8 complete buckets, up to the newest one its meters have reported through, and the
    smallest exceedance beyond the forecast interval over the K buckets ending at each (NaN
    where not defined). Empty when nothing is newer than ``evaluated_us``; None when the
    subject has no stored forecast (or cannot be forecast)."""
    with Session(bind=conn) as session:
        try:
            subject = _forecast_subject(session, rule)
            if subject is None:
                raise NotFound("forecast", "the rule's meter or site carrier is not forecast")
            if rule.target == "energy" and subject.quantity != "energy":
                raise Invalid("target", f"{subject.code} is forecast as load")
            factor = subject.load_factor() if rule.target == "load" else 1.0
        except (Invalid, NotFound) as exc:
            log.debug("forecast_deviation rule %s not evaluated: %s", rule.id, exc)
            return None
        if subject.kind == "meter":
            meter_ids = [rule.meter_id]
        else:  # the site's top-level meters of the carrier (never gauges)
            meter_ids = list(
                session.scalars(
                    text("SELECT id FROM meter WHERE code = ANY(:c)"), {"c": list(subject.meters)}
                )
            )
    step = subject.resolution_s * US
    k = int(rule.intervals)
    last = (now_us // step - 1) * step  # label of the newest complete bucket
    if evaluated_us is not None and evaluated_us >= last + step:
        return {}  # every point has seen the newest complete bucket
    n = (k + 8) + (k - 1)  # the evaluated buckets and the K - 1 before the first of them
    first = last - (n - 1) * step
    if subject.kind == "meter":
        where, sp = "r.meter_id = :sid AND r.quantity = :q", {"sid": subject.id}
    else:
        where = "r.site_id = :sid AND r.carrier = :c AND r.quantity = :q"
        sp = {"sid": subject.id, "c": subject.carrier}
    sp["q"] = subject.quantity
    if not conn.execute(text(_FORECAST_EXISTS.format(subject=where)), sp).scalar():
        log.debug(
            "forecast_deviation rule %s: no forecast of %s %s (%s) stored yet",
            rule.id,
            subject.kind,
            subject.code,
            subject.carrier,
        )
        return None
    lo, hi = us_dt(first), us_dt(last)
    span = {"m": meter_ids, "lo": lo, "hi": us_dt(last + step)}
    reported = conn.execute(text(_REPORTED_UNTIL), span).scalar()
    newest = -1 if reported is None else min((reported - first) // step - 1, n - 1)
    if newest < k - 1:
        return {}  # no evaluated bucket is measured yet
    lower, upper, actual = (np.full(n, np.nan) for _ in range(3))
    for ts_us, q05, q95 in conn.execute(
        text(_FORECAST_IN_FORCE.format(subject=where)),
        {**sp, "res": subject.resolution_s, "lo": lo, "hi": hi},
    ):
        i = (ts_us - first) // step
        lower[i], upper[i] = q05 * factor, q95 * factor
    agg = "avg(value)" if subject.quantity == "load" else "sum(energy)"  # kW gauge: mean
    for b, value in conn.execute(text(_ACTUALS.format(agg=agg)), {**span, "step": step}):
        i = b - first // step
        if value is not None and 0 <= i < n:
            actual[i] = value * factor
    keep = newest - (k - 1) + 1  # evaluated buckets up to the newest measured one
    t = (first + np.arange(k - 1, n) * step + step)[:keep]
    out = {}
    with np.errstate(invalid="ignore"):
        for condition, exceed in (("high", actual - upper), ("low", lower - actual)):
            out[condition] = (t, sliding_window_view(exceed, k).min(axis=1)[:keep])
    return out


def _evaluate_deviation(
    conn: Connection, rec: Recorder, rule: Compiled, points: list[PointRow], now_us: int
) -> bool:
    live = [row for row in points if row.condition in rule.limits]
    if not live:
        return False
    seen = [row.debounce.eval_ts for row in live]
    known = [s for s in seen if s is not None]
    series = deviation_series(conn, rule, now_us, min(known) if len(known) == len(seen) else None)
    if not series:
        return False
    changed = False
    for row in live:
        t, x = series[row.condition]
        if len(t) and _run_point(rec, row, rule, t, x, armed_mask(rule, t)):
            changed = True
    return changed


def _evaluate_budget(
    conn: Connection, rec: Recorder, rule: Compiled, points: list[PointRow], now: datetime
) -> bool:
    """A budget rule: the % of the current month's (year's) budget used (``actual``) or
    projected, at most every ``BUDGET_EVERY_US`` (the projection reads a month of data)."""
    from budgets import service  # the budget floor, only when such a rule exists

    live = [row for row in points if row.condition in rule.limits]
    now_us = int(now.timestamp() * US)
    if not live or all(
        row.debounce.eval_ts is not None and now_us - row.debounce.eval_ts < BUDGET_EVERY_US
        for row in live
    ):
        return False
    assert rule.budget is not None
    quantity, period, basis = rule.budget
    local = now.astimezone(ZoneInfo(rule.tz))
    label = f"{local.year:04d}" if period == "year" else f"{local.year:04d}-{local.month:02d}"
    with Session(conn.engine) as session:
        site = session.get(Site, rule.site_id)
        assert site is not None
        try:
            status = service.status(session, site.code, quantity, label, as_of=now)
        except (Invalid, NotFound) as exc:
            log.info("budget rule %s not evaluated: %s", rule.id, exc)
            return False
        finally:
            session.rollback()
    pct = status["projected_pct" if basis == "projected" else "actual_pct"]
    x = np.array([np.nan if pct is None else float(pct)])
    t = np.array([now_us], np.int64)
    changed = False
    for row in live:
        if _run_point(rec, row, rule, t, x, armed_mask(rule, t)):
            changed = True
    return changed


def _due(rule: Compiled, points: list[PointRow], now_us: int) -> list[PointRow]:
    """The points of a slow rule (budget, node loss, ETS) to evaluate now: none if every one
    was evaluated less than ``BUDGET_EVERY_US`` ago."""
    live = [row for row in points if row.condition in rule.limits]
    if all(
        row.debounce.eval_ts is not None and now_us - row.debounce.eval_ts < BUDGET_EVERY_US
        for row in live
    ):
        return []
    return live


def _run_value(
    rec: Recorder, rule: Compiled, live: list[PointRow], now_us: int, value: float | None
) -> bool:
    x = np.array([np.nan if value is None else float(value)])
    t = np.array([now_us], np.int64)
    changed = False
    for row in live:
        if _run_point(rec, row, rule, t, x, armed_mask(rule, t)):
            changed = True
    return changed


def node_loss_pct(session: Session, rule: Compiled, now: datetime) -> float | None:
    """The loss rate of the rule's node (or the site's unmetered share) in % over the trailing
    window ending at the last complete quarter hour; None when there is nothing to divide."""
    assert rule.node_loss is not None and rule.site_id is not None
    carrier, node, window_s = rule.node_loss
    end_us = int(now.timestamp()) // 900 * 900
    end = datetime.fromtimestamp(end_us, tz=UTC)
    site = session.get(Site, rule.site_id)
    assert site is not None
    bal = site_balance(session, site.code, end - timedelta(seconds=window_s), end, carrier)
    if node is None:
        share = bal["unmetered_remainder"] / bal["consumption"] if bal["consumption"] else None
    else:
        found = next((n for n in bal["nodes"] if n["meter"] == node), None)
        share = None if found is None else found.get("loss_rate")
    return None if share is None else share * 100.0


def ets_shortfall_t(session: Session, rule: Compiled, now: datetime) -> float | None:
    """The ETS shortfall (t) of the rule's compliance year from ``days_before`` days before
    the surrender deadline (site local date) on; 0 before that; None without a verification."""
    assert rule.ets is not None and rule.site_id is not None
    year, days_before = rule.ets
    site = session.get(Site, rule.site_id)
    assert site is not None
    pos = ets_position(session, site.code, year)
    if pos["surrender_due"] is None or pos["shortfall_t"] is None:
        return None
    today = now.astimezone(ZoneInfo(rule.tz)).date()
    if today < pos["surrender_due"] - timedelta(days=days_before):
        return 0.0
    return float(pos["shortfall_t"])


def _evaluate_site_value(
    conn: Connection, rec: Recorder, rule: Compiled, points: list[PointRow], now: datetime
) -> bool:
    """A node_loss or ets_deadline rule: one value per quarter hour from its domain's one
    home (read in a session of its own, like the budget rule)."""
    now_us = int(now.timestamp() * US)
    live = _due(rule, points, now_us)
    if not live:
        return False
    read = node_loss_pct if rule.type is RuleType.NODE_LOSS else ets_shortfall_t
    with Session(conn.engine) as session:
        try:
            value = read(session, rule, now)
        except (Invalid, NotFound) as exc:
            log.info("%s rule %s not evaluated: %s", rule.type.value, rule.id, exc)
            return False
        finally:
            session.rollback()
    return _run_value(rec, rule, live, now_us, value)


def evaluate_timed(
    conn: Connection,
    config: AlarmConfig,
    cache: RuleCache,
    now: datetime | None = None,
    rule_ids: list[int] | None = None,
) -> list[int]:
    """Stale-data, demand, forecast-deviation, budget, node-loss and ETS-deadline rules at the
    database's current time
    (or at ``now``, for only ``rule_ids``: replays and tests); returns outbox ids."""
    found = conn.execute(
        text(
            "SELECT id, version FROM alarm_rule WHERE type = ANY(:t) AND deleted_at IS NULL "
            "AND enabled"
        ),
        {"t": [t.value for t in TIMED_TYPES]},
    ).all()
    if rule_ids is not None:
        found = [r for r in found if r[0] in set(rule_ids)]
    ids = expire_shelves(conn, config) if rule_ids is None else []
    if not found:
        return ids
    versions: dict[int, int] = dict(found)
    rows = lock_points(conn, rule_ids=list(versions), family=True)
    rules = cache.get(conn, versions)
    now = now or db_now(conn)
    now_us = int(now.timestamp() * US)
    stale_meters = [r.meter_id for r in rules.values() if r.type is RuleType.STALE]
    last: dict[int, int | None] = (
        dict(conn.execute(text(_LAST_READING), {"m": stale_meters}).all()) if stale_meters else {}
    )
    rec = Recorder(conn, now, config)
    changed = set()
    t = np.array([now_us], np.int64)
    for rid, points in _points_by_rule(rows).items():
        rule = rules.get(rid)
        if rule is None:
            continue
        if rule.type is RuleType.FORECAST_DEVIATION:
            if _evaluate_deviation(conn, rec, rule, points, now_us):
                changed.add(rid)
            continue
        if rule.type is RuleType.BUDGET:
            if _evaluate_budget(conn, rec, rule, points, now):
                changed.add(rid)
            continue
        if rule.type in (RuleType.NODE_LOSS, RuleType.ETS_DEADLINE):
            if _evaluate_site_value(conn, rec, rule, points, now):
                changed.add(rid)
            continue
        seen = None
        if rule.type is RuleType.STALE:
            seen = last.get(rule.meter_id) if rule.meter_id is not None else None
            x = np.array([(now_us - (seen if seen is not None else rule.created_us)) / US])
        else:
            if rule.contract_site_id is not None:
                rule = with_site_contract(conn, rule)
            x = np.array([demand_kw(conn, rule, now_us)])
        armed = armed_mask(rule, t)
        for row in points:
            if (row.condition == "stale" or row.condition in rule.limits) and _run_point(
                rec, row, rule, t, x, armed, reading_us=seen
            ):
                changed.add(rid)
    ids += rec.flush()
    if changed:
        ids += resync_children(conn, sorted(changed), now, config, rows=rows)
    return ids


def expire_shelves(conn: Connection, config: AlarmConfig) -> list[int]:
    """Unshelve every alarm whose shelving has expired (recorded as ``shelve_expired``)."""
    due = [
        r[0]
        for r in conn.execute(
            text("SELECT id FROM alarm WHERE shelved_until <= now() AND retired_at IS NULL")
        )
    ]
    if not due:
        return []
    rows = lock_points(conn, alarm_ids=due)
    rec = Recorder(conn, db_now(conn), config)
    for row in rows.values():
        rec.act(row, Action.SHELVE_EXPIRED, user=SYSTEM, comment="shelving expired")
    return rec.flush()


def flood_summaries(conn: Connection, config: AlarmConfig) -> list[int]:
    return outbox.flood_summaries(conn, db_now(conn), config)
