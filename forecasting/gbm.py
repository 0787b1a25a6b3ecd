"""Gradient-boosted trees (scikit-learn ``HistGradientBoostingRegressor``) on calendar,
working-day, lag and rolling features, with optional exogenous inputs.

One direct model for the whole horizon: every lag is at least ``horizon`` steps old (see
``forecasting.features``). The loss is the absolute error (the forecast is a median: MASE
and WAPE are absolute-error measures, and it is robust to the plant's spikes). Intervals are
split-conformal: a lighter model is fitted on the ``calibration_train_days`` before the last
``calibration_days``, its errors on those days give the residual quantiles (grouped by
forecast size), stretched as ``widen`` says, then the model is fitted on everything
(``refit``). ``widen`` is 1 by default: the refitted model is trained up to the forecast
origin, so the drift over the calibration days that ``base.later_widen`` measures (what
``lgbm_global``'s calibrated model, which forecasts without a refit, has to allow for) is
not a step this forecast takes; ``None`` chooses a factor per fit as ``lgbm_global`` does.
Training uses at most ``max_train_days`` of history and ``threads`` CPU threads, so a
nightly retrain in the scheduler leaves the other core to the API.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import pandas as pd

from core.errors import Invalid
from forecasting import features
from forecasting.base import (
    TARGET,
    Capabilities,
    ConformalBands,
    check_exog,
    check_history,
    floor_of,
    forecast_frame,
    future_index,
    steps_per,
)
from forecasting.calendar import HolidayCalendar


class GradientBoosting:
    name = "hgb"

    def __init__(
        self,
        horizon: int,
        calendar: HolidayCalendar | None = None,
        exog: tuple[str, ...] = (),
        *,
        max_train_days: int = 730,
        calibration_days: int = 56,
        calibration_train_days: int = 120,
        calibration_max_iter: int = 60,
        refit: bool = True,
        widen: float | None = 1.0,
        max_iter: int = 120,
        learning_rate: float = 0.125,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 40,
        l2_regularization: float = 1.0,
        loss: str = "absolute_error",
        threads: int = 1,
        seed: int = 0,
    ) -> None:
        self.horizon = horizon
        self.calendar = calendar or HolidayCalendar("CN")
        self.exog = list(exog)
        self.max_train_days = max_train_days
        self.calibration_days = calibration_days
        self.calibration_train_days = calibration_train_days
        self.calibration_max_iter = calibration_max_iter
        self.refit = refit
        self.widen = widen
        self.tree = {
            "max_iter": max_iter,
            "learning_rate": learning_rate,
            "max_leaf_nodes": max_leaf_nodes,
            "min_samples_leaf": min_samples_leaf,
            "l2_regularization": l2_regularization,
            "loss": loss,
            "early_stopping": False,
            "random_state": seed,
        }
        self.threads = threads
        self.capabilities = Capabilities(
            intervals="conformal", exogenous=True, holidays=True, max_horizon=horizon, min_history=1
        )
        self._model = None
        self._bands = ConformalBands()
        self._tail: pd.DataFrame | None = None
        self._yearly = False
        self._columns: list[str] = []
        self._floor: float | None = None

    def params(self) -> dict:
        return {
            "horizon": self.horizon,
            "holidays": self.calendar.country,
            "exog": self.exog,
            "max_train_days": self.max_train_days,
            "calibration_days": self.calibration_days,
            "calibration_train_days": self.calibration_train_days,
            "calibration_max_iter": self.calibration_max_iter,
            "refit": self.refit,
            "widen": self.widen,
            **self.tree,
        }

    def _regressor(self, calibrating: bool = False):  # noqa: ANN202
        """The trees. The calibration model is lighter (``calibration_max_iter`` iterations
        with a proportionally larger learning rate, at most 15 leaves): it only measures how
        wrong such a model is, and a slightly weaker one errs on the side of wider bands."""
        from sklearn.ensemble import HistGradientBoostingRegressor

        params: dict[str, Any] = dict(self.tree)
        if calibrating and self.calibration_max_iter < params["max_iter"]:
            params["learning_rate"] *= params["max_iter"] / self.calibration_max_iter
            params["max_iter"] = self.calibration_max_iter
            params["max_leaf_nodes"] = min(params["max_leaf_nodes"], 15)
        return HistGradientBoostingRegressor(**params)

    def fit(self, history: pd.DataFrame) -> Self:
        # scikit-learn (and its OpenMP runtime) must be loaded before the thread limit is
        # set, or the limit misses it; 2 threads of absolute-error boosting on a busy
        # 2-core machine ran 12× slower than 1
        from sklearn.ensemble import HistGradientBoostingRegressor  # noqa: F401
        from threadpoolctl import threadpool_limits

        index = check_history(history, 2, self.name)
        day = steps_per(index, "day")
        self._check_columns(history)
        needed = features.history_needed(index, self.horizon)
        frame = history.iloc[-(self.max_train_days * day + needed) :]
        self._yearly = frame.index[-1] - frame.index[0] >= pd.Timedelta(days=730)
        x = features.build(frame, self.horizon, self.calendar, self.exog, self._yearly)
        y = frame[TARGET].to_numpy(dtype=float)
        rows = np.flatnonzero(np.isfinite(y) & np.isfinite(x["lag_week"].to_numpy()))
        calibration = min(self.calibration_days * day, rows.size // 4)
        if rows.size < 4 * day:
            week = features.lag_plan(index, self.horizon)["lag_week"] // day
            raise Invalid(
                "history", f"{self.name} needs at least {week + 4} days of history with values"
            )
        train, calib = rows[:-calibration], rows[-calibration:]
        if self.refit:  # the calibration model only measures errors: a shorter window will do
            train = train[-self.calibration_train_days * day :]
        # a lag longer than the history is all NaN: leave it out (the trees cannot bin it)
        self._columns = [c for c in x.columns if x[c].iloc[train].notna().any()]
        x = x[self._columns]
        with threadpool_limits(self.threads):
            model = self._regressor(calibrating=self.refit).fit(x.iloc[train], y[train])
            point = model.predict(x.iloc[calib])
            self._bands = ConformalBands(widen=self.widen).fit(point, y[calib] - point)
            if self.refit:
                model = self._regressor().fit(x.iloc[rows], y[rows])
        self._floor = floor_of(history[TARGET])
        self._model = model
        self._tail = history.iloc[-needed:]
        return self

    def update(self, history: pd.DataFrame) -> Self:
        if self._model is None:
            return self.fit(history)
        index = check_history(history, 2, self.name)
        self._check_columns(history)
        self._tail = history.iloc[-features.history_needed(index, self.horizon) :]
        return self

    def predict(self, horizon: int, exog: pd.DataFrame | None = None) -> pd.DataFrame:
        from threadpoolctl import threadpool_limits

        if self._model is None or self._tail is None:
            raise Invalid("model", "fit the model before predicting")
        if horizon > self.horizon:
            raise Invalid("horizon", f"this model was trained for {self.horizon} steps ahead")
        index = future_index(pd.DatetimeIndex(self._tail.index), horizon)
        future = pd.DataFrame({TARGET: np.nan}, index=index)
        values = check_exog(self.exog, index, exog)
        if values is not None:
            future[self.exog] = values.to_numpy()
        frame = pd.concat([self._tail[[TARGET, *self.exog]], future])
        frame.index.freq = self._tail.index.freq
        x = features.build(frame, self.horizon, self.calendar, self.exog, self._yearly).iloc[
            -horizon:
        ][self._columns]
        with threadpool_limits(self.threads):
            point = self._model.predict(x)
        return forecast_frame(index, point, self._bands.quantiles(point), self._floor)

    def _check_columns(self, history: pd.DataFrame) -> None:
        missing = [c for c in self.exog if c not in history.columns]
        if missing:
            raise Invalid("exog", f"history lacks {', '.join(missing)}")
