"""Prophet: trend, weekly seasonality, a daily profile per day type, holidays, regressors.

The daily profile of a plant differs between working days and days off, so instead of one
daily seasonality there are two conditional ones (``daily_workday``, ``daily_off``), switched
by the same working-day calendar as the other models (public holidays and make-up working
days). Holidays also enter as Prophet holidays. Exogenous columns are linear regressors.
Intervals are native: quantiles of Prophet's predictive samples (trend and noise
uncertainty). Fitting uses the last ``history_days`` (Prophet's cost grows with the rows).
Prophet takes wall-clock time, so a tz-aware history is given to it in local time.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self

import numpy as np
import pandas as pd

from core.errors import Invalid
from forecasting.base import (
    QUANTILE_LEVELS,
    TARGET,
    Capabilities,
    check_exog,
    check_history,
    floor_of,
    forecast_frame,
    future_index,
    steps_per,
)
from forecasting.calendar import HolidayCalendar


class ProphetModel:
    name = "prophet"

    def __init__(
        self,
        calendar: HolidayCalendar | None = None,
        exog: tuple[str, ...] = (),
        *,
        history_days: int = 120,
        daily_order: int = 10,
        weekly_order: int = 3,
        changepoint_prior_scale: float = 0.05,
        uncertainty_samples: int = 500,
        seed: int = 0,
    ) -> None:
        self.calendar = calendar or HolidayCalendar("CN")
        self.exog = list(exog)
        self.history_days = history_days
        self.daily_order = daily_order
        self.weekly_order = weekly_order
        self.changepoint_prior_scale = changepoint_prior_scale
        self.uncertainty_samples = uncertainty_samples
        self.seed = seed
        self.capabilities = Capabilities(
            intervals="native", exogenous=True, holidays=True, min_history=2
        )
        self._model = None
        self._index: pd.DatetimeIndex | None = None
        self._floor: float | None = None

    def params(self) -> dict:
        return {
            "holidays": self.calendar.country,
            "exog": self.exog,
            "history_days": self.history_days,
            "daily_order": self.daily_order,
            "weekly_order": self.weekly_order,
            "changepoint_prior_scale": self.changepoint_prior_scale,
            "uncertainty_samples": self.uncertainty_samples,
        }

    def fit(self, history: pd.DataFrame) -> Self:
        index = check_history(history, 2, self.name)
        missing = [c for c in self.exog if c not in history.columns]
        if missing:
            raise Invalid("exog", f"history lacks {', '.join(missing)}")
        day = steps_per(index, "day")
        frame = history.iloc[-self.history_days * day :]
        data = self._design(pd.DatetimeIndex(frame.index), frame)
        data["y"] = frame[TARGET].to_numpy(dtype=float)
        if data["y"].notna().sum() < 2 * day:
            raise Invalid("history", f"{self.name} needs at least two days of values")
        model = _prophet(
            yearly_seasonality=(frame.index[-1] - frame.index[0]) >= pd.Timedelta(days=730),
            weekly_seasonality=self.weekly_order,
            daily_seasonality=False,
            holidays=self._holidays(frame.index),
            changepoint_prior_scale=self.changepoint_prior_scale,
            uncertainty_samples=self.uncertainty_samples,
        )
        if day > 1:
            model.add_seasonality(
                "daily_workday", period=1, fourier_order=self.daily_order, condition_name="workday"
            )
            model.add_seasonality(
                "daily_off", period=1, fourier_order=self.daily_order // 2, condition_name="day_off"
            )
        for col in self.exog:
            model.add_regressor(col)
        from cmdstanpy import disable_logging

        with disable_logging(), _quiet():  # two INFO lines per fit otherwise (errors raise)
            try:
                model.fit(data)
            except RuntimeError as exc:  # cmdstan's optimizer failed on this history
                raise Invalid("history", f"prophet could not be fitted: {exc}") from None
        self._floor = floor_of(history[TARGET])
        self._model, self._index = model, index
        return self

    def update(self, history: pd.DataFrame) -> Self:
        if self._model is None:
            return self.fit(history)
        self._index = check_history(history, 2, self.name)
        return self

    def predict(self, horizon: int, exog: pd.DataFrame | None = None) -> pd.DataFrame:
        if self._model is None or self._index is None:
            raise Invalid("model", "fit the model before predicting")
        index = future_index(self._index, horizon)
        values = check_exog(self.exog, index, exog)
        data = self._design(index, values)
        model = self._model
        with _quiet():
            model.uncertainty_samples = 0
            point = model.predict(data)["yhat"].to_numpy()
            model.uncertainty_samples = self.uncertainty_samples
            np.random.seed(self.seed)  # Prophet samples from numpy's global generator
            samples = model.predictive_samples(data)["yhat"]
        quantiles = np.quantile(samples, QUANTILE_LEVELS, axis=1).T
        return forecast_frame(index, point, quantiles, self._floor)

    def _design(self, index: pd.DatetimeIndex, exog: pd.DataFrame | None) -> pd.DataFrame:
        wall = index.tz_localize(None) if index.tz is not None else index
        days = wall.normalize()
        off = self.calendar.day_flags(pd.DatetimeIndex(days.unique()))["off"]
        day_off = off.reindex(days).to_numpy(dtype=bool)
        data = pd.DataFrame({"ds": wall, "workday": ~day_off, "day_off": day_off})
        for col in self.exog:
            assert exog is not None
            data[col] = exog[col].interpolate(limit_area="inside").ffill().bfill().to_numpy()
        return data

    def _holidays(self, index: pd.DatetimeIndex) -> pd.DataFrame | None:
        table = self.calendar.holiday_table(index[0].year, index[-1].year + 1)
        return table if len(table) else None


@contextmanager
def _quiet() -> Iterator[None]:
    """Prophet 1.5 uses pandas' deprecated ``inplace=``: pandas 3 warns on every fit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", getattr(pd.errors, "Pandas4Warning", FutureWarning))
        yield


def _prophet(**kwargs):  # noqa: ANN003, ANN202
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)  # "plotly not installed"
    from prophet import Prophet

    return Prophet(**kwargs)
