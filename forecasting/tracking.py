"""Forecast tracking: every stored nightly forecast scored against what happened, per local
day, model and subject; and the drift rule that demotes a model whose tracked error has
grown past the baseline's.

**The forecast in force.** For each bucket of a subject's local day and each lead (24 h: the
nightly day-ahead run; 168 h: the nightly week-ahead run), the forecast in force is the
point of the newest nightly run of that lead whose origin is at or before the bucket (runs
are ordered by training end, then id). That is what a person saw when the bucket came; it is
what is scored, and what ``GET /api/v1/forecasts/past`` draws beside the actuals.

**A day's scores** (one row of ``forecast_score`` per subject, lead, model and day; a day on
which the selection changed model has a row per model for its buckets), over the buckets
with an actual and a forecast:

- ``mae`` = Σ|y − ŷ| / n, in the subject's unit per bucket;
- ``mape`` = mean |y − ŷ| / |y| over the buckets with y ≠ 0 (None when every actual is 0);
  ``wape`` = Σ|y − ŷ| / Σ|y|;
- ``mase`` = ``mae`` ÷ ``scale``, the in-sample MAE of the weekly seasonal naive over the 28
  days before the day (Hyndman & Koehler 2006, as in the backtest);
- ``coverage_90`` = share of actuals inside [q05, q95];
- ``naive_abs_error`` = Σ|y − y(t − 7 d)|: the weekly seasonal naive's error on the same
  buckets (where last week is known), the baseline every model is tracked against.

Sums are stored beside the measures, so measures over many days are pooled, not averaged.
Scoring a day again (late readings) replaces its rows: a day is stored once.

**The drift rule** (the one home: :func:`drift`): over the ``days`` local days before the
nightly selection (default 14, ``ECC_FORECAST_DRIFT_DAYS``), pool each model's day-ahead
tracked error on the days it was in force; a model is *demoted* when it has at least
``min_days`` such days (default 5) and its MAE exceeds the weekly seasonal naive's MAE on the
same buckets by more than ``margin`` (default 10 %: ratio > 1.10). The nightly selection
then leaves it out of the candidates and takes the next best by backtest. The baseline
itself is never demoted.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from core.errors import Invalid
from core.settings import Settings, get_settings
from forecasting import metrics, subjects
from forecasting.base import TARGET
from forecasting.registry import BASELINE
from forecasting.subjects import Subject
from models.forecasting import ForecastPoint, ForecastRun, ForecastScore

log = logging.getLogger(__name__)

LEADS_H = (24, 168)  # the nightly day-ahead and week-ahead runs
DAY_AHEAD_H = 24
TRACK_DAYS = 2  # the job re-scores the last two complete local days (late readings)
SCALE_DAYS = 28  # the MASE denominator: weekly naive in-sample over the 28 days before
SEASON = timedelta(days=7)
MAX_DAYS = 90  # nightly runs are kept 90 days: nothing older can be scored
MAX_PAST_DAYS = 35


@dataclass(frozen=True)
class DriftRule:
    """When tracked error demotes a model (see the module's docstring)."""

    days: int = 14
    margin: float = 0.10
    min_days: int = 5

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> DriftRule:
        s = settings or get_settings()
        return cls(s.forecast_drift_days, s.forecast_drift_margin, s.forecast_drift_min_days)


# ---- pure scoring ----------------------------------------------------------------------


def score_points(
    y: np.ndarray,
    yhat: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    naive: np.ndarray,
    scale: float | None,
) -> dict | None:
    """The sums and measures of one set of buckets (actuals ``y``, forecast ``yhat``, 90 %
    band ``lower``…``upper``, the weekly naive ``naive``), or None when no bucket has both
    an actual and a forecast."""
    y, yhat, lower, upper, naive = (
        np.asarray(a, dtype=float) for a in (y, yhat, lower, upper, naive)
    )
    ok = np.isfinite(y) & np.isfinite(yhat)
    n = int(ok.sum())
    if n == 0:
        return None
    err = np.abs(y[ok] - yhat[ok])
    abs_error, abs_actual = float(err.sum()), float(np.abs(y[ok]).sum())
    nonzero = y[ok] != 0
    nv = ok & np.isfinite(naive)
    good_scale = scale is not None and math.isfinite(scale) and scale > 0
    mae = abs_error / n
    return {
        "points": n,
        "abs_error": abs_error,
        "abs_actual": abs_actual,
        "naive_abs_error": float(np.abs(y[nv] - naive[nv]).sum()) if nv.any() else None,
        "naive_points": int(nv.sum()),
        "inside_90": int(((y[ok] >= lower[ok]) & (y[ok] <= upper[ok])).sum()),
        "scale": scale if good_scale else None,
        "mae": mae,
        "mape": float(np.mean(err[nonzero] / np.abs(y[ok][nonzero]))) if nonzero.any() else None,
        "wape": abs_error / abs_actual if abs_actual > 0 else None,
        "mase": mae / scale if good_scale and scale is not None else None,
        "coverage_90": float(((y[ok] >= lower[ok]) & (y[ok] <= upper[ok])).mean()),
    }


# ---- reading the stored forecasts --------------------------------------------------------


def _of_subject(table: type[ForecastRun] | type[ForecastScore], subject: Subject) -> list:
    column = table.meter_id if subject.kind == "meter" else table.site_id
    return [
        column == subject.id,
        table.carrier == subject.carrier,
        table.quantity == subject.quantity,
    ]


def lead_steps(subject: Subject, lead_h: int) -> int:
    return int(timedelta(hours=lead_h) / subject.step)


def forecasts_in_force(
    session: Session, subject: Subject, lead_h: int, start: datetime, end: datetime
) -> pd.DataFrame:
    """For each bucket in ``start`` … ``end`` (exclusive) that a nightly run of this lead
    covered: the point of the newest such run, with its model. Indexed by bucket start
    (UTC); columns ``yhat``, ``q05``, ``q25``, ``q75``, ``q95``, ``model``, ``run_id``."""
    rows = session.execute(
        select(
            ForecastPoint.ts,
            ForecastPoint.yhat,
            ForecastPoint.q05,
            ForecastPoint.q25,
            ForecastPoint.q75,
            ForecastPoint.q95,
            ForecastRun.model,
            ForecastRun.id.label("run_id"),
            ForecastRun.train_end,
        )
        .join(ForecastRun, ForecastRun.id == ForecastPoint.run_id)
        .where(
            *_of_subject(ForecastRun, subject),
            ForecastRun.purpose == "nightly",
            ForecastRun.horizon_steps == lead_steps(subject, lead_h),
            ForecastPoint.ts >= start,
            ForecastPoint.ts < end,
        )
    ).all()
    columns = ["ts", "yhat", "q05", "q25", "q75", "q95", "model", "run_id", "train_end"]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame = frame.sort_values(["ts", "train_end", "run_id"]).drop_duplicates("ts", keep="last")
    return frame.set_index(pd.DatetimeIndex(frame["ts"])).drop(columns=["ts", "train_end"])


def _day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    return start, end


def _actuals(session: Session, subject: Subject, start: datetime, end: datetime) -> pd.Series:
    """Actuals from ``SCALE_DAYS`` + 7 days before ``start`` to ``end`` (UTC index)."""
    frame = subjects.history(
        session, subject, start - SEASON - timedelta(days=SCALE_DAYS), end - subject.step
    )
    return frame[TARGET].tz_convert(UTC)


# ---- scoring and storing -----------------------------------------------------------------


def score_days(session: Session, subject: Subject, days: Iterable[date]) -> int:
    """Score the given local days of one subject and store them, replacing any earlier
    scores of those days (idempotent); returns how many rows were stored."""
    days = sorted(set(days))
    if not days:
        return 0
    first, _ = _day_bounds(days[0], subject.timezone)
    _, last = _day_bounds(days[-1], subject.timezone)
    actual = _actuals(session, subject, first, last)
    naive = actual.shift(freq=SEASON).reindex(actual.index)
    season = int(SEASON / subject.step)
    stored = 0
    for day in days:
        start, end = _day_bounds(day, subject.timezone)
        session.execute(
            delete(ForecastScore).where(
                *_of_subject(ForecastScore, subject), ForecastScore.day == day
            )
        )
        before = actual[(actual.index >= start - SEASON - timedelta(days=SCALE_DAYS))]
        before = before[before.index < start]
        scale = metrics.seasonal_naive_scale(before.to_numpy(), season)
        for lead_h in LEADS_H:
            forecast = forecasts_in_force(session, subject, lead_h, start, end)
            if forecast.empty:
                continue
            y = actual.reindex(forecast.index)
            last_week = naive.reindex(forecast.index)
            for model, part in forecast.groupby("model"):
                scores = score_points(
                    y.loc[part.index].to_numpy(),
                    part["yhat"].to_numpy(),
                    part["q05"].to_numpy(),
                    part["q95"].to_numpy(),
                    last_week.loc[part.index].to_numpy(),
                    scale,
                )
                if scores is None:
                    continue
                session.add(
                    ForecastScore(
                        meter_id=subject.id if subject.kind == "meter" else None,
                        site_id=subject.id if subject.kind == "site" else None,
                        carrier=subject.carrier,
                        quantity=subject.quantity,
                        unit=subject.unit,
                        horizon_h=lead_h,
                        model=str(model),
                        day=day,
                        **scores,
                    )
                )
                stored += 1
    session.flush()
    return stored


def complete_days(subject: Subject, now: datetime, count: int = TRACK_DAYS) -> list[date]:
    """The ``count`` newest local days of the subject whose every bucket has ended."""
    today = now.astimezone(ZoneInfo(subject.timezone)).date()
    return [today - timedelta(days=k) for k in range(count, 0, -1)]


def _has_runs(session: Session, subject: Subject) -> bool:
    found = session.scalar(
        select(ForecastRun.id)
        .where(*_of_subject(ForecastRun, subject), ForecastRun.purpose == "nightly")
        .limit(1)
    )
    return found is not None


def track(
    engine: Engine,
    now: datetime,
    *,
    site: str | None = None,
    days: int = TRACK_DAYS,
) -> int:
    """The scheduler's job: score the last ``days`` complete local days of every subject
    with a nightly forecast (of ``site`` and its descendants if given), one subject per
    transaction; returns how many score rows were stored."""
    with Session(engine) as session:
        todo = subjects.all_subjects(session, site)
    stored = 0
    for subject in todo:
        with Session(engine) as session:
            try:
                if not _has_runs(session, subject):
                    continue
                stored += score_days(session, subject, complete_days(subject, now, days))
            except Invalid as exc:
                log.info("forecast not scored for %s %s: %s", subject.kind, subject.code, exc)
                session.rollback()
                continue
            session.commit()
    return stored


# ---- drift -------------------------------------------------------------------------------


def _pooled(rows: list[ForecastScore]) -> dict:
    points = sum(r.points for r in rows)
    abs_error = sum(r.abs_error for r in rows)
    abs_actual = sum(r.abs_actual for r in rows)
    naive_points = sum(r.naive_points for r in rows)
    naive = sum(r.naive_abs_error or 0.0 for r in rows)
    mae = abs_error / points if points else None
    naive_mae = naive / naive_points if naive_points else None
    return {
        "days": len({r.day for r in rows}),
        "points": points,
        "mae": mae,
        "wape": abs_error / abs_actual if abs_actual > 0 else None,
        "coverage_90": sum(r.inside_90 for r in rows) / points if points else None,
        "naive_mae": naive_mae,
        "ratio": mae / naive_mae if mae is not None and naive_mae else None,
    }


def drift(session: Session, subject: Subject, today: date, rule: DriftRule) -> dict[str, dict]:
    """Each model's pooled day-ahead tracked error over the ``rule.days`` days before
    ``today`` beside the weekly naive's on the same buckets, and whether the rule demotes
    it (the one home of the drift rule)."""
    rows = session.scalars(
        select(ForecastScore).where(
            *_of_subject(ForecastScore, subject),
            ForecastScore.horizon_h == DAY_AHEAD_H,
            ForecastScore.day >= today - timedelta(days=rule.days),
            ForecastScore.day < today,
        )
    ).all()
    by_model: dict[str, list[ForecastScore]] = {}
    for r in rows:
        by_model.setdefault(r.model, []).append(r)
    out = {}
    for model, group in sorted(by_model.items()):
        pooled = _pooled(group)
        ratio = pooled["ratio"]
        pooled["demoted"] = bool(
            model != BASELINE
            and pooled["days"] >= rule.min_days
            and ratio is not None
            and ratio > 1 + rule.margin
        )
        out[model] = pooled
    return out


def demoted_models(session: Session, subject: Subject, now: datetime, rule: DriftRule) -> set:
    """The models the drift rule takes out of tonight's selection for this subject."""
    today = now.astimezone(ZoneInfo(subject.timezone)).date()
    return {m for m, d in drift(session, subject, today, rule).items() if d["demoted"]}


def without_demoted(candidates: Iterable[str], demoted: set) -> tuple[str, ...]:
    """The candidates the drift rule leaves (never none: the baseline stays)."""
    kept = tuple(c for c in candidates if c not in demoted)
    return kept or (BASELINE,)


# ---- the API's answers -------------------------------------------------------------------

TARGETS = ("load", "energy")


def _factor(subject: Subject, target: str) -> tuple[float, str]:
    if target not in TARGETS:
        raise Invalid("target", f"one of {', '.join(TARGETS)}, not {target!r}")
    if target == "energy" and subject.quantity != "energy":
        raise Invalid("target", f"{subject.code} is a kW gauge: ask for target=load")
    if target == "load":
        return subject.load_factor(), "kW"
    return 1.0, subject.unit


def _end_day(subject: Subject, end: date | None, now: datetime) -> date:
    """The last day asked for: ``end``, or yesterday in the subject's zone."""
    return end or now.astimezone(ZoneInfo(subject.timezone)).date() - timedelta(days=1)


def _num(value: float | None, factor: float = 1.0) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value) * factor


