"""``combined``: the weighted mean of ``hgb``, ``lgbm_global`` and, beyond a day ahead,
``linear``, point and quantiles alike.

The models err differently — ``hgb`` is trees fitted per series through the origin,
``lgbm_global`` trees across a group from the last day's level, ``linear`` one ridge map
from the series' last weeks to the horizon — so their weighted mean beats each on most
series and its averaged bands cover nearer 90 % than each's. The weights were chosen on the
tuning series only, for each horizon (``weights_for``; forecasting/README.md, rounds 7, 9,
10 and 11): day-ahead 0.2 ``hgb`` and 0.8 ``lgbm_global`` (``DAY_WEIGHTS``; ``linear``,
with no calendar, only made the day-ahead mean worse there), beyond a day 0.1 ``hgb``,
0.7 ``lgbm_global`` and 0.2 ``linear`` (``LONG_WEIGHTS``).

Averaging quantiles (not mixing the distributions) keeps each level's forecast between the
parts' and never crosses: a weighted mean of sorted rows is sorted.

In a backtest the combination is not fitted again: ``combined_result`` averages the fold
forecasts its parts already made on the same folds (the nightly selection and the bench
suite backtest them anyway). Fitted for a forecast, ``Combined`` holds its parts; in a
site's group the ``lgbm_global`` part (``GROUP_PART``) is the group's model
(``groups.Member``), the others are the member's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Self

import numpy as np
import pandas as pd

from core.errors import Invalid
from forecasting import backtest
from forecasting.backtest import Fold, ModelResult
from forecasting.base import (
    POINT,
    QUANTILE_COLUMNS,
    Capabilities,
    Forecaster,
    beyond_a_day,
    steps_per,
)

NAME = "combined"
DAY_WEIGHTS: dict[str, float] = {"hgb": 0.2, "lgbm_global": 0.8}
LONG_WEIGHTS: dict[str, float] = {"hgb": 0.1, "lgbm_global": 0.7, "linear": 0.2}
PARTS = tuple(dict.fromkeys([*DAY_WEIGHTS, *LONG_WEIGHTS]))  # every part of either horizon
GROUP_PART = "lgbm_global"  # fitted across a group; the others per series


def weights_for(horizon: int, day: int) -> dict[str, float]:
    """The rule of the combination's weights for a horizon of ``horizon`` steps (``day``
    steps a day): ``DAY_WEIGHTS`` up to a day ahead, ``LONG_WEIGHTS`` beyond."""
    return dict(LONG_WEIGHTS if beyond_a_day(horizon, day) else DAY_WEIGHTS)


def weighted_mean(values: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """The rule of the combination: Σ weight × the part's values (points or quantiles, the
    same shape for every part)."""
    return sum(weights[n] * np.asarray(values[n], dtype=float) for n in weights)  # type: ignore[return-value]


def mean_frame(frames: Mapping[str, pd.DataFrame], weights: Mapping[str, float]) -> pd.DataFrame:
    """The weighted mean of forecast frames (same index): ``yhat`` and ``q01`` … ``q99``;
    any other column (the actuals of a backtest fold) is taken from the first part."""
    names = list(weights)
    missing = [n for n in names if n not in frames]
    if missing:
        raise Invalid("model", f"{NAME} needs the forecasts of {', '.join(missing)}")
    first = frames[names[0]]
    for name in names[1:]:
        if not frames[name].index.equals(first.index):
            raise Invalid("model", f"{NAME}: the forecasts of {names[0]} and {name} differ in time")
    columns = [POINT, *QUANTILE_COLUMNS]
    out = first.copy()
    out[columns] = weighted_mean({n: frames[n][columns].to_numpy() for n in names}, weights)
    return out


def combined_result(
    results: Mapping[str, ModelResult], step: pd.Timedelta, weights: Mapping[str, float]
) -> ModelResult | None:
    """The combination's backtest with ``weights`` from its parts' results on the same folds
    (None when a part is missing); a part's error is the combination's."""
    parts = [results.get(n) for n in weights]
    if any(p is None for p in parts):
        return None
    result = ModelResult(NAME)
    failed = [p for p in parts if p is not None and p.error is not None]
    if failed:
        result.error = f"{failed[0].name}: {failed[0].error}"
        return result
    fold_lists = [p.folds for p in parts if p is not None]
    if len({len(f) for f in fold_lists}) != 1:
        result.error = "its parts were backtested on different folds"
        return result
    for folds in zip(*fold_lists, strict=True):
        if any(f.train_end != folds[0].train_end for f in folds):
            result.error = "its parts were backtested on different folds"
            return result
        frames = {name: f.forecast for name, f in zip(weights, folds, strict=True)}
        head = folds[0]
        result.folds.append(
            Fold(
                head.number,
                mean_frame(frames, weights),
                head.train_start,
                head.train_end,
                head.scale,
                sum(f.seconds for f in folds),
            )
        )
    result.scores = backtest.score(result.folds, step)
    return result


class Combined:
    """The parts behind the one-series protocol: ``fit`` and ``update`` move every part,
    ``predict`` is the weighted mean of their forecasts.

    Given ``weights``, it is made of exactly those parts. Given a ``horizon`` instead (steps;
    the registry's way), it holds every part either horizon may need and, at ``fit``, takes
    the weights of that horizon at the history's resolution (``weights_for``) and fits only
    the parts they name."""

    name = NAME

    def __init__(
        self,
        parts: Mapping[str, Forecaster],
        weights: Mapping[str, float] | None = None,
        horizon: int | None = None,
    ) -> None:
        if weights is None and horizon is None:
            raise Invalid("weights", f"{NAME} needs its weights or the horizon that sets them")
        needed = list(weights) if weights is not None else list(PARTS)
        exact = weights is not None  # exactly those parts; else at least every part
        if not set(needed) <= set(parts) or (exact and set(parts) != set(needed)):
            raise Invalid("model", f"{NAME} is made of {', '.join(needed)}")
        if weights is not None and (
            abs(sum(weights.values()) - 1.0) > 1e-9 or min(weights.values()) < 0
        ):
            raise Invalid("weights", "non-negative, summing to 1")
        self.parts = {n: parts[n] for n in needed}
        self.weights = dict(weights) if weights is not None else None
        self.horizon = horizon
        caps = [p.capabilities for p in self.parts.values()]
        longest = [c.max_horizon for c in caps if c.max_horizon is not None]
        self.capabilities = Capabilities(
            intervals="conformal",
            exogenous=any(c.exogenous for c in caps),
            holidays=any(c.holidays for c in caps),
            max_horizon=min(longest) if longest else None,
            min_history=max(c.min_history for c in caps),
        )

    def params(self) -> dict:
        return {"weights": self.weights, **{n: p.params() for n, p in self.parts.items()}}

    def fit(self, history: pd.DataFrame) -> Self:
        if self.weights is None:
            assert self.horizon is not None  # __init__: one or the other
            day = steps_per(pd.DatetimeIndex(history.index), "day")
            self.weights = weights_for(self.horizon, day)
            self.parts = {n: self.parts[n] for n in self.weights}
        for part in self.parts.values():
            part.fit(history)
        return self

    def update(self, history: pd.DataFrame) -> Self:
        for part in self.parts.values():
            part.update(history)
        return self

    def predict(self, horizon: int, exog: pd.DataFrame | None = None) -> pd.DataFrame:
        if self.weights is None:
            raise Invalid("model", f"{NAME} is not fitted")
        frames = {n: p.predict(horizon, exog) for n, p in self.parts.items()}
        return mean_frame(frames, self.weights)


def check_parts(models: Sequence[str], weights: Mapping[str, float]) -> None:
    """``Invalid`` when a bench run asks for the combination without all of its parts for the
    run's horizon (``weights``, from ``weights_for``): it is scored from their folds."""
    missing = [p for p in weights if p not in models]
    if NAME in models and missing:
        raise Invalid(
            "models", f"{NAME} is scored from {', '.join(weights)}: add {', '.join(missing)}"
        )


def derive(results: dict[str, ModelResult], data: pd.DataFrame) -> None:
    """Add the combination's backtest to ``results`` (in place) when all the parts of the
    folds' horizon (``weights_for``) are there."""
    first = next((r for r in results.values() if r.error is None and r.folds), None)
    if first is None:
        return
    index = pd.DatetimeIndex(data.index)
    weights = weights_for(len(first.folds[0].forecast), steps_per(index, "day"))
    found = combined_result(results, pd.Timedelta(index.freq), weights)
    if found is not None:
        results[NAME] = found


__all__ = [
    "DAY_WEIGHTS",
    "GROUP_PART",
    "LONG_WEIGHTS",
    "NAME",
    "PARTS",
    "Combined",
    "check_parts",
    "combined_result",
    "derive",
    "mean_frame",
    "weighted_mean",
    "weights_for",
]
