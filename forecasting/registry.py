"""The models by name, built the same way everywhere (bench, nightly selection, refresh)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import cast

from core.errors import Invalid
from forecasting.base import Forecaster
from forecasting.calendar import HolidayCalendar
from forecasting.combined import NAME

MODEL_NAMES = (
    "naive_daily",
    "naive_weekly",
    "sf_naive",
    "sf_mstl",
    "prophet",
    "hgb",
    "linear",
    "lgbm_global",
    "combined",
)
BASELINE = "naive_weekly"
# the seasonal-naive baselines a model has to beat, and every fast statistical floor
SEASONAL_NAIVE = ("naive_daily", "naive_weekly", "sf_naive")
BASELINES = (*SEASONAL_NAIVE, "sf_mstl")
GLOBAL = "lgbm_global"  # trained across the series of a group (``GlobalGBM.fit_many``)
COMBINED = NAME  # the weighted mean of hgb, lgbm_global (and linear) (``forecasting.combined``)


@dataclass(frozen=True)
class ModelContext:
    """What every model of one series is built with."""

    horizon: int
    calendar: HolidayCalendar = field(default_factory=HolidayCalendar)
    exog: tuple[str, ...] = ()


def make(name: str, context: ModelContext, **params: object) -> Forecaster:
    if name == "naive_daily":
        from forecasting.naive import SeasonalNaive

        return SeasonalNaive("day", **params)  # type: ignore[arg-type]
    if name == "naive_weekly":
        from forecasting.naive import SeasonalNaive

        return SeasonalNaive("week", **params)  # type: ignore[arg-type]
    if name == "hgb":
        from forecasting.gbm import GradientBoosting

        return GradientBoosting(context.horizon, context.calendar, context.exog, **params)  # type: ignore[arg-type]
    if name == "linear":
        from forecasting.linear import LinearDirect

        return LinearDirect(context.horizon, **params)  # type: ignore[arg-type]
    if name in ("sf_naive", "sf_mstl"):
        from forecasting.stats_models import StatsForecastModel

        return StatsForecastModel(name.removeprefix("sf_"), **params)  # type: ignore[arg-type]
    if name == GLOBAL:
        from forecasting.global_model import GlobalGBM

        return GlobalGBM(context.horizon, context.calendar, context.exog, **params)  # type: ignore[arg-type]
    if name == COMBINED:
        from forecasting.combined import PARTS, Combined  # noqa: PLC0415 - as the others

        stray = sorted(set(params) - {"weights"})  # its parts take their own settings
        if stray:
            raise Invalid("params", f"{COMBINED} takes only weights, not {', '.join(stray)}")
        weights = cast("Mapping[str, float] | None", params.get("weights"))
        names = list(weights) if weights else PARTS  # given: those; else the horizon's, at fit
        return Combined({part: make(part, context) for part in names}, weights, context.horizon)
    if name == "prophet":
        from forecasting.prophet_model import ProphetModel

        return ProphetModel(context.calendar, context.exog, **params)  # type: ignore[arg-type]
    raise Invalid("model", f"unknown model {name!r}; known: {', '.join(MODEL_NAMES)}")


def factories(names: Sequence[str], context: ModelContext) -> dict[str, Callable[[], Forecaster]]:
    """One factory per model name: a backtest builds a fresh model for every fold."""
    for name in names:
        if name not in MODEL_NAMES:
            raise Invalid("model", f"unknown model {name!r}; known: {', '.join(MODEL_NAMES)}")
    return {name: partial(make, name, context) for name in names}