def _scaled(scores: dict | None, factor: float) -> dict | None:
    """Backtest scores with the absolute ones (in the unit per bucket) in the target's
    unit; fractions unchanged."""
    if not scores:
        return scores
    out = dict(scores)
    if "candidates" in out:
        out["candidates"] = {
            name: {
                k: (_num(v, factor) if k in ("mae", "rmse", "pinball") else v) for k, v in s.items()
            }
            for name, s in out["candidates"].items()
        }
    return out


def _in_force(session: Session, subject: Subject, lead_h: int, factor: float) -> dict | None:
    run = session.scalar(
        select(ForecastRun)
        .where(
            *_of_subject(ForecastRun, subject),
            ForecastRun.purpose == "nightly",
            ForecastRun.horizon_steps == lead_steps(subject, lead_h),
        )
        .order_by(ForecastRun.train_end.desc(), ForecastRun.id.desc())
        .limit(1)
    )
    if run is None:
        return None
    return {
        "model": run.model,
        "run_id": run.id,
        "created_at": run.created_at,
        "train_start": run.train_start,
        "train_end": run.train_end,
        "backtest": _scaled(run.scores, factor),
    }


def accuracy(
    session: Session,
    *,
    meter: str | None,
    site: str | None,
    carrier: str | None,
    target: str = "load",
    days: int = 14,
    end: date | None = None,
    now: datetime | None = None,
    rule: DriftRule | None = None,
) -> dict:
    """How good the forecasts of a meter or a site's carrier have been: each day's tracked
    scores per lead and model over the ``days`` days ending ``end`` (default yesterday, the
    subject's zone), the same pooled per lead and model, the drift rule's verdicts, and the
    model in force for each lead with its backtest scores. MAE in kW (``target=load``) or
    the subject's unit per bucket (``energy``); MAPE, WAPE, MASE and coverage are fractions."""
    if not 1 <= days <= MAX_DAYS:
        raise Invalid("days", f"between 1 and {MAX_DAYS}")
    now = now or datetime.now(UTC)
    subject = subjects.find_subject(session, meter=meter, site=site, carrier=carrier)
    factor, unit = _factor(subject, target)
    last = _end_day(subject, end, now)
    first = last - timedelta(days=days - 1)
    rows = session.scalars(
        select(ForecastScore)
        .where(
            *_of_subject(ForecastScore, subject),
            ForecastScore.day >= first,
            ForecastScore.day <= last,
        )
        .order_by(ForecastScore.day, ForecastScore.horizon_h, ForecastScore.model)
    ).all()
    scores = [
        {
            "day": r.day,
            "horizon_h": r.horizon_h,
            "model": r.model,
            "points": r.points,
            "mae": _num(r.mae, factor),
            "naive_mae": _num(
                r.naive_abs_error / r.naive_points
                if r.naive_abs_error is not None and r.naive_points
                else None,
                factor,
            ),
            "mape": _num(r.mape),
            "wape": _num(r.wape),
            "mase": _num(r.mase),
            "coverage_90": _num(r.coverage_90),
        }
        for r in rows
    ]
    groups: dict[tuple[int, str], list[ForecastScore]] = {}
    for r in rows:
        groups.setdefault((r.horizon_h, r.model), []).append(r)
    models = []
    for (lead_h, model), group in sorted(groups.items()):
        pooled = _pooled(group)
        models.append(
            {
                "horizon_h": lead_h,
                "model": model,
                **pooled,
                "mae": _num(pooled["mae"], factor),
                "naive_mae": _num(pooled["naive_mae"], factor),
            }
        )
    rule = rule or DriftRule.from_settings()
    verdicts = drift(session, subject, last + timedelta(days=1), rule)
    return {
        subject.kind: subject.code,
        "carrier": subject.carrier,
        "target": target,
        "unit": unit,
        "resolution": subject.resolution,
        "from": first,
        "to": last,
        "scores": scores,
        "models": models,
        "drift": {
            "rule": asdict(rule),
            "baseline": BASELINE,
            "models": {
                m: {**v, "mae": _num(v["mae"], factor), "naive_mae": _num(v["naive_mae"], factor)}
                for m, v in verdicts.items()
            },
        },
        "in_force": {
            f"{lead_h}h": _in_force(session, subject, lead_h, factor) for lead_h in LEADS_H
        },
    }


