"""A linear map from the last weeks to the next horizon, per series (``linear``).

Direct multi-output ridge regression in the manner of NLinear (Zeng et al., "Are
Transformers Effective for Time Series Forecasting?", AAAI 2023): the input is the last days
of values at the series' resolution, the output every step of the horizon at once, both read
against the mean of the last day of the input (so the same meter in another unit or from
another offset gets the same forecast, scaled and shifted). No calendar, no exogenous input:
what it adds beside the trees is a different error — a fitted weighting of the recent
curves — which is why it is worth a place in a selection by backtest.

Windows (``window_days``, the rule ``windows_for``): day-ahead one map from the last 14
days; beyond a day the mean of three maps, from the last 7, 14 and 28 days. Which window
reads a series best a week ahead differs by series (7 days for ETTm2 HUFL, 28 for the steel
plant) and the mean of the three was better on the tuning series than any one window or a
choice per series on its calibration days (forecasting/README.md, round 10); day-ahead a
map costs seconds at 10 minutes and plays no part in the combination, so it keeps one.

Pooled across a site (``LinearGroup``, beyond a day: the rule ``pools``): the series of a
group (a site's meters in the nightly, a site's series in the bench suite) share one map per
window, fitted on all their windows with each series divided by its mean absolute value;
each keeps its own bands. A week ahead a map reads 168 to 672 inputs for 168 outputs, and a
year of one series is few windows for that many weights: on the tuning series the pooled
maps of ETTm2's six loads and of Tetouan's three zones forecast better than each series'
own (forecasting/README.md, round 12). Day-ahead a series keeps its own map.

Training windows: every origin whose window and horizon lie in the training data (the last
``max_train_days``), thinned evenly to at most ``max_samples`` (a year of hourly origins).
A history shorter than four times a window or the calibration days (a new meter) takes a
quarter of itself for each.
Ridge penalty: ``ridge`` (> 0) × the mean of the Gram matrix's diagonal (scale-free). Gaps are
interpolated in time before windows are cut; missing actuals are never scored.

Intervals: split-conformal. Weights fitted on everything before the last
``calibration_days`` forecast those days (origins a horizon apart, a day apart for a longer
horizon) and their errors give the bands (``base.ConformalBands``, grouped by forecast size)
with ``lgbm_global``'s stretch (``widen=None``): the drift measured on the calibration days
(``base.later_widen``), taken halfway day-ahead and whole for a longer horizon — unstretched
(``widen=1.0``, ``hgb``'s rule) the bands under-covered ETTm2 HUFL, a tuning series (83.4 %
day-ahead over 42 folds, 80.5 % week-ahead over 16; stretched 88.1 % and 85.6 %;
forecasting/README.md, round 8); with several windows the calibration forecast is the mean
of the maps', as the forecast is. The weights are then fitted again on everything (a second
solve costs little).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self

import numpy as np
import pandas as pd

from core.errors import Invalid
from forecasting.base import (
    TARGET,
    Capabilities,
    ConformalBands,
    beyond_a_day,
    check_history,
    floor_of,
    forecast_frame,
    future_index,
    horizon_shrink,
    steps_per,
)

NAME = "linear"
DAY_AHEAD_WINDOWS = (14,)  # days
LONG_WINDOWS = (7, 14, 28)  # days, beyond a day: the maps' mean


def pools(horizon: int, day: int) -> bool:
    """The rule of pooling: beyond a day ahead a group's members (a site's meters) share
    their maps (``LinearGroup``); up to a day each series keeps its own."""
    return beyond_a_day(horizon, day)


def pools_history(horizon: int, history: pd.DataFrame) -> bool:
    """``pools`` for ``horizon`` steps at ``history``'s resolution."""
    return pools(horizon, steps_per(pd.DatetimeIndex(history.index), "day"))


def fits(horizon: int, history: pd.DataFrame) -> bool:
    """Whether ``linear`` can be fitted for ``horizon`` steps on ``history`` (its windows, the
    calibration days and the horizon fit in it): a member that cannot sits a pooling out."""
    try:
        LinearDirect(horizon)._plan(history)
    except Invalid:
        return False
    return True


def windows_for(horizon: int, day: int) -> tuple[int, ...]:
    """The windows (days) of the maps whose mean forecasts ``horizon`` steps (``day`` a day)."""
    return LONG_WINDOWS if beyond_a_day(horizon, day) else DAY_AHEAD_WINDOWS


@dataclass(frozen=True)
class _Plan:
    """What a fit reads off one history: the actuals, the gap-filled values, steps a day, the
    horizon, the windows' widths (steps), the first calibration row and the training rows."""

    actual: np.ndarray
    y: np.ndarray
    day: int
    h: int
    widths: tuple[int, ...]
    cut: int
    train: int

    def before_and_latest(self) -> tuple[np.ndarray, np.ndarray]:
        """The training rows before the calibration days, and the latest training rows."""
        return self.y[max(0, self.cut - self.train) : self.cut], self.y[-self.train :]


