"""Seasonal-naive baselines: the same time yesterday, the same time last week.

The forecast for a step k seasons ahead repeats the value k seasons back. Missing values in
the last season are taken from the season before. Intervals are conformal: the empirical
quantiles of the same forecast's errors over the recent history (up to ``calibration_days``),
grouped by the forecast's size.
"""

from __future__ import annotations

import math
from typing import Self

import numpy as np
import pandas as pd

from forecasting.base import (
    TARGET,
    Capabilities,
    ConformalBands,
    check_history,
    floor_of,
    forecast_frame,
    future_index,
    steps_per,
)


class SeasonalNaive:
    def __init__(self, season: str = "week", calibration_days: int = 56) -> None:
        if season not in ("day", "week"):
            raise ValueError("season is 'day' or 'week'")
        self.season = season
        self.calibration_days = calibration_days
        self.name = "naive_daily" if season == "day" else "naive_weekly"
        self.capabilities = Capabilities(intervals="conformal", min_history=2)
        self._y: np.ndarray = np.array([])
        self._index: pd.DatetimeIndex | None = None
        self._period = 0
        self._bands: dict[int, ConformalBands] = {}
        self._floor: float | None = None

    def params(self) -> dict:
        return {"season": self.season, "calibration_days": self.calibration_days}

    def fit(self, history: pd.DataFrame) -> Self:
        index = check_history(history, 2, self.name)
        self._period = steps_per(index, self.season)
        check_history(history, self._period + 1, self.name)
        y = history[TARGET].to_numpy(dtype=float)
        keep = min(len(y), steps_per(index, "day") * self.calibration_days + self._period)
        self._y = _fill_by_phase(y[-keep:], self._period)
        self._floor = floor_of(history[TARGET])
        self._index = index
        self._bands = {}
        return self

    update = fit

    def predict(self, horizon: int, exog: pd.DataFrame | None = None) -> pd.DataFrame:
        assert self._index is not None, "fit first"
        index = future_index(self._index, horizon)
        m, last = self._period, self._y[-self._period :]
        point = np.resize(last, horizon)
        quantiles = np.vstack(
            [
                self._band(k + 1).quantiles(point[k * m : (k + 1) * m])
                for k in range(math.ceil(horizon / m))
            ]
        )
        return forecast_frame(index, point, quantiles, self._floor)

    def _band(self, k: int) -> ConformalBands:
        if k not in self._bands:
            lag = k * self._period
            y = self._y
            if y.size <= lag + 1:
                lag = self._period * max(1, (y.size - 1) // self._period)
            prior, actual = y[:-lag], y[lag:]
            self._bands[k] = ConformalBands().fit(prior, actual - prior)
        return self._bands[k]


def _fill_by_phase(y: np.ndarray, period: int) -> np.ndarray:
    """Missing values take the value one season earlier (or later, at the start); a phase
    never observed takes the series mean."""
    pad = (-y.size) % period  # one row per season, one column per phase
    grid = np.concatenate([np.asarray(y, dtype=float), np.full(pad, np.nan)]).reshape(-1, period)
    filled = pd.DataFrame(grid).ffill().bfill().to_numpy().ravel()[: y.size]
    if np.isnan(filled).any():
        mean = np.nanmean(y) if np.isfinite(y).any() else 0.0
        filled = np.where(np.isnan(filled), mean, filled)
    return filled
