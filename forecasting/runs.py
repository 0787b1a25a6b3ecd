"""Forecasts for every meter and site: nightly model selection, 15-minute refresh, storage,
and the answer of ``GET /api/v1/forecasts``.

- **Nightly** (``ForecastJobs.nightly``, between 01:00 and 05:00 plant time, and at once for a
  subject that has no forecast yet): for the day-ahead and the week-ahead horizon, backtest
  the candidate models on the subject's last year (rolling origin, MASE against the weekly
  seasonal naive), fit the best on the whole history, store its forecast with every
  candidate's scores. A site's counted meters are one unit (``forecasting.groups``): one
  ``lgbm_global`` trained across them is a candidate of each, backtested on the same folds.
- **Refresh** (``ForecastJobs.refresh``, every 15 minutes): move the selected day-ahead model
  to the newest complete bucket (``update``: no re-estimation) and store the next 24 h.

Both run in the scheduler process (one per deployment), one unit (a subject, or a site's
group) per transaction, with
one CPU thread for the trees: the API and ingest never wait for them. Fitted models stay in
that process between runs; after a restart the refresh refits the selected model once (a
group model on its whole group, once for all the members that selected it). A group's first
catch-up adds the group model to the fast candidates (``ForecastJobs.group_candidates``). With
``ECC_RAY_ADDRESS`` set the nightly's units run on a Ray cluster instead
(``forecasting.cluster``); a nightly run is stored once per subject, horizon and origin (its
``run_key``, inserted once), so a retried task never stores it twice.

Models that take exogenous inputs get the site's temperature and posted series
(``forecasting.exog``) as known at the run's clock; the run records which (``inputs``).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from core.errors import Invalid, NotFound
from forecasting import backtest, combined, exog, groups, subjects, tracking
from forecasting import linear as linear_model
from forecasting.backtest import ModelResult
from forecasting.base import POINT, TARGET, Forecaster, future_index, qcol, steps_per
from forecasting.calendar import HolidayCalendar
from forecasting.groups import Unit
from forecasting.registry import COMBINED, GLOBAL, ModelContext, factories, make
from forecasting.subjects import Subject
from models.forecasting import ForecastPoint, ForecastRun

log = logging.getLogger(__name__)

DAY_AHEAD, WEEK_AHEAD = timedelta(days=1), timedelta(days=7)
HISTORY = timedelta(days=365)
SELECTION_FOLDS = {DAY_AHEAD: 7, WEEK_AHEAD: 2}
CANDIDATES = ("naive_daily", "naive_weekly", "hgb")
NIGHT_CANDIDATES = (*CANDIDATES, "linear", "lgbm_global", "combined", "prophet")
# models that use the group's model where the subject is in a site's group
GROUP_MODELS = (GLOBAL, COMBINED)
NIGHT_HOURS = range(1, 5)
KEEP = {"refresh": timedelta(days=2), "nightly": timedelta(days=90)}
MAX_HORIZON = WEEK_AHEAD
MAX_WINDOW = timedelta(days=35)
STORED_QUANTILES = {"q05": 0.05, "q25": 0.25, "q75": 0.75, "q95": 0.95}
TARGETS = ("load", "energy", "co2")


def horizon_steps(subject: Subject, horizon: timedelta) -> int:
    return int(horizon / subject.step)


def _clean(scores: dict) -> dict:
    """JSON-safe scores (NaN → None)."""
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in scores.items()
    }


def _observed(frame: pd.DataFrame) -> pd.DataFrame:
    """The history from its first observed value on (a new meter has NaN before it)."""
    first = frame[TARGET].first_valid_index()
    if first is None:
        raise Invalid("history", "no readings yet")
    out = frame.loc[first:]
    out.index.freq = frame.index.freq
    return out


def select_model(
    frame: pd.DataFrame,
    subject: Subject,
    horizon: timedelta,
    candidates: Sequence[str],
    calendar: HolidayCalendar,
    folds: int,
    exog_columns: Sequence[str] = (),
    *,
    extra: Mapping[str, ModelResult] | None = None,
) -> tuple[str, dict]:
    """The candidate with the lowest backtest MASE on this history (with its exogenous
    columns ``exog_columns``), and every candidate's scores; the daily seasonal naive when
    the history is too short to backtest. ``extra``: results of candidates backtested
    elsewhere on the same folds (a group model's, ``groups.backtest_group``), ranked with
    the others in the order of ``candidates``. The combination (``combined``) is not
    backtested itself: its folds are the mean of its parts' (``combined.combined_result``),
    which are backtested for it when they are not candidates themselves (then only
    ``candidates`` are ranked)."""
    steps = horizon_steps(subject, horizon)
    context = ModelContext(steps, calendar, tuple(exog_columns))
    extra = extra or {}
    wanted = [n for n in candidates if n != COMBINED]
    if COMBINED in candidates:
        parts = combined.weights_for(steps, steps_per(pd.DatetimeIndex(frame.index), "day"))
        wanted += [p for p in parts if p not in wanted]
    own = [n for n in wanted if n not in extra]
    try:
        found = backtest.rolling_origin(frame, factories(own, context), steps, folds)
    except Invalid as exc:
        return "naive_daily", {"selected": "naive_daily", "reason": str(exc)}
    found.update(extra)
    if COMBINED in candidates:
        combined.derive(found, frame)
    results = {n: found[n] for n in candidates if n in found}
    best = backtest.best_model(results) or "naive_daily"
    return best, {
        "selected": best,
        "measure": "mase",
        "folds": folds,
        "candidates": {
            n: (_clean(r.scores) if r.error is None else {"error": r.error})
            for n, r in results.items()
        },
    }


def store_run(
    session: Session,
    subject: Subject,
    *,
    purpose: str,
    model: Forecaster,
    frame: pd.DataFrame,
    forecast: pd.DataFrame,
    scores: dict | None,
    fit_s: float,
    inputs: dict | None = None,
) -> ForecastRun:
    """Store a run and its points."""
    run = store_run_once(
        session,
        subject,
        purpose=purpose,
        model=model,
        frame=frame,
        forecast=forecast,
        scores=scores,
        fit_s=fit_s,
        inputs=inputs,
        run_key=None,
    )
    assert run is not None  # without a key nothing is refused
    return run


def store_run_once(
    session: Session,
    subject: Subject,
    *,
    purpose: str,
    model: Forecaster,
    frame: pd.DataFrame,
    forecast: pd.DataFrame,
    scores: dict | None,
    fit_s: float,
    inputs: dict | None,
    run_key: str | None,
) -> ForecastRun | None:
    """Store a run and its points; with a ``run_key`` at most once (None when a run of that
    key is stored already: a retried task)."""
    values = dict(
        meter_id=subject.id if subject.kind == "meter" else None,
        site_id=subject.id if subject.kind == "site" else None,
        carrier=subject.carrier,
        quantity=subject.quantity,
        unit=subject.unit,
        resolution_s=subject.resolution_s,
        purpose=purpose,
        model=model.name,
        params=model.params(),
        train_start=frame.index[0].to_pydatetime(),
        train_end=frame.index[-1].to_pydatetime(),
        horizon_steps=len(forecast),
        scores=scores,
        fit_s=round(fit_s, 3),
        run_key=run_key,
        inputs=inputs,
    )
    if run_key is None:
        run = ForecastRun(**values)
        session.add(run)
        session.flush()
    else:
        run_id = session.scalar(
            pg_insert(ForecastRun)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["run_key"])
            .returning(ForecastRun.id)
        )
        if run_id is None:
            return None
        run = session.get_one(ForecastRun, run_id)
    rows = [
        {
            "run_id": run.id,
            "ts": ts.to_pydatetime(),
            "yhat": float(row[POINT]),
            **{name: float(row[qcol(level)]) for name, level in STORED_QUANTILES.items()},
        }
        for ts, row in forecast.iterrows()
    ]
    session.execute(insert(ForecastPoint), rows)
    return run


def _subject_runs(subject: Subject):  # noqa: ANN202 - a SQLAlchemy Select
    column = ForecastRun.meter_id if subject.kind == "meter" else ForecastRun.site_id
    return select(ForecastRun).where(
        column == subject.id,
        ForecastRun.carrier == subject.carrier,
        ForecastRun.quantity == subject.quantity,
    )


def latest_run(
    session: Session,
    subject: Subject,
    *,
    purpose: str | None = None,
    min_horizon: timedelta | None = None,
) -> ForecastRun | None:
    stmt = _subject_runs(subject)
    if purpose:
        stmt = stmt.where(ForecastRun.purpose == purpose)
    if min_horizon is not None:
        stmt = stmt.where(ForecastRun.horizon_steps >= horizon_steps(subject, min_horizon))
    return session.scalar(
        stmt.order_by(ForecastRun.created_at.desc(), ForecastRun.id.desc()).limit(1)
    )


class ForecastJobs:
    """The scheduler's forecasting jobs and the fitted models they keep between runs."""

    def __init__(
        self,
        holidays: str = "CN",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        folds: dict[timedelta, int] | None = None,
        candidates: Sequence[str] = CANDIDATES,
        night_candidates: Sequence[str] = NIGHT_CANDIDATES,
        drift: tracking.DriftRule | None = None,
    ) -> None:
        self.holidays = holidays
        self.calendar = HolidayCalendar(holidays)
        self.drift = drift or tracking.DriftRule.from_settings()
        self.clock = clock
        self.folds = folds or SELECTION_FOLDS
        self.candidates = tuple(candidates)
        self.night_candidates = tuple(night_candidates)
        # a group's first catch-up trains the group model too (once across the group)
        self.group_candidates = tuple(
            dict.fromkeys((*self.candidates, *(n for n in night_candidates if n in GROUP_MODELS)))
        )
        self._models: dict[tuple, tuple[int, Forecaster, tuple[str, ...]]] = {}
        self._lock = threading.Lock()
        self._cpu = threading.Lock()  # one subject at a time across both jobs: one core

    def nightly(self, engine: Engine, site: str | None = None) -> int:
        """Model selection and a fresh fit for every subject that is due (of ``site`` and its
        descendants if given), a site's counted meters as one group (``forecasting.groups``);
        returns how many subjects got new runs."""
        now = self.clock()
        with Session(engine) as session:
            todo = self.plan(session, site, now)
        done = 0
        for unit in todo:
            with self._cpu, Session(engine) as session:
                try:
                    n = self.nightly_unit(session, unit, now)
                except Invalid as exc:
                    log.info("no forecast for %s: %s", unit.label, exc)
                    session.rollback()
                    continue
                session.commit()
                done += n
        return done

    def plan(self, session: Session, site: str | None, now: datetime) -> list[Unit]:
        """The nightly's units due at ``now``: a site's counted meters together (a group),
        every other subject alone."""
        todo = subjects.all_subjects(session, site)
        due = {s.key: self.due(session, s, now) for s in todo}
        return groups.units(session, todo, due)

    def nightly_unit(self, session: Session, unit: Unit, now: datetime) -> int:
        """One unit's nightly runs as of ``now`` (not committed); how many of its subjects
        got new runs (0 when all are stored already: a retried task)."""
        if unit.group is None:
            subject, first = unit.members[0]
            return 0 if first is None else self.nightly_subject(session, subject, now, first)
        return self._nightly_group(session, unit, now)

    def due(self, session: Session, subject: Subject, now: datetime) -> bool | None:
        """None when the subject's nightly run is not due at ``now``; else whether it is its
        first (a catch-up without Prophet)."""
        last = latest_run(session, subject, purpose="nightly")
        return (last is None) if self._due(subject, last, now) else None

    def nightly_subject(
        self, session: Session, subject: Subject, now: datetime, first: bool
    ) -> int:
        """Select, fit and store the day- and week-ahead runs of one subject as of ``now``
        (not committed); 0 when both are stored already (a retried task), else 1."""
        last = subjects.last_complete(subject, now)
        keys = [run_key(subject, horizon, last) for horizon in (DAY_AHEAD, WEEK_AHEAD)]
        stored = session.scalar(
            select(func.count()).select_from(ForecastRun).where(ForecastRun.run_key.in_(keys))
        )
        if stored == len(keys):
            return 0
        return 1 if self._select_and_fit(session, subject, now, first=first) else 0

    def _each_subject(
        self, engine: Engine, site: str | None, work: Callable[[Session, Subject], int], failed: str
    ) -> int:
        """``work`` for every subject, one at a time (the CPU lock), each in its own
        transaction; a subject its data cannot serve (``Invalid``) is logged and skipped."""
        with Session(engine) as session:
            todo = subjects.all_subjects(session, site)
        done = 0
        for subject in todo:
            with self._cpu, Session(engine) as session:
                try:
                    n = work(session, subject)
                except Invalid as exc:
                    log.info("%s %s %s: %s", failed, subject.kind, subject.code, exc)
                    session.rollback()
                    continue
                session.commit()
                done += n
        return done

    def _due(self, subject: Subject, last: ForecastRun | None, now: datetime) -> bool:
        if last is None:
            return True
        local_hour = pd.Timestamp(now).tz_convert(subject.timezone).hour
        return local_hour in NIGHT_HOURS and now - last.created_at > timedelta(hours=20)

    def _select_and_fit(
        self, session: Session, subject: Subject, now: datetime, first: bool
    ) -> int:
        last = subjects.last_complete(subject, now)
        frame = _observed(subjects.history(session, subject, last - HISTORY, last))
        # a model whose tracked error drifted past the baseline's sits tonight out
        demoted = tracking.demoted_models(session, subject, now, self.drift)
        candidates = tracking.without_demoted(
            self.candidates if first else self.night_candidates, demoted
        )
        stored = 0
        for horizon in (DAY_AHEAD, WEEK_AHEAD):
            steps = horizon_steps(subject, horizon)
            train, future, inputs = with_inputs(session, subject, frame, steps, now)
            name, scores = select_model(
                train,
                subject,
                horizon,
                candidates,
                self.calendar,
                self.folds.get(horizon, 2),
                inputs.columns,
            )
            if demoted:
                scores["demoted"] = sorted(demoted)
            began = time.perf_counter()
            model = make(name, ModelContext(steps, self.calendar, inputs.columns)).fit(train)
            forecast = model.predict(steps, future)
            run = store_run_once(
                session,
                subject,
                purpose="nightly",
                model=model,
                frame=frame,
                forecast=forecast,
                scores=scores,
                fit_s=time.perf_counter() - began,
                run_key=run_key(subject, horizon, last),
                inputs=inputs.record,
            )
            if run is None:
                continue
            stored += 1
            if horizon == DAY_AHEAD:
                with self._lock:
                    self._models[subject.key] = (run.id, model, inputs.columns)
        return stored

    def _nightly_group(self, session: Session, unit: Unit, now: datetime) -> int:
        """Per member, the best of its per-series candidates and the group's global model by
        backtest; the global model trained once on every member, stored per member."""
        assert unit.group is not None
        frames: dict[str, pd.DataFrame] = {}
        todo: dict[str, tuple[Subject, bool, tuple[str, ...], set[str]]] = {}
        for subject, first in unit.members:
            last = subjects.last_complete(subject, now)
            try:
                frames[subject.code] = _observed(
                    subjects.history(session, subject, last - HISTORY, last)
                )
            except Invalid as exc:
                log.info("no forecast for %s %s: %s", subject.kind, subject.code, exc)
                continue
            keys = [run_key(subject, horizon, last) for horizon in (DAY_AHEAD, WEEK_AHEAD)]
            stored = session.scalar(
                select(func.count()).select_from(ForecastRun).where(ForecastRun.run_key.in_(keys))
            )
            if first is None or stored == len(keys):
                continue  # trained on, not stored: not due, or stored before a retry
            demoted = tracking.demoted_models(session, subject, now, self.drift)
            candidates = tracking.without_demoted(
                self.group_candidates if first else self.night_candidates, demoted
            )
            todo[subject.code] = (subject, first, tuple(candidates), demoted)
        if not todo:
            return 0
        done: set[str] = set()
        for horizon in (DAY_AHEAD, WEEK_AHEAD):
            steps, trains, futures, inputs = {}, {}, {}, {}
            for code, frame in frames.items():
                subject = next(s for s, _ in unit.members if s.code == code)
                steps[code] = horizon_steps(subject, horizon)
                trains[code], futures[code], inputs[code] = with_inputs(
                    session, subject, frame, steps[code], now
                )
            folds = self.folds.get(horizon, 2)
            wanted = any(GLOBAL in c or COMBINED in c for _, _, c, _ in todo.values())
            pooled = groups.backtest_group(trains, steps, self.calendar, folds) if wanted else {}
            # beyond a day the members' linear maps are pooled too (linear.pools)
            sharing = {c: t for c, t in trains.items() if linear_model.pools_history(steps[c], t)}
            linear_wanted = any("linear" in c or COMBINED in c for _, _, c, _ in todo.values())
            shared = groups.backtest_linear(sharing, steps, folds) if linear_wanted else {}
            picks: dict[str, tuple[str, dict]] = {}
            for code, (subject, _, candidates, demoted) in todo.items():
                uses_group = GLOBAL in candidates or COMBINED in candidates
                extra = {GLOBAL: pooled[code]} if code in pooled and uses_group else {}
                if code in shared and ("linear" in candidates or COMBINED in candidates):
                    extra["linear"] = shared[code]
                own = [c for c in candidates if c not in GROUP_MODELS or GLOBAL in extra]
                name, scores = select_model(
                    trains[code],
                    subject,
                    horizon,
                    own,
                    self.calendar,
                    folds,
                    inputs[code].columns,
                    extra=extra,
                )
                if extra:  # backtested across the group: the global model's, else linear's
                    size = len(pooled if GLOBAL in extra else shared)
                    scores["group"] = {"site": unit.group, "series": size}
                if demoted:
                    scores["demoted"] = sorted(demoted)
                picks[code] = (name, scores)
            members: dict[str, Forecaster] = {}
            group_s = 0.0
            if any(name in GROUP_MODELS for name, _ in picks.values()):
                # trained on the members it was backtested on
                began = time.perf_counter()
                try:
                    members = dict(
                        groups.fit_group(
                            {c: trains[c] for c in pooled}, steps, self.calendar, unit.group
                        )
                    )
                except Invalid as exc:
                    log.warning("group model of %s not fitted: %s", unit.group, exc)
                group_s = (time.perf_counter() - began) / len(pooled)
            linears: dict[str, Forecaster] = {}
            if shared and any(name in ("linear", COMBINED) for name, _ in picks.values()):
                try:
                    linears = dict(
                        groups.fit_linear({c: trains[c] for c in shared}, steps, unit.group)
                    )
                except Invalid as exc:  # each member fits its own instead
                    log.warning("pooled linear of %s not fitted: %s", unit.group, exc)
            for code, (name, scores) in picks.items():
                subject = todo[code][0]
                if name in GROUP_MODELS and code not in members:  # the runner-up instead
                    own = [c for c in todo[code][2] if c not in GROUP_MODELS]
                    name, scores = select_model(
                        trains[code],
                        subject,
                        horizon,
                        own,
                        self.calendar,
                        folds,
                        inputs[code].columns,
                        extra={},
                    )
                began = time.perf_counter()
                try:
                    if name == GLOBAL:
                        model = members[code]
                    elif name == COMBINED:  # the group's model with this member's own parts
                        context = ModelContext(steps[code], self.calendar, inputs[code].columns)
                        model = member_combination(
                            context, trains[code], members[code], linears.get(code)
                        )
                    elif name == "linear" and code in linears:
                        model = linears[code]
                    else:
                        context = ModelContext(steps[code], self.calendar, inputs[code].columns)
                        model = make(name, context).fit(trains[code])
                    forecast = model.predict(steps[code], futures[code])
                except Invalid as exc:  # this member only; the others are stored
                    log.info("no forecast for %s %s: %s", subject.kind, subject.code, exc)
                    continue
                last = subjects.last_complete(subject, now)
                run = store_run_once(
                    session,
                    subject,
                    purpose="nightly",
                    model=model,
                    frame=frames[code],
                    forecast=forecast,
                    scores=scores,
                    fit_s=time.perf_counter() - began + (group_s if name in GROUP_MODELS else 0.0),
                    run_key=run_key(subject, horizon, last),
                    inputs=inputs[code].record,
                )
                if run is None:
                    continue
                done.add(code)
                if horizon == DAY_AHEAD:
                    with self._lock:
                        self._models[subject.key] = (run.id, model, inputs[code].columns)
        return len(done)

    def refresh(self, engine: Engine, site: str | None = None) -> int:
        """The next 24 h for every subject with a selected model (of ``site`` and its
        descendants if given); returns how many. Also drops runs past their retention."""
        now = self.clock()
        done = self._each_subject(
            engine,
            site,
            lambda session, subject: self._refresh_one(session, subject, now),
            "forecast not refreshed for",
        )
        with Session(engine) as session:
            for purpose, keep in KEEP.items():
                session.execute(
                    delete(ForecastRun).where(
                        ForecastRun.purpose == purpose, ForecastRun.created_at < now - keep
                    )
                )
            session.commit()
        return done

    def _refresh_one(self, session: Session, subject: Subject, now: datetime) -> int:
        selected = selected_run(session, subject)
        if selected is None:
            return 0
        last = subjects.last_complete(subject, now)
        newest = latest_run(session, subject)
        if newest is not None and newest.train_end >= last:
            return 0
        steps = horizon_steps(subject, DAY_AHEAD)
        began = time.perf_counter()
        with self._lock:
            cached = self._models.get(subject.key)
        frame = _observed(subjects.history(session, subject, last - timedelta(days=60), last))
        train, future, inputs = with_inputs(session, subject, frame, steps, now)
        if cached is not None and cached[0] == selected.id and cached[2] == inputs.columns:
            model = cached[1]
            model.update(train)
        else:  # after a restart, or when the inputs the model was fitted with are gone
            frame = _observed(subjects.history(session, subject, last - HISTORY, last))
            train, future, inputs = with_inputs(session, subject, frame, steps, now)
            group = _group_of(selected)
            if group:  # the group's model, refitted on the group once for all its members
                model = self._refit_group(session, subject, group, now)
            else:
                context = ModelContext(steps, self.calendar, inputs.columns)
                model = make(selected.model, context).fit(train)
                with self._lock:
                    self._models[subject.key] = (selected.id, model, inputs.columns)
        forecast = model.predict(steps, future)
        store_run(
            session,
            subject,
            purpose="refresh",
            model=model,
            frame=frame,
            forecast=forecast,
            scores=selected.scores,
            fit_s=time.perf_counter() - began,
            inputs=inputs.record,
        )
        return 1

    def _refit_group(
        self, session: Session, subject: Subject, group: str, now: datetime
    ) -> Forecaster:
        """The day-ahead group model of site ``group`` trained once more on every member's
        history (the refresh after a restart), kept for each member that selected it or the
        combination with it (then with the member's own ``hgb`` fitted beside it); the model
        of ``subject``."""
        members = groups.site_groups(session, subjects.all_subjects(session, group)).get(group)
        if not members or subject.key not in {m.key for m in members}:
            raise Invalid("model", f"{subject.code} is no longer in the group of {group}")
        trains, steps, columns = {}, {}, {}
        for member in members:
            last = subjects.last_complete(member, now)
            try:
                frame = _observed(subjects.history(session, member, last - HISTORY, last))
            except Invalid:
                continue  # no readings yet: as in the nightly, it sits the training out
            steps[member.code] = horizon_steps(member, DAY_AHEAD)
            trains[member.code], _, inputs = with_inputs(
                session, member, frame, steps[member.code], now
            )
            columns[member.code] = inputs.columns
        fitted = groups.fit_group(trains, steps, self.calendar, group)
        if subject.code not in fitted:
            raise Invalid("history", f"{subject.code} has no readings for its group model")
        out: Forecaster = fitted[subject.code]
        for member in members:
            chosen = selected_run(session, member) if member.code in fitted else None
            if chosen is None or _group_of(chosen) != group:
                continue
            model: Forecaster = fitted[member.code]
            if chosen.model == COMBINED:
                context = ModelContext(steps[member.code], self.calendar, columns[member.code])
                model = member_combination(context, trains[member.code], model)
            with self._lock:
                self._models[member.key] = (chosen.id, model, columns[member.code])
            if member.key == subject.key:
                out = model
        return out


def member_combination(
    context: ModelContext,
    history: pd.DataFrame,
    group_model: Forecaster,
    linear: Forecaster | None = None,
) -> combined.Combined:
    """A group member's combination for the context's horizon (``combined.weights_for``):
    the group's fitted model as ``combined.GROUP_PART``, the group's pooled ``linear``
    (``groups.fit_linear``) when given and the horizon takes it, its other parts fitted on
    its own history."""
    day = steps_per(pd.DatetimeIndex(history.index), "day")
    weights = combined.weights_for(context.horizon, day)
    given = {combined.GROUP_PART: group_model}
    if linear is not None and "linear" in weights:
        given["linear"] = linear
    own = {part: make(part, context).fit(history) for part in weights if part not in given}
    return combined.Combined({**own, **given}, weights)


def _group_of(run: ForecastRun) -> str | None:
    """The site group whose model a run's forecast came from (``lgbm_global`` of a group, or
    the combination with it), None for a model of the one series."""
    params = run.params or {}
    if run.model == GLOBAL:
        group = params.get("group")
    elif run.model == COMBINED:
        group = (params.get(GLOBAL) or {}).get("group")
    else:
        group = None
    return str(group) if group else None


def selected_run(session: Session, subject: Subject) -> ForecastRun | None:
    """The subject's newest nightly day-ahead run: the model the refresh moves."""
    return session.scalar(
        _subject_runs(subject)
        .where(
            ForecastRun.purpose == "nightly",
            ForecastRun.horizon_steps == horizon_steps(subject, DAY_AHEAD),
        )
        .order_by(ForecastRun.created_at.desc(), ForecastRun.id.desc())
        .limit(1)
    )


def run_key(subject: Subject, horizon: timedelta, last: datetime) -> str:
    """What a nightly run is stored once under: subject, horizon and forecast origin."""
    return (
        f"nightly:{subject.kind}:{subject.id}:{subject.carrier}:{subject.quantity}:"
        f"{horizon_steps(subject, horizon)}:{last.astimezone(UTC).isoformat()}"
    )


def with_inputs(
    session: Session, subject: Subject, frame: pd.DataFrame, steps: int, now: datetime
) -> tuple[pd.DataFrame, pd.DataFrame | None, exog.Inputs]:
    """The history with the exogenous columns known at ``now`` beside the target, their
    values over the next ``steps``, and the record of them."""
    index = pd.DatetimeIndex(frame.index)
    future = future_index(index, steps)
    inputs = exog.subject_inputs(session, subject, index, future, now)
    if not inputs.columns:
        return frame, None, inputs
    train = frame[[TARGET]].join(inputs.frame.iloc[: len(index)])
    train.index.freq = index.freq
    return train, inputs.frame.iloc[len(index) :], inputs


def parse_horizon(text: str | None) -> timedelta:
    """``24h``, ``36h``, ``1d``, ``7d`` or a number of hours; at most a week."""
    text = (text or "24h").strip().lower()
    try:
        if text.endswith("d"):
            horizon = timedelta(days=float(text[:-1]))
        else:
            horizon = timedelta(hours=float(text.removesuffix("h")))
    except ValueError:
        raise Invalid("horizon", f"a duration like 24h or 7d, not {text!r}") from None
    if not timedelta(0) < horizon <= MAX_HORIZON:
        raise Invalid("horizon", "between 1 step and 7d")
    return horizon


def forecast_with_actuals(
    session: Session,
    *,
    meter: str | None,
    site: str | None,
    carrier: str | None,
    target: str,
    horizon: str | None,
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
) -> dict:
    """The newest stored forecast of a meter or a site's carrier with the actuals beside it.

    Points cover ``start``…``end`` if given, else one horizon before the forecast origin to
    one horizon after it; each carries ``actual`` (None until measured) and ``forecast``,
    ``lower``/``upper`` (90 %) and ``lower_50``/``upper_50`` (None outside the forecast).
    """
    if target not in TARGETS:
        raise Invalid("target", f"one of {', '.join(TARGETS)}, not {target!r}")
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            raise Invalid(name, "timestamp without UTC offset")
    now = now or datetime.now(UTC)
    subject = subjects.find_subject(session, meter=meter, site=site, carrier=carrier)
    span = parse_horizon(horizon)
    if target == "energy" and subject.quantity != "energy":
        raise Invalid("target", f"{subject.code} is a kW gauge: ask for target=load")
    factor = subject.load_factor() if target == "load" else 1.0
    run = latest_run(session, subject, min_horizon=span)
    if run is None:
        raise NotFound(
            "forecast",
            f"no forecast of {subject.kind} {subject.code} "
            f"({subject.carrier}) covering {span} yet: the scheduler selects a "
            "model nightly (at once for a new meter) and refreshes every 15 min",
        )
    step = subject.step
    origin = run.train_end.astimezone(UTC) + step
    lo = (start or origin - span).astimezone(UTC)
    hi = (end or origin + span).astimezone(UTC)
    if hi <= lo:
        raise Invalid("end", "must be after start")
    if hi - lo > MAX_WINDOW:
        raise Invalid("end", f"at most {MAX_WINDOW.days} days after start")
    labels = pd.date_range(_ceil(lo, step), hi, freq=step, inclusive="left", tz=UTC)
    points = (
        session.execute(
            select(ForecastPoint).where(
                ForecastPoint.run_id == run.id,
                ForecastPoint.ts >= lo,
                ForecastPoint.ts < hi,
                ForecastPoint.ts < origin + span,
            )
        )
        .scalars()
        .all()
    )
    forecast = pd.DataFrame(
        [
            {"ts": p.ts, "yhat": p.yhat, "q05": p.q05, "q25": p.q25, "q75": p.q75, "q95": p.q95}
            for p in points
        ],
        columns=["ts", "yhat", "q05", "q25", "q75", "q95"],
    )
    # utc=True: a window before the forecast has no points (an empty, tz-naive column)
    forecast = forecast.set_index(pd.DatetimeIndex(pd.to_datetime(forecast["ts"], utc=True)))
    forecast = forecast.drop(columns="ts").reindex(labels)
    actual = pd.Series(np.nan, index=labels)
    last = subjects.last_complete(subject, now)
    if len(labels) and last >= labels[0]:
        last = min(last, labels[-1].to_pydatetime())
        observed = subjects.history(session, subject, labels[0].to_pydatetime(), last)[TARGET]
        actual = observed.tz_convert(UTC).reindex(labels)
    unit = subject.unit if target == "energy" else "kW"
    scale = np.full(len(labels), factor)
    version = None
    if target == "co2":
        from forecasting.emissions import co2_per_unit

        scale, version = co2_per_unit(session, subject, labels, origin)
        unit = "tCO2"
    rows = []
    for i, ts in enumerate(labels):
        f = forecast.iloc[i]
        rows.append(
            {
                "ts": ts.to_pydatetime(),
                "actual": _num(actual.iloc[i] * scale[i]),
                "forecast": _num(f["yhat"] * scale[i]),
                "lower": _num(f["q05"] * scale[i]),
                "upper": _num(f["q95"] * scale[i]),
                "lower_50": _num(f["q25"] * scale[i]),
                "upper_50": _num(f["q75"] * scale[i]),
            }
        )
    return {
        subject.kind: subject.code,
        "carrier": subject.carrier,
        "target": target,
        "unit": unit,
        "resolution": subject.resolution,
        "horizon_h": span.total_seconds() / 3600,
        "carbon_version": version,
        "run": {
            "id": run.id,
            "model": run.model,
            "purpose": run.purpose,
            "created_at": run.created_at,
            "train_start": run.train_start,
            "train_end": run.train_end,
            "origin": origin,
            "params": run.params,
            "scores": run.scores,
            "inputs": run.inputs,
        },
        "points": rows,
    }


def _ceil(t: datetime, step: timedelta) -> datetime:
    s = int(step.total_seconds())
    return datetime.fromtimestamp(-(-int(t.timestamp()) // s) * s, UTC)


def _num(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None