class LinearDirect:
    name = NAME

    def __init__(
        self,
        horizon: int,
        *,
        window_days: tuple[int, ...] | None = None,
        max_train_days: int = 365,
        max_samples: int = 8760,
        calibration_days: int = 28,
        ridge: float = 1e-3,
        widen: float | None = None,
    ) -> None:
        if horizon < 1:
            raise Invalid("horizon", "must be at least one step")
        if window_days is not None and (not window_days or min(window_days) < 1):
            raise Invalid("window_days", "must be days, each at least 1 (or None: the rule)")
        counts = {
            "max_train_days": max_train_days,
            "max_samples": max_samples,
            "calibration_days": calibration_days,
        }
        for field_name, count in counts.items():
            if count < 1:
                raise Invalid(field_name, "must be at least 1")
        if not ridge > 0:  # with no penalty the lags of a regular series are collinear
            raise Invalid("ridge", "must be more than 0")
        if widen is not None and not widen > 0:
            raise Invalid("widen", "must be positive (or None: measured)")
        self.horizon = horizon
        self.window_days = window_days
        self.max_train_days = max_train_days
        self.max_samples = max_samples
        self.calibration_days = calibration_days
        self.ridge = ridge
        self.widen = widen
        self.capabilities = Capabilities(intervals="conformal", min_history=2)
        self._weights: list[np.ndarray] = []  # one map per window
        self._windows: tuple[int, ...] | None = None  # the windows of the fit (days)
        self._bands: ConformalBands | None = None
        self._window: np.ndarray = np.array([])
        self._day = 0
        self._index: pd.DatetimeIndex | None = None
        self._floor: float | None = None
        self.group: dict | None = None  # {"group", "group_series"} when its maps are pooled

    def params(self) -> dict:
        return {
            **(self.group or {}),
            # the fitted model's windows (a stored run says which), else as set (None: the rule)
            "window_days": self._windows or self.window_days,
            "max_train_days": self.max_train_days,
            "max_samples": self.max_samples,
            "calibration_days": self.calibration_days,
            "ridge": self.ridge,
            "widen": self.widen,
        }

    def fit(self, history: pd.DataFrame) -> Self:
        plan = self._plan(history)
        before, latest = plan.before_and_latest()
        maps = [
            _ridge(*_normal(before, w, plan.h, plan.day, self.max_samples), self.ridge)
            for w in plan.widths
        ]
        latest_maps = [
            _ridge(*_normal(latest, w, plan.h, plan.day, self.max_samples), self.ridge)
            for w in plan.widths
        ]
        return self._finish(plan, maps, latest_maps, history)

    def _plan(self, history: pd.DataFrame) -> _Plan:
        """The windows, calibration cut and training rows of a fit on ``history``."""
        index = check_history(history, 2, NAME)
        day = steps_per(index, "day")
        actual = history[TARGET].to_numpy(dtype=float)
        y = _filled(actual)
        days, h = len(y) // day, self.horizon
        # a short history (a new meter) takes a quarter of itself for each
        quarter = max(1, days // 4)
        windows = self.window_days or windows_for(h, day)
        self._windows = tuple(windows)
        widths = tuple(sorted({min(w, quarter) * day for w in windows}))
        cut = len(y) - min(self.calibration_days, quarter) * day
        if cut - widths[-1] - h < 0 or len(y) - cut < h:
            raise Invalid(
                "history",
                f"{NAME} needs more than {days} days of history for a {h}-step horizon "
                "(a window, calibration days and the horizon)",
            )
        return _Plan(actual, y, day, h, widths, cut, self.max_train_days * day)

    def _finish(
        self,
        plan: _Plan,
        maps: list[np.ndarray],
        latest_maps: list[np.ndarray],
        history: pd.DataFrame,
    ) -> Self:
        """Bands from ``maps`` (fitted before the calibration days) forecasting those days,
        then ``latest_maps`` (fitted on the latest data) for the forecast."""
        y, h, day = plan.y, plan.h, plan.day
        step = h if h <= day else day
        points, residuals = [], []
        for origin in range(plan.cut, len(y) - h + 1, step):
            point = _forecast(maps, y[:origin], day)
            points.append(point)
            residuals.append(plan.actual[origin : origin + h] - point)
        bands = ConformalBands(widen=self.widen, shrink=horizon_shrink(h, day))
        self._bands = bands.fit(np.concatenate(points), np.concatenate(residuals))
        self._weights = latest_maps
        self._day = day
        self._floor = floor_of(plan.actual)
        return self.update(history)

    def update(self, history: pd.DataFrame) -> Self:
        """The origin moved to the end of a newer history; the weights and bands kept."""
        if self._bands is None:
            return self.fit(history)
        index = check_history(history, 2, NAME)
        width = max(m.shape[0] for m in self._weights)
        y = _filled(history[TARGET].to_numpy(dtype=float))
        if len(y) < width:
            raise Invalid("history", f"{NAME} needs the last {width // self._day} days")
        self._window = y[-width:]
        self._index = index
        return self

    def predict(self, horizon: int, exog: pd.DataFrame | None = None) -> pd.DataFrame:
        assert self._index is not None and self._bands is not None, "fit first"
        if horizon > self.horizon:
            raise Invalid("horizon", f"{NAME} was fitted for {self.horizon} steps")
        point = _forecast(self._weights, self._window, self._day)[:horizon]
        quantiles = self._bands.quantiles(point)
        return forecast_frame(future_index(self._index, horizon), point, quantiles, self._floor)


class LinearGroup:
    """``linear`` across the series of a group (a site's meters), beyond a day ahead: one map
    per window for every member of the same resolution, horizon and windows, fitted on all
    their windows with each series divided by its mean absolute value (a 20 kW meter and a
    2 MW feeder weigh alike); each member's bands from its own calibration days. With one
    series it is that series' ``LinearDirect`` (the scale cancels in the ridge solution)."""

    name = NAME

    def __init__(self, horizon: int, group: str | None = None, **settings: object) -> None:
        self.horizon = horizon
        self.label = group
        self.settings = settings
        self.members: dict[str, LinearDirect] = {}

    def fit_many(
        self, histories: Mapping[str, pd.DataFrame], horizons: Mapping[str, int] | None = None
    ) -> Self:
        horizons = horizons or {}
        self.members = {
            n: LinearDirect(horizons.get(n, self.horizon), **self.settings)  # type: ignore[arg-type]
            for n in histories
        }
        plans = {n: m._plan(histories[n]) for n, m in self.members.items()}
        sums: dict[tuple, list[np.ndarray]] = {}
        for name, plan in plans.items():
            scale = float(np.mean(np.abs(plan.y))) or 1.0
            before, latest = (part / scale for part in plan.before_and_latest())
            member = self.members[name]
            for part, values in enumerate((before, latest)):
                for k, width in enumerate(plan.widths):
                    gram, moment = _normal(values, width, plan.h, plan.day, member.max_samples)
                    key = (plan.day, plan.h, plan.widths, part, k)
                    if key in sums:
                        sums[key][0] += gram
                        sums[key][1] += moment
                    else:
                        sums[key] = [gram, moment]
        for name, plan in plans.items():
            ridge = self.members[name].ridge
            maps = [
                [
                    _ridge(gram, moment, ridge)
                    for gram, moment in (
                        sums[(plan.day, plan.h, plan.widths, part, k)]
                        for k in range(len(plan.widths))
                    )
                ]
                for part in (0, 1)
            ]
            self.members[name]._finish(plan, maps[0], maps[1], histories[name])
            if self.label is not None:
                self.members[name].group = {"group": self.label, "group_series": len(plans)}
        return self

    def predict_many(
        self,
        horizons: Mapping[str, int] | None = None,
        exog: Mapping[str, pd.DataFrame | None] | None = None,
    ) -> dict[str, pd.DataFrame]:
        horizons = horizons or {n: m.horizon for n, m in self.members.items()}
        return {n: self.members[n].predict(h) for n, h in horizons.items()}


def _filled(y: np.ndarray) -> np.ndarray:
    """Gaps interpolated in time (the ends carried); a series with no value is refused."""
    if not np.isfinite(y).any():
        raise Invalid("history", f"{NAME} needs at least one observed value")
    return pd.Series(y).interpolate(limit_direction="both").to_numpy(dtype=float)


def _normal(
    y: np.ndarray, width: int, horizon: int, day: int, max_samples: int
) -> tuple[np.ndarray, np.ndarray]:
    """The normal equations (XᵀX, XᵀY) of every window of ``y``, thinned evenly to at most
    ``max_samples``, inputs and outputs read against the window's last day's mean."""
    count = len(y) - width - horizon + 1
    stride = max(1, -(-count // max_samples))
    starts = np.arange(count - 1, -1, -stride)[::-1]  # the newest window always in
    x = y[starts[:, None] + np.arange(width)]
    target = y[starts[:, None] + width + np.arange(horizon)]
    level = x[:, -day:].mean(axis=1, keepdims=True)
    x, target = x - level, target - level
    return x.T @ x, x.T @ target


def _ridge(gram: np.ndarray, moment: np.ndarray, ridge: float) -> np.ndarray:
    """Ridge weights (width × horizon); the penalty ``ridge`` × the mean of the Gram
    matrix's diagonal (scale-free)."""
    width = gram.shape[0]
    penalty = ridge * float(np.trace(gram)) / width
    return np.linalg.solve(gram + penalty * np.eye(width), moment)


def _forecast(maps: list[np.ndarray], recent: np.ndarray, day: int) -> np.ndarray:
    """The mean of the maps' forecasts from the end of ``recent`` (each reads its own window
    against the last day's mean)."""
    level = recent[-day:].mean()
    return np.mean([(recent[-m.shape[0] :] - level) @ m for m in maps], axis=0) + level


__all__ = [
    "DAY_AHEAD_WINDOWS",
    "LONG_WINDOWS",
    "NAME",
    "LinearDirect",
    "LinearGroup",
    "fits",
    "pools",
    "pools_history",
    "windows_for",
]
