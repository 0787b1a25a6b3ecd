"""Rolling-origin evaluation: the one backtest every model goes through.

Fold k of n ends ``(n − 1 − k) · step`` rows before the last row and covers the ``horizon``
rows up to its end; the model is fitted on every row before the fold and predicts the fold.
So the last fold ends at the last row, and ``folds=1`` scores exactly the last ``horizon``
rows after training on everything before them. Exogenous columns in the fold are given to
the model as the known future (a plan, or observed weather standing in for its forecast).

Scores pool the points of all folds (see ``forecasting.metrics``): ``mase`` against the
weekly seasonal naive in-sample on each fold's training data; ``cv_rmse`` on hourly means
when the series is finer than hourly (ASHRAE Guideline 14 states its criteria for hourly
data; ``cv_rmse_native`` is at the series' step); ``fit_s`` is the mean wall time of one
fold's fit and predict.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import Invalid
from forecasting import metrics
from forecasting.base import (
    LOWER_90,
    POINT,
    QUANTILE_COLUMNS,
    QUANTILE_LEVELS,
    TARGET,
    UPPER_90,
    Forecaster,
    steps_per,
)

HOUR = pd.Timedelta(hours=1)


@dataclass
class Fold:
    number: int
    forecast: pd.DataFrame  # yhat, q01…q99 and the actual y
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    scale: float  # MASE denominator on this fold's training data
    seconds: float


@dataclass
class ModelResult:
    name: str
    folds: list[Fold] = field(default_factory=list)
    error: str | None = None
    scores: dict[str, float] = field(default_factory=dict)


def fold_bounds(rows: int, horizon: int, folds: int, step: int | None = None) -> list[int]:
    """Start row of each fold's forecast period, oldest first."""
    step = step or horizon
    if horizon < 1 or folds < 1 or step < 1:
        raise Invalid("folds", "horizon, folds and step must be at least 1")
    starts = [rows - (folds - 1 - k) * step - horizon for k in range(folds)]
    if starts[0] < 2:
        needed = (folds - 1) * step + horizon + 2
        raise Invalid(
            "folds",
            f"{folds} folds of {horizon} steps, {step} apart, need at least "
            f"{needed} rows; the series has {rows}",
        )
    return starts


def rolling_origin(
    data: pd.DataFrame,
    models: Mapping[str, Callable[[], Forecaster]],
    horizon: int,
    folds: int,
    step: int | None = None,
    on_fold: Callable[[str, int], None] | None = None,
) -> dict[str, ModelResult]:
    """Backtest every model on the same folds; a model that cannot be fitted on this data
    (too short a history, say) gets ``error`` and no scores."""
    starts = fold_bounds(len(data), horizon, folds, step)
    season = steps_per(pd.DatetimeIndex(data.index), "week")
    exog = [c for c in data.columns if c != TARGET]
    results = {}
    for name, factory in models.items():
        result = ModelResult(name)
        for number, start in enumerate(starts):
            train, test = data.iloc[:start], data.iloc[start : start + horizon]
            began = time.perf_counter()
            try:
                model = factory().fit(train)
                forecast = model.predict(horizon, test[exog] if exog else None)
            except Invalid as exc:
                result.error = f"fold {number + 1}: {exc}"
                break
            seconds = time.perf_counter() - began
            forecast = forecast.assign(**{TARGET: test[TARGET].to_numpy()})
            scale = metrics.seasonal_naive_scale(train[TARGET].to_numpy(), season)
            result.folds.append(
                Fold(number, forecast, train.index[0], train.index[-1], scale, seconds)
            )
            if on_fold is not None:
                on_fold(name, number)
        if result.error is None:
            result.scores = score(result.folds, pd.Timedelta(data.index.freq))
        results[name] = result
    return results