def past_forecasts(
    session: Session,
    *,
    meter: str | None,
    site: str | None,
    carrier: str | None,
    target: str = "load",
    horizon_h: int = DAY_AHEAD_H,
    days: int = 7,
    end: date | None = None,
    now: datetime | None = None,
) -> dict:
    """The forecast in force for each bucket of the ``days`` local days ending ``end``
    (default yesterday) beside what happened: ``actual``, ``forecast``, ``lower``/``upper``
    (90 %) and the ``model`` that made it, in kW or the subject's unit per bucket."""
    if horizon_h not in LEADS_H:
        raise Invalid("horizon", "24h (the day-ahead forecast) or 7d (the week-ahead one)")
    if not 1 <= days <= MAX_PAST_DAYS:
        raise Invalid("days", f"between 1 and {MAX_PAST_DAYS}")
    now = now or datetime.now(UTC)
    subject = subjects.find_subject(session, meter=meter, site=site, carrier=carrier)
    factor, unit = _factor(subject, target)
    last = _end_day(subject, end, now)
    start, _ = _day_bounds(last - timedelta(days=days - 1), subject.timezone)
    _, stop = _day_bounds(last, subject.timezone)
    newest = subjects.last_complete(subject, now) + subject.step
    forecast = forecasts_in_force(session, subject, horizon_h, start, stop)
    labels = pd.date_range(start, stop, freq=subject.step, inclusive="left", tz=UTC)
    actual = pd.Series(np.nan, index=labels)
    if newest > start:
        observed = subjects.history(session, subject, start, min(stop, newest) - subject.step)[
            TARGET
        ]
        actual = observed.tz_convert(UTC).reindex(labels)
    forecast = forecast.reindex(labels)
    points = [
        {
            "ts": ts.to_pydatetime(),
            "actual": _num(actual.iloc[i], factor),
            "forecast": _num(forecast["yhat"].iloc[i], factor),
            "lower": _num(forecast["q05"].iloc[i], factor),
            "upper": _num(forecast["q95"].iloc[i], factor),
            "model": forecast["model"].iloc[i]
            if isinstance(forecast["model"].iloc[i], str)
            else None,
        }
        for i, ts in enumerate(labels)
    ]
    return {
        subject.kind: subject.code,
        "carrier": subject.carrier,
        "target": target,
        "unit": unit,
        "resolution": subject.resolution,
        "horizon_h": horizon_h,
        "from": last - timedelta(days=days - 1),
        "to": last,
        "points": points,
    }
