"""The nightly job's work units: one subject, or the counted meters of a site trained as one
group by the global model (``forecasting.global_model``).

A site's *group* is its own counted meters (:func:`metering.scope.counted_meters`, those
installed in the site itself: a meter of a child site belongs to the child's group, a
sub-meter to none), when there are at least two. The nightly job trains one
``lgbm_global`` across the group — per-series scaling, series-level features — and backtests
it on the same rolling-origin folds as each member's per-series candidates
(``backtest.rolling_origin_group``); each member then takes whichever candidate has the
lowest backtest MASE, the group model included. Beyond a day ahead the members' ``linear``
maps are pooled across the group as well (``linear.LinearGroup``, ``backtest_linear``,
``fit_linear``), for ``linear`` itself and as a part of the combination. Site totals,
sub-meters, gauges and a site with a single meter stay one unit each, with ``lgbm_global``
fitted on the one series.

A group is one unit of the nightly (one transaction, one Ray task): its model is trained on
every member, its runs stored per member under their run keys (insert-once), so a retried
unit stores only what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Self

import pandas as pd
from sqlalchemy.orm import Session

from core.errors import Invalid
from forecasting import backtest, linear
from forecasting.backtest import ModelResult
from forecasting.base import TARGET, Capabilities
from forecasting.calendar import HolidayCalendar
from forecasting.global_model import GlobalGBM
from forecasting.linear import LinearDirect, LinearGroup
from forecasting.registry import GLOBAL
from forecasting.subjects import Subject
from metering.scope import counted_meters

MIN_MEMBERS = 2


@dataclass(frozen=True)
class Unit:
    """One piece of the nightly: ``members`` are (subject, first) — ``first`` None when the
    member is not due (a group trains on it but stores nothing for it); ``group`` is the
    site code of a group, None for a single subject."""

    label: str
    members: tuple[tuple[Subject, bool | None], ...]
    group: str | None = None

    @property
    def due(self) -> bool:
        return any(first is not None for _, first in self.members)


def site_groups(session: Session, subjects: Sequence[Subject]) -> dict[str, list[Subject]]:
    """Site code → the meter subjects of its own counted meters (groups of two or more)."""
    meters = {s.id: s for s in subjects if s.kind == "meter"}
    out: dict[str, list[Subject]] = {}
    for site in (s for s in subjects if s.kind == "site"):
        if site.code in out:
            continue  # one group per site, whatever its carriers
        scope = counted_meters(session, site.id)
        members = [meters[m.id] for m in scope.counted if m.site_id == site.id and m.id in meters]
        if len(members) >= MIN_MEMBERS:
            out[site.code] = members
    return out


def units(
    session: Session, subjects: Sequence[Subject], due: Mapping[tuple, bool | None]
) -> list[Unit]:
    """The nightly's units in the subjects' order (``due``: subject key → first, or None
    when not due); only units with something due."""
    groups = site_groups(session, subjects)
    grouped = {s.key: code for code, members in groups.items() for s in members}
    out: list[Unit] = []
    for subject in subjects:
        code = grouped.get(subject.key)
        if code is None:
            if due.get(subject.key) is not None:
                out.append(Unit(subject.code, ((subject, due[subject.key]),)))
            continue
        if any(u.group == code for u in out):
            continue
        members = tuple((s, due.get(s.key)) for s in groups[code])
        unit = Unit(f"group:{code}", members, code)
        if unit.due:
            out.append(unit)
    return out


def common_columns(frames: Mapping[str, pd.DataFrame]) -> tuple[str, ...]:
    """The exogenous columns every member has (one model takes one set of inputs)."""
    sets = [[c for c in f.columns if c != TARGET] for f in frames.values()]
    if not sets:
        return ()
    return tuple(c for c in sets[0] if all(c in s for s in sets[1:]))


def backtest_group(
    frames: Mapping[str, pd.DataFrame],
    horizons: Mapping[str, int],
    calendar: HolidayCalendar,
    folds: int,
) -> dict[str, ModelResult]:
    """The group model's rolling-origin backtest per member (members too short for the folds
    sit it out; none when fewer than two remain)."""
    usable = _usable(frames, horizons, folds)
    if not usable:
        return {}
    exog = common_columns(usable)
    data = {n: f[[TARGET, *exog]] for n, f in usable.items()}
    horizon = max(horizons.values())
    return backtest.rolling_origin_group(
        data, lambda: GlobalGBM(horizon, calendar, exog), {n: horizons[n] for n in data}, folds
    )


def _usable(
    frames: Mapping[str, pd.DataFrame], horizons: Mapping[str, int], folds: int
) -> dict[str, pd.DataFrame]:
    """The members long enough for the folds; none when fewer than two are."""
    usable = {}
    for name, frame in frames.items():
        try:
            backtest.fold_bounds(len(frame), horizons[name], folds)
        except Invalid:
            continue
        usable[name] = frame
    return usable if len(usable) >= MIN_MEMBERS else {}


def backtest_linear(
    frames: Mapping[str, pd.DataFrame], horizons: Mapping[str, int], folds: int
) -> dict[str, ModelResult]:
    """``linear`` with its maps pooled across the members (``linear.LinearGroup``, beyond a
    day ahead: ``linear.pools``), backtested per member on the same folds as the rest."""
    usable = _usable(frames, horizons, folds)
    # a member too short for linear at the first fold sits the pooling out (its own linear
    # fails alone, as before), so it cannot fail the others' folds
    first = {n: backtest.fold_bounds(len(f), horizons[n], folds)[0] for n, f in usable.items()}
    usable = {n: f for n, f in usable.items() if linear.fits(horizons[n], f.iloc[: first[n]])}
    if len(usable) < MIN_MEMBERS:
        return {}
    data = {n: f[[TARGET]] for n, f in usable.items()}
    horizon = max(horizons.values())
    return backtest.rolling_origin_group(
        data, lambda: LinearGroup(horizon), {n: horizons[n] for n in data}, folds
    )


def fit_linear(
    frames: Mapping[str, pd.DataFrame], horizons: Mapping[str, int], group: str
) -> dict[str, LinearDirect]:
    """``linear`` per member with the maps pooled across the group, fitted on every member's
    whole history; each member's model forecasts (and is stored) as a ``linear`` of its
    own, its params naming the group; a member too short for ``linear`` sits it out (none
    when fewer than two are left)."""
    usable = {n: f[[TARGET]] for n, f in frames.items() if linear.fits(horizons[n], f)}
    if len(usable) < MIN_MEMBERS:
        return {}
    pooled = LinearGroup(max(horizons.values()), group)
    pooled.fit_many(usable, horizons)
    return pooled.members


def fit_group(
    frames: Mapping[str, pd.DataFrame],
    horizons: Mapping[str, int],
    calendar: HolidayCalendar,
    group: str,
) -> dict[str, Member]:
    """One global model trained on every member's whole history; a one-series view of it
    per member."""
    exog = common_columns(frames)
    model = GlobalGBM(max(horizons.values()), calendar, exog)
    model.fit_many({n: f[[TARGET, *exog]] for n, f in frames.items()}, horizons)
    return {name: Member(model, name, group, len(frames)) for name in frames}


class Member:
    """One member of a group model behind the one-series protocol: what is stored (name,
    params with the group) and what the refresh moves (``update``, ``predict``)."""

    name = GLOBAL

    def __init__(self, model: GlobalGBM, series: str, group: str, size: int) -> None:
        self.model = model
        self.series = series
        self.group = group
        self.size = size
        self.capabilities: Capabilities = model.capabilities

    @property
    def exog(self) -> tuple[str, ...]:
        return tuple(self.model.exog)

    def params(self) -> dict:
        return {**self.model.params(), "group": self.group, "group_series": self.size}

    def fit(self, history: pd.DataFrame) -> Self:
        raise Invalid("model", f"{self.name} of group {self.group} is fitted with its group")

    def update(self, history: pd.DataFrame) -> Self:
        self.model.update_many({self.series: history[[TARGET, *self.exog]]})
        return self

    def predict(self, horizon: int, exog: pd.DataFrame | None = None) -> pd.DataFrame:
        future = exog[list(self.exog)] if exog is not None and self.exog else None
        return self.model.predict_many({self.series: horizon}, {self.series: future})[self.series]