def rolling_origin_group(
    data: Mapping[str, pd.DataFrame],
    factory: Callable[[], object],  # a model with fit_many / predict_many
    horizons: Mapping[str, int],
    folds: int,
    step: Mapping[str, int] | None = None,
    on_fold: Callable[[str, int], None] | None = None,
) -> dict[str, ModelResult]:
    """Backtest a global model (one with ``fit_many``/``predict_many``, see
    ``forecasting.global_model``) on a group of series: fold k of every series is placed as in
    ``rolling_origin`` (counted from each series' own end), one model is trained on the
    training part of every series and forecasts every series' fold. Scores per series, as
    ``rolling_origin`` gives them; ``fit_s`` is the fold's time divided among the series."""
    step = step or {}
    starts = {
        name: fold_bounds(len(frame), horizons[name], folds, step.get(name))
        for name, frame in data.items()
    }
    results = {name: ModelResult(getattr(factory(), "name", "global")) for name in data}
    label = next(iter(results.values())).name
    for number in range(folds):
        trains = {name: frame.iloc[: starts[name][number]] for name, frame in data.items()}
        tests = {
            name: frame.iloc[starts[name][number] : starts[name][number] + horizons[name]]
            for name, frame in data.items()
        }
        began = time.perf_counter()
        try:
            model = factory()
            model.fit_many(trains, horizons)  # type: ignore[attr-defined]
            exog = {
                n: t.drop(columns=[TARGET]) if t.shape[1] > 1 else None for n, t in tests.items()
            }
            forecasts = model.predict_many(horizons, exog)  # type: ignore[attr-defined]
        except Invalid as exc:
            for result in results.values():
                result.error = f"fold {number + 1}: {exc}"
            break
        seconds = (time.perf_counter() - began) / len(data)
        season = {n: steps_per(pd.DatetimeIndex(f.index), "week") for n, f in data.items()}
        for name, forecast in forecasts.items():
            train, test = trains[name], tests[name]
            forecast = forecast.assign(**{TARGET: test[TARGET].to_numpy()})
            scale = metrics.seasonal_naive_scale(train[TARGET].to_numpy(), season[name])
            results[name].folds.append(
                Fold(number, forecast, train.index[0], train.index[-1], scale, seconds)
            )
        if on_fold is not None:
            on_fold(label, number)
    for name, result in results.items():
        if result.error is None:
            result.scores = score(result.folds, pd.Timedelta(data[name].index.freq))
    return results


def score(folds: list[Fold], step: pd.Timedelta) -> dict[str, float]:
    frame = pd.concat([f.forecast for f in folds])
    y, yhat = frame[TARGET].to_numpy(), frame[POINT].to_numpy()
    scaled = np.concatenate(
        [np.abs(f.forecast[TARGET] - f.forecast[POINT]) / f.scale for f in folds]
    )
    hourly = _hourly(folds) if step < HOUR else frame[[TARGET, POINT]]
    return {
        "mae": metrics.mae(y, yhat),
        "rmse": metrics.rmse(y, yhat),
        "wape": metrics.wape(y, yhat),
        "mase": float(np.nanmean(scaled)) if np.isfinite(scaled).any() else float("nan"),
        "cv_rmse": metrics.cv_rmse(hourly[TARGET], hourly[POINT]),
        "cv_rmse_native": metrics.cv_rmse(y, yhat),
        "nmbe": metrics.nmbe(y, yhat),
        "coverage_90": metrics.coverage(y, frame[LOWER_90], frame[UPPER_90]),
        "pinball": metrics.pinball(y, frame[list(QUANTILE_COLUMNS)].to_numpy(), QUANTILE_LEVELS),
        "fit_s": float(np.mean([f.seconds for f in folds])),
    }


def _hourly(folds: list[Fold]) -> pd.DataFrame:
    """Hourly means of actual and forecast, per fold, over the observed steps."""
    parts = []
    for f in folds:
        part = f.forecast[[TARGET, POINT]].dropna(subset=[TARGET])
        wall = pd.DatetimeIndex(part.index)
        parts.append(
            part.groupby(
                wall.floor(HOUR) if wall.tz is None else wall.tz_convert("UTC").floor(HOUR)
            ).mean()
        )
    return pd.concat(parts)


def best_model(results: Mapping[str, ModelResult], measure: str = "mase") -> str | None:
    """The model with the lowest score (the first listed wins a tie). MASE needs more than a
    week of training data; below that the models are ranked by MAE."""
    for by in (measure, "mae"):
        scored = [
            (r.scores[by], i, name)
            for i, (name, r) in enumerate(results.items())
            if r.error is None and np.isfinite(r.scores.get(by, np.nan))
        ]
        if scored:
            return min(scored)[2]
    return None
