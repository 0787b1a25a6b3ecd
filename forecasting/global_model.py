"""A global LightGBM model: one model trained across the series of a group (a site's meters,
the series of a bench run, a fleet), behind the same protocol as every other model.

Direct multi-step, one model for every step: a training row is a pair (target time ``t``,
steps ahead ``h``) with the forecast origin ``o = t − h``; every feature is known at the
origin (the last value, the mean of the last hour, day and week before it, the mean of the
day before the point as many weeks earlier as the lags below reach, the values at the
same time of day one and two days and one and two weeks back — as many days or weeks as
needed to reach back past the origin —, the same time on the most recent days of the same
type, working day or day off, the origin has seen) plus ``h`` itself (as a fraction of a
day), the calendar of ``t`` (time of day, weekday, holiday, make-up working day, day off, the
day before and after), series-level features (log of the series' scale, its coefficient of
variation, steps per day) and the exogenous columns at ``t``. No forecast feeds the next
step.

Per-series scaling: the target and every lag are divided by the series' mean absolute value
over its training window, so a 20 kW meter and a 20 MW feeder share one model; forecasts are
multiplied back. Loss: absolute error (the forecast is a median; MASE and WAPE are
absolute-error measures).

Local level (``target="day"``, the default): the trees forecast the difference from the mean
of the last day before the origin, and read every level feature (the last value, the hour
and week means, the lags, the same-type values) as its difference from that mean; the mean
itself stays a feature. A series whose level moves beyond what its training year held is
then forecast from its new level, not clipped to the leaves of the old one (trees cannot
extrapolate a level). ``level`` forecasts the scaled value itself, ``weekly`` the difference
from the value a week back.

Training rows are sampled: ``rows_per_series`` pairs (t, h) per series from its last
``max_train_days``, at most ``max_rows`` in all, so the cost grows with the group only up to
that cap. Bagging (``bags``): that many models, each on its own sample and seed, their mean
the forecast; they share the ``max_rows`` budget (each at least 200 rows a series, so a
large fleet trains one), so averaging costs no more rows than one model on the cap.

Intervals: split-conformal per series. The model is trained on everything before the last
``calibration_days`` of each series; it forecasts those days from origins ``horizon`` steps
apart (a day apart for a longer horizon, ``overlap``), and each series' errors (grouped
by forecast size, with the finite-sample correction, ``base.ConformalBands``), stretched
around their median (the days after the calibration days drift further from the training
data), give its 99 quantiles. The stretch
is chosen per series (``widen=None``, the default; ``base.later_widen``): bands fitted on the
older half of its calibration days are stretched just enough to cover 90 % of the newer
half — the same step away from the training data the forecast takes —, day-ahead halfway
(``base.shrunk_widen``), for a longer horizon whole (``long_shrink``); a number fixes it for
every series. With ``refit`` a second model is
then trained on everything; without (the default), the calibrated model itself forecasts
(exactly the split-conformal setting, at half the cost).

Combination with the seasonal naives (``blend``): on the same calibration forecasts, which
the model made without seeing those days, each series gets the weights (a grid of step
``blend_step`` on the simplex) of the model's forecast, the value a day back and the value a
week back moved to the last day's level (the daily and weekly seasonal naives' forecasts, the
weekly one shifted by how much the mean of the last day before the origin differs from the
mean of the day before the point a week back: a feeder whose level stepped on Tuesday is not
forecast at its old level until next Tuesday) with the lowest mean absolute error; its
forecasts are that weighted sum and its intervals are calibrated on the weighted sum's
errors. A very regular series (yesterday is the best forecast) so leans on the naive,
one the trees read better keeps weight 1 on the model. The weights are chosen on the
training data only: in a backtest, never on the fold scored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
import pandas as pd

from core.errors import Invalid
from forecasting.base import (
    TARGET,
    Capabilities,
    ConformalBands,
    check_exog,
    check_history,
    floor_of,
    forecast_frame,
    future_index,
    horizon_shrink,
    steps_per,
)
from forecasting.calendar import HolidayCalendar
from forecasting.features import SAME_TYPE_DAYS, calendar_features, same_type_by_gap

NAME = "lgbm_global"
TARGETS = ("day", "level", "weekly")
_ONE = "series"  # the key of the single series when used through the one-series protocol

FEATURES = (
    "h_day",
    "time_of_day",
    "weekday",
    "holiday",
    "makeup_workday",
    "off",
    "off_before",
    "off_after",
    "last",
    "mean_hour",
    "mean_day",
    "mean_week",
    "lag_d1",
    "lag_d2",
    "lag_w1",
    "lag_w2",
    "same_type_1",
    "same_type_mean",
    "mean_day_w1",
    "log_scale",
    "cv",
    "steps_per_day",
)


@dataclass
class _Series:
    """One series ready for features: scaled values on the history followed by the longest
    forecast period (NaN there), its calendar and exogenous columns."""

    y: np.ndarray
    csum: np.ndarray  # cumulative sums of y and of its observed count (window means)
    ccount: np.ndarray
    rows: int  # history rows
    horizon: int
    day: int
    week: int
    index: pd.DatetimeIndex  # history and forecast period
    calendar: np.ndarray  # rows × 7
    same: np.ndarray  # gap days × rows × SAME_TYPE_DAYS, scaled: [g] at least g + 1 days back
    exog: np.ndarray  # rows × len(exog)
    scale: float
    statics: np.ndarray
    floor: float | None


class GlobalGBM:
    name = NAME

    def __init__(
        self,
        horizon: int,
        calendar: HolidayCalendar | None = None,
        exog: tuple[str, ...] = (),
        *,
        calendars: Mapping[str, HolidayCalendar] | None = None,
        max_train_days: int = 365,
        calibration_days: int = 28,
        refit: bool = False,
        target: str = "day",
        rows_per_series: int = 20_000,
        max_rows: int = 400_000,
        max_calibration_rows: int = 400_000,
        blend: bool = True,
        blend_step: float = 0.1,
        bags: int = 3,
        overlap: bool = True,
        widen: float | None = None,
        long_shrink: float = 1.0,
        n_estimators: int = 300,
        learning_rate: float = 0.08,
        num_leaves: int = 63,
        min_child_samples: int = 50,
        feature_fraction: float = 0.9,
        lambda_l2: float = 1.0,
        threads: int = 1,
        seed: int = 0,
    ) -> None:
        self.horizon = horizon
        self.calendar = calendar or HolidayCalendar("CN")
        self.calendars = dict(calendars or {})  # a series' own calendar, by name
        self.exog = list(exog)
        self.max_train_days = max_train_days
        self.calibration_days = calibration_days
        self.refit = refit
        if target not in TARGETS:
            raise Invalid("target", f"one of {', '.join(TARGETS)}")
        if bags < 1:
            raise Invalid("bags", "at least 1")
        self.target = target
        self.rows_per_series = rows_per_series
        self.max_rows = max_rows
        self.max_calibration_rows = max_calibration_rows
        if not 0 < blend_step <= 1:
            raise Invalid("blend_step", "between 0 (excluded) and 1")
        self.blend = blend
        self.blend_step = blend_step
        self.bags = bags
        self.overlap = overlap
        self.widen = widen
        if long_shrink < 0:
            raise Invalid("long_shrink", "must be 0 (bands as calibrated) or more")
        self.long_shrink = long_shrink
        self.tree: dict[str, Any] = {
            "objective": "l1",
            "n_estimators": n_estimators,
            "learning_rate": learning_rate,
            "num_leaves": num_leaves,
            "min_child_samples": min_child_samples,
            "feature_fraction": feature_fraction,
            "lambda_l2": lambda_l2,
            "max_bin": 127,
            "seed": seed,
            "verbose": -1,
        }
        self.threads = threads
        self.seed = seed
        self.capabilities = Capabilities(
            intervals="conformal", exogenous=True, holidays=True, max_horizon=None, min_history=1
        )
        self._models: list[Any] = []  # lightgbm Boosters, one a bag
        self._series: dict[str, _Series] = {}
        self._bands: dict[str, ConformalBands] = {}
        self._weights: dict[str, np.ndarray] = {}  # model, a day back, a week back
        self._calendars: dict[tuple, np.ndarray] = {}
        self.trained_rows = 0
        self.trained_bags = 0

    def params(self) -> dict:
        return {
            "horizon": self.horizon,
            "holidays": self.calendar.country,
            "calendars": {n: c.country for n, c in self.calendars.items()},
            "exog": self.exog,
            "max_train_days": self.max_train_days,
            "calibration_days": self.calibration_days,
            "refit": self.refit,
            "target": self.target,
            "rows_per_series": self.rows_per_series,
            "max_rows": self.max_rows,
            "max_calibration_rows": self.max_calibration_rows,
            "blend": self.blend,
            "blend_step": self.blend_step,
            "bags": self.bags,
            "overlap": self.overlap,
            "widen": self.widen,
            "long_shrink": self.long_shrink,
            **{k: v for k, v in self.tree.items() if k != "verbose"},
        }

    # -- the one-series protocol -------------------------------------------------------------

    def fit(self, history: pd.DataFrame) -> Self:
        return self.fit_many({_ONE: history})

    def update(self, history: pd.DataFrame) -> Self:
        if not self._models:
            return self.fit(history)
        return self.update_many({_ONE: history})

    def predict(self, horizon: int, exog: pd.DataFrame | None = None) -> pd.DataFrame:
        return self.predict_many({_ONE: horizon}, {_ONE: exog} if exog is not None else None)[_ONE]

    # -- a group of series -------------------------------------------------------------------

    def fit_many(
        self, histories: Mapping[str, pd.DataFrame], horizons: Mapping[str, int] | None = None
    ) -> Self:
        """Train one model across ``histories`` (name → history frame); ``horizons`` gives
        each series' steps ahead (default: the model's ``horizon``)."""
        if not histories:
            raise Invalid("history", "no series to fit")
        horizons = horizons or {}
        count = len(histories)
        rng = np.random.default_rng(self.seed)
        # the bags share the training budget (max_rows), each at least _MIN_ROWS a series
        bags = max(1, min(self.bags, self.max_rows // (count * _MIN_ROWS)))
        per_series = max(_MIN_ROWS, min(self.rows_per_series, self.max_rows // (count * bags)))
        # one pass over the series: training rows, calibration rows, and only the tail each
        # forecast needs is kept (memory grows with the group by the tails, not the years)
        train: list[_Rows] = [_Rows() for _ in range(bags)]
        refit: list[_Rows] = [_Rows() for _ in range(bags if self.refit else 0)]
        calib: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._series = {}
        for name, history in histories.items():
            s = self._prepare(history, horizons.get(name, self.horizon), self._calendar_of(name))
            origins = max(7, self.max_calibration_rows // (count * s.horizon))
            cal_rows = min(self.calibration_days * s.day, max(s.horizon, s.rows // 4))
            cut = s.rows - min(cal_rows, origins * s.horizon)
            for rows in train:
                rows.add(s, self._sample(s, 0, cut, per_series, rng))
            t, h = _calibration_pairs(s, cut, self._calibration_step(s, cut, count))
            ok = np.isfinite(s.y[t])
            if not ok.any():  # no actuals: a zero-width fallback
                t, h, ok = t[-s.horizon :], h[-s.horizon :], np.ones(s.horizon, dtype=bool)
            calib[name] = (_features(s, t[ok], h[ok]).astype(np.float32), s.y[t[ok]] * s.scale)
            for rows in refit:
                rows.add(s, self._sample(s, 0, s.rows, per_series, rng))
            self._series[name] = _tail(s)
        if train[0].size < 100:
            raise Invalid("history", f"{self.name} needs more history with values")
        models = [self._train(rows, bag) for bag, rows in enumerate(train)]
        self._bands, self._weights = {}, {}
        for name, (x, actual) in calib.items():
            scale = self._series[name].scale
            parts = _components(self._point(models, x), x) * scale
            point = parts[:, 0]
            actual = np.nan_to_num(actual, nan=float(np.median(point)))
            weights = _best_weights(parts, actual, self.blend_step) if self.blend else _MODEL_ONLY
            self._weights[name] = weights
            point = parts @ weights
            self._bands[name] = ConformalBands(
                widen=self.widen, shrink=self._shrink(self._series[name])
            ).fit(point, actual - point)
        if refit:
            models = [self._train(rows, bag) for bag, rows in enumerate(refit)]
        self.trained_rows = sum(rows.size for rows in refit or train)
        self.trained_bags = len(models)
        self._models = models
        return self

    def _calibration_step(self, s: _Series, cut: int, count: int) -> int:
        """Steps between calibration origins: a horizon (disjoint forecasts); for a horizon
        longer than a day (7 days hourly), a day when ``overlap`` and the calibration budget
        allow — four weekly forecasts in 28 days are too few to read a band's tails from,
        22 a day apart are not."""
        if not self.overlap or s.horizon <= s.day:
            return s.horizon
        origins = (s.rows - cut - s.horizon) // s.day + 1
        fits = origins > 1 and count * origins * s.horizon <= self.max_calibration_rows
        return s.day if fits else s.horizon

    def _shrink(self, s: _Series) -> float | None:
        """How much of the measured stretch (``base.later_widen``) a series' bands take:
        day-ahead halfway (``base.WIDEN_SHRINK``, None here), for a horizon longer than a day
        ``long_shrink`` (1: whole). Week-ahead the measurement rests on 22 forecasts a day
        apart (``overlap``) rather than 28 single days, and the forecast steps further past
        the calibration days (up to a week beyond them); halfway left ETTm2 HUFL at 83.4 %
        over 16 weekly folds, whole brought the tuning series nearer 90 % (2.60 points from
        it against 2.90; forecasting/README.md, round 6)."""
        return horizon_shrink(s.horizon, s.day, self.long_shrink)

    def _base(self, x: np.ndarray) -> np.ndarray:
        """What the trees add to (``target``): 0 for ``level``; for ``day`` the last day's
        mean; for ``weekly`` the value a week back (the weekly seasonal naive; the last day's
        mean where it is missing)."""
        if self.target == "level":
            return np.zeros(len(x))
        if self.target == "day":
            return np.nan_to_num(x[:, _DAY_MEAN], nan=0.0)
        week, day = x[:, FEATURES.index("lag_w1")], x[:, _DAY_MEAN]
        return np.nan_to_num(np.where(np.isfinite(week), week, day), nan=0.0)

    def _tree_input(self, x: np.ndarray) -> np.ndarray:
        """The features as the trees read them: for ``day``, every level feature as its
        difference from the last day's mean (which stays as it is)."""
        if self.target != "day":
            return x
        out = x.copy()
        out[:, _LEVEL_COLUMNS] -= x[:, [_DAY_MEAN]]
        return out

    def _point(self, models: list, x: np.ndarray) -> np.ndarray:
        """The scaled point forecast: the mean of the bags' trees plus the base."""
        tree_x = self._tree_input(x)
        return np.mean([m.predict(tree_x) for m in models], axis=0) + self._base(x)

    def _train(self, rows: _Rows, bag: int) -> Any:  # noqa: ANN401 - a lightgbm.Booster
        import lightgbm

        x = np.vstack(rows.x)
        y = np.concatenate(rows.y) - self._base(x)
        params = {k: v for k, v in self.tree.items() if k != "n_estimators"}
        params["num_threads"] = self.threads
        params["seed"] = self.seed + bag
        data = lightgbm.Dataset(
            self._tree_input(x),
            y,
            feature_name=[*FEATURES, *self.exog],
            params={"max_bin": params["max_bin"]},
        )
        return lightgbm.train(params, data, num_boost_round=self.tree["n_estimators"])

    def update_many(self, histories: Mapping[str, pd.DataFrame]) -> Self:
        """Move the origins to newer histories without re-training (scale and bands kept)."""
        for name, history in histories.items():
            if name not in self._series:
                raise Invalid("series", f"{name!r} was not in the fitted group")
            old = self._series[name]
            self._series[name] = self._prepare(
                history, old.horizon, self._calendar_of(name), scale=old.scale
            )
        return self

    def predict_many(
        self,
        horizons: Mapping[str, int] | None = None,
        exog: Mapping[str, pd.DataFrame | None] | None = None,
    ) -> dict[str, pd.DataFrame]:
        """Forecast frames per series, from the end of each history."""
        if not self._models:
            raise Invalid("model", "fit the model before predicting")
        horizons = horizons or {name: s.horizon for name, s in self._series.items()}
        exog = exog or {}
        names, blocks, out = [], [], {}
        for name, steps in horizons.items():
            s = self._series[name]
            if steps > s.horizon:
                raise Invalid("horizon", f"this model was prepared for {s.horizon} steps ahead")
            if self.exog:
                self._future_exog(s, steps, exog.get(name))
            h = np.arange(1, steps + 1)
            names.append(name)
            blocks.append(_features(s, s.rows - 1 + h, h))
        x = np.vstack(blocks)
        parts = _components(self._point(self._models, x), x)
        start = 0
        for name, block in zip(names, blocks, strict=True):
            s = self._series[name]
            p = parts[start : start + len(block)] @ self._weights[name] * s.scale
            start += len(block)
            index = future_index(s.index[: s.rows], len(block))
            out[name] = forecast_frame(index, p, self._bands[name].quantiles(p), s.floor)
        return out

    # -- preparation -------------------------------------------------------------------------

    def _calendar_of(self, name: str) -> HolidayCalendar:
        return self.calendars.get(name, self.calendar)

    def _prepare(
        self,
        history: pd.DataFrame,
        horizon: int,
        calendar: HolidayCalendar,
        scale: float | None = None,
    ) -> _Series:
        index = check_history(history, 2, self.name)
        missing = [c for c in self.exog if c not in history.columns]
        if missing:
            raise Invalid("exog", f"history lacks {', '.join(missing)}")
        if horizon < 1:
            raise Invalid("horizon", "must be at least one step")
        day, week = steps_per(index, "day"), steps_per(index, "week")
        keep = self.max_train_days * day + 2 * week + day
        history = history.iloc[-keep:]
        index = pd.DatetimeIndex(history.index)
        raw = history[TARGET].to_numpy(dtype=float)
        observed = raw[np.isfinite(raw)]
        if observed.size < 2:
            raise Invalid("history", f"{self.name} needs at least 2 observed values")
        if scale is None:
            scale = float(np.mean(np.abs(observed))) or 1.0
        full = index.append(future_index(index, horizon))
        y = np.concatenate([raw / scale, np.full(horizon, np.nan)])
        ok = np.isfinite(y)
        csum = np.concatenate([[0.0], np.cumsum(np.where(ok, y, 0.0))])
        ccount = np.concatenate([[0], np.cumsum(ok)])
        cal = self._calendar(pd.DatetimeIndex(full), calendar)
        same = same_type_by_gap(y, cal[:, 4], cal[:, 7].astype(np.int64), day, horizon)
        ex = np.full((full.size, len(self.exog)), np.nan)
        if self.exog:
            ex[: len(history)] = history[self.exog].to_numpy(dtype=float)
        statics = np.array(
            [math.log(scale), float(np.std(observed)) / scale, float(day)], dtype=float
        )
        return _Series(
            y=y,
            csum=csum,
            ccount=ccount,
            rows=len(history),
            horizon=horizon,
            day=day,
            week=week,
            index=pd.DatetimeIndex(full),
            calendar=cal,
            same=same,
            exog=ex,
            scale=scale,
            statics=statics,
            floor=floor_of(raw),
        )

    def _calendar(self, index: pd.DatetimeIndex, calendar: HolidayCalendar) -> np.ndarray:
        """Time of day (fraction), weekday, the five day-type flags and the day number;
        cached per grid (a fleet of meters on one clock computes it once)."""
        key = (index[0], len(index), index.freq, str(index.tz), calendar.country)
        if key not in self._calendars:
            frame = calendar_features(index, calendar)
            self._calendars[key] = np.column_stack(
                [
                    frame["minute_of_day"].to_numpy(dtype=float) / 1440.0,
                    frame["weekday"].to_numpy(dtype=float),
                    frame["holiday"].to_numpy(dtype=float),
                    frame["makeup_workday"].to_numpy(dtype=float),
                    frame["off"].to_numpy(dtype=float),
                    frame["off_before"].to_numpy(dtype=float),
                    frame["off_after"].to_numpy(dtype=float),
                    frame["day_number"].to_numpy(dtype=float),
                ]
            )
        return self._calendars[key]

    def _future_exog(self, s: _Series, steps: int, exog: pd.DataFrame | None) -> None:
        index = future_index(s.index[: s.rows], steps)
        values = check_exog(self.exog, index, exog)
        if values is not None:
            s.exog[s.rows : s.rows + steps] = values.to_numpy(dtype=float)

    def _sample(
        self, s: _Series, lo: int, hi: int, count: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Up to ``count`` pairs (t, h): t in [lo + day, hi) with an observed value, h in
        1 … horizon with the origin at least a day into the series."""
        first = max(lo + s.day, 1)
        candidates = np.arange(first, hi)
        candidates = candidates[np.isfinite(s.y[candidates])]
        if candidates.size == 0:
            return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
        if candidates.size > count:
            candidates = np.sort(rng.choice(candidates, count, replace=False))
        h = rng.integers(1, s.horizon + 1, candidates.size)
        h = np.minimum(h, candidates - 1)
        return candidates, np.maximum(h, 1)


_MODEL_ONLY = np.array([1.0, 0.0, 0.0])
_MIN_ROWS = 200  # training rows a series gets at least (in each bag)
_DAY_MEAN = FEATURES.index("mean_day")
_LEVEL_COLUMNS = [
    FEATURES.index(f)
    for f in ("last", "mean_hour", "mean_week", "lag_d1", "lag_d2", "lag_w1", "lag_w2")
    + ("same_type_1", "same_type_mean", "mean_day_w1")
]


@dataclass
class _Rows:
    """One bag's training rows, series by series: the features (float32) and the scaled
    values at the target times (``_train`` takes the base off them)."""

    x: list[np.ndarray] = field(default_factory=list)
    y: list[np.ndarray] = field(default_factory=list)

    def add(self, s: _Series, pairs: tuple[np.ndarray, np.ndarray]) -> None:
        t, h = pairs
        self.x.append(_features(s, t, h).astype(np.float32))
        self.y.append(s.y[t])

    @property
    def size(self) -> int:
        return sum(len(y) for y in self.y)


def _components(point: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Rows × 3: the model's forecast, the value a day back, and the value a week back plus
    the change of the last day's mean over that week (``mean_day`` − ``mean_day_w1``); the
    model's forecast where a value is missing."""
    shift = x[:, _DAY_MEAN] - x[:, FEATURES.index("mean_day_w1")]
    day, week = x[:, FEATURES.index("lag_d1")], x[:, FEATURES.index("lag_w1")] + shift
    out = np.empty((len(point), 3))
    out[:, 0] = point
    for column, lag in ((1, day), (2, week)):
        out[:, column] = np.where(np.isfinite(lag), lag, point)
    return out


def _best_weights(parts: np.ndarray, actual: np.ndarray, step: float) -> np.ndarray:
    """The weights on the simplex grid of ``step`` with the lowest mean absolute error of
    ``parts @ weights`` against ``actual`` (a tie keeps the most weight on the model)."""
    n = round(1 / step)
    grid = np.array(
        [(a, b, n - a - b) for a in range(n, -1, -1) for b in range(n - a + 1)], dtype=float
    )
    grid /= n
    errors = np.abs(parts @ grid.T - actual[:, None]).mean(axis=0)
    return grid[int(np.argmin(errors))]


def _tail(s: _Series) -> _Series:
    """The series cut to the rows a forecast from its end reaches back to (lags, window
    means); the same-type values and the calendar were computed on the whole history."""
    reach = (math.ceil(s.horizon / s.week) + 2) * s.week + s.day
    start = max(0, s.rows - reach)
    if start == 0:
        return s
    return _Series(
        y=s.y[start:].copy(),
        csum=s.csum[start:].copy(),
        ccount=s.ccount[start:].copy(),
        rows=s.rows - start,
        horizon=s.horizon,
        day=s.day,
        week=s.week,
        index=s.index[start:],
        calendar=s.calendar[start:],
        same=s.same[:, start:].copy(),
        exog=s.exog[start:].copy(),
        scale=s.scale,
        statics=s.statics,
        floor=s.floor,
    )


def _calibration_pairs(s: _Series, cut: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Forecasts of ``horizon`` steps from origins ``step`` steps apart, the last one ending
    at the last row, each ending at or after ``cut + horizon − 1`` (its targets all in the
    calibration rows from ``cut`` on); oldest first."""
    t_all: list[np.ndarray] = []
    h_all: list[np.ndarray] = []
    end = s.rows - 1
    while end - s.horizon + 1 >= cut or not t_all:
        origin = end - s.horizon
        if origin < 1:
            break
        h = np.arange(1, s.horizon + 1)
        t_all.append(origin + h)
        h_all.append(h)
        end -= step
    if not t_all:
        return np.array([s.rows - 1]), np.array([1])
    return np.concatenate(t_all[::-1]), np.concatenate(h_all[::-1])


def _take(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    ok = at >= 0
    out = np.full(at.shape, np.nan)
    out[ok] = values[at[ok]]
    return out


def _window_mean(s: _Series, end: np.ndarray, width: int) -> np.ndarray:
    """Mean of the observed values in (end − width, end]."""
    hi = end + 1
    lo = np.maximum(hi - width, 0)
    count = s.ccount[hi] - s.ccount[lo]
    total = s.csum[hi] - s.csum[lo]
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _features(s: _Series, t: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Feature rows for targets ``t`` forecast ``h`` steps ahead (origin ``t − h``)."""
    t, h = np.asarray(t, dtype=np.int64), np.asarray(h, dtype=np.int64)
    origin = t - h
    days_back = -(-h // s.day)  # ceil: the same time on a day at or before the origin
    weeks_back = -(-h // s.week)
    hour = max(1, s.day // 24)
    same = s.same[np.minimum(days_back, len(s.same)) - 1, t]
    count = np.isfinite(same).sum(axis=1)
    same_mean = np.where(count > 0, np.nansum(same, axis=1) / np.maximum(count, 1), np.nan)
    columns = [
        h / s.day,
        *s.calendar[t, :7].T,
        _take(s.y, origin),
        _window_mean(s, origin, hour),
        _window_mean(s, origin, s.day),
        _window_mean(s, origin, s.week),
        _take(s.y, t - days_back * s.day),
        _take(s.y, t - (days_back + 1) * s.day),
        _take(s.y, t - weeks_back * s.week),
        _take(s.y, t - (weeks_back + 1) * s.week),
        same[:, 0],
        same_mean,
        _window_mean(s, origin - weeks_back * s.week, s.day),
        *np.repeat(s.statics[None, :], t.size, axis=0).T,
    ]
    out = np.column_stack(columns)
    if s.exog.shape[1]:
        out = np.hstack([out, s.exog[t]])
    assert out.shape[1] == len(FEATURES) + s.exog.shape[1]
    return out


__all__ = ["FEATURES", "NAME", "SAME_TYPE_DAYS", "GlobalGBM"]
