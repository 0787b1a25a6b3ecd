"""``combined``: the weighted mean of ``hgb`` and ``lgbm_global``, point and quantiles alike.

The two models err differently — ``hgb`` is fitted per series through the origin,
``lgbm_global`` across a group from the last day's level — so their weighted mean beats
either on most series and its averaged bands cover nearer 90 % than either's. The weights
(``WEIGHTS``: 0.2 ``hgb``, 0.8 ``lgbm_global``) were chosen on the tuning series only, the
same on both horizons (forecasting/README.md, round 7: mean ratio to the better seasonal
naive 0.743 day-ahead and 0.836 week-ahead there, against 0.748 and 0.846 for
``lgbm_global`` alone).

Averaging quantiles (not mixing the two distributions) keeps each level's forecast between
the two models' and never crosses: the mean of two sorted rows is sorted.

In a backtest the combination is not fitted again: ``combined_result`` averages the fold
forecasts both models already made on the same folds (the nightly selection and the bench
suite backtest both anyway). Fitted for a forecast, ``Combined`` holds both models; in a
site's group the ``lgbm_global`` part is the group's model (``groups.Member``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Self

import numpy as np
import pandas as pd

from core.errors import Invalid
from forecasting import backtest
from forecasting.backtest import Fold, ModelResult
from forecasting.base import POINT, QUANTILE_COLUMNS, Capabilities, Forecaster

NAME = "combined"
WEIGHTS: dict[str, float] = {"hgb": 0.2, "lgbm_global": 0.8}
PARTS = tuple(WEIGHTS)


def weighted_mean(
    values: Mapping[str, np.ndarray], weights: Mapping[str, float] = WEIGHTS
) -> np.ndarray:
    """The rule of the combination: Σ weight × the part's values (points or quantiles, the
    same shape for every part)."""
    return sum(weights[n] * np.asarray(values[n], dtype=float) for n in weights)  # type: ignore[return-value]


def mean_frame(
    frames: Mapping[str, pd.DataFrame], weights: Mapping[str, float] = WEIGHTS
) -> pd.DataFrame:
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
    results: Mapping[str, ModelResult],
    step: pd.Timedelta,
    weights: Mapping[str, float] = WEIGHTS,
) -> ModelResult | None:
    """The combination's backtest from its parts' results on the same folds (None when a
    part is missing); a part's error is the combination's."""
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
    """Both models behind the one-series protocol: ``fit`` and ``update`` move both,
    ``predict`` is the weighted mean of their forecasts."""

    name = NAME

    def __init__(
        self, parts: Mapping[str, Forecaster], weights: Mapping[str, float] = WEIGHTS
    ) -> None:
        if set(parts) != set(weights):
            raise Invalid("model", f"{NAME} is made of {', '.join(weights)}")
        if abs(sum(weights.values()) - 1.0) > 1e-9 or min(weights.values()) < 0:
            raise Invalid("weights", "non-negative, summing to 1")
        self.parts = {n: parts[n] for n in weights}
        self.weights = dict(weights)
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
        for part in self.parts.values():
            part.fit(history)
        return self

    def update(self, history: pd.DataFrame) -> Self:
        for part in self.parts.values():
            part.update(history)
        return self

    def predict(self, horizon: int, exog: pd.DataFrame | None = None) -> pd.DataFrame:
        frames = {n: p.predict(horizon, exog) for n, p in self.parts.items()}
        return mean_frame(frames, self.weights)


def check_parts(models: Sequence[str]) -> None:
    """``Invalid`` when a bench run asks for the combination without both of its parts (it
    is scored from their folds)."""
    missing = [p for p in PARTS if p not in models]
    if NAME in models and missing:
        raise Invalid(
            "models", f"{NAME} is scored from {' and '.join(PARTS)}: add {', '.join(missing)}"
        )


def derive(results: dict[str, ModelResult], data: pd.DataFrame) -> None:
    """Add the combination's backtest to ``results`` (in place) when both parts are there."""
    found = combined_result(results, pd.Timedelta(pd.DatetimeIndex(data.index).freq))
    if found is not None:
        results[NAME] = found


__all__ = [
    "NAME",
    "PARTS",
    "WEIGHTS",
    "Combined",
    "check_parts",
    "combined_result",
    "derive",
    "mean_frame",
    "weighted_mean",
]
