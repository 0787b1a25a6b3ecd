"""Every model behind one protocol; baselines exactly; the tree model and Prophet follow the
working-day calendar; quality gates on the steel plant's real load."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.errors import Invalid
from forecasting.backtest import rolling_origin
from forecasting.base import QUANTILE_COLUMNS, Forecaster
from forecasting.calendar import HolidayCalendar
from forecasting.registry import MODEL_NAMES, ModelContext, factories, make
from tests.support.paths import SHARED_DATA

STEEL = SHARED_DATA / "steel_industry_energy" / "Steel_industry_data.csv"
CN = HolidayCalendar("CN")


def plant(
    start: str, days: int, freq: str = "15min", seed: int = 0, noise: float = 3.0
) -> pd.DataFrame:
    """A plant load: 100 kW from 08:00 to 17:00 on working days (China's calendar, make-up
    Saturdays included), 10 kW otherwise, plus noise; an outdoor temperature beside it."""
    index = pd.date_range(start, periods=days * pd.Timedelta("1D") // pd.Timedelta(freq), freq=freq)
    off = CN.day_flags(index.normalize().unique())["off"].reindex(index.normalize()).to_numpy()
    working_hours = (index.hour >= 8) & (index.hour < 17)
    rng = np.random.default_rng(seed)
    y = np.where(working_hours & ~off, 100.0, 10.0) + rng.normal(0, noise, index.size)
    day = (index.normalize() - index[0].normalize()).days.to_numpy()
    weather = rng.uniform(-6, 6, day.max() + 1)[day]  # a random warm or cold day
    temp = 20 + weather + 4 * np.sin(2 * np.pi * (index.hour.to_numpy() - 9) / 24)
    frame = pd.DataFrame({"y": np.maximum(y, 0), "temp_c": temp}, index=index)
    frame.index.freq = freq
    return frame


@pytest.mark.parametrize(
    "name", [n if n != "prophet" else pytest.param(n, marks=pytest.mark.slow) for n in MODEL_NAMES]
)
def test_every_model_follows_the_protocol(name: str) -> None:
    if name.startswith("sf_"):
        pytest.importorskip("statsforecast")
    history = plant("2024-09-01", 21)[["y"]]
    model = make(name, ModelContext(96, CN))
    assert isinstance(model, Forecaster) and model.name == name
    assert model.fit(history) is model
    forecast = model.predict(96)
    assert forecast.index.equals(
        pd.date_range(history.index[-1] + pd.Timedelta("15min"), periods=96, freq="15min")
    )
    assert list(forecast.columns) == ["yhat", *QUANTILE_COLUMNS]
    values = forecast.to_numpy()
    assert np.isfinite(values).all() and values.min() >= 0  # a load never goes negative
    assert (np.diff(forecast[list(QUANTILE_COLUMNS)].to_numpy(), axis=1) >= 0).all()
    json.dumps(model.params())
    assert model.capabilities.intervals in ("conformal", "native")
    assert model.update(history) is model


def test_seasonal_naive_repeats_yesterday_and_last_week() -> None:
    index = pd.date_range("2024-01-01", periods=24 * 21, freq="h")
    y = np.arange(index.size, dtype=float)
    history = pd.DataFrame({"y": y}, index=index)
    history.index.freq = "h"
    daily = make("naive_daily", ModelContext(48)).fit(history).predict(48)
    np.testing.assert_array_equal(daily["yhat"], np.tile(y[-24:], 2))
    weekly = make("naive_weekly", ModelContext(24)).fit(history).predict(24)
    np.testing.assert_array_equal(weekly["yhat"], y[-168:-144])
    history.iloc[-3, 0] = np.nan  # a missing value takes the season before
    filled = make("naive_daily", ModelContext(24)).fit(history).predict(24)
    assert filled["yhat"].iloc[-3] == y[-3 - 24]


def test_tree_model_works_a_make_up_saturday() -> None:
    # 2024: National Day 1–7 October off; Saturday 12 October is a working day (调休)
    history = plant("2024-08-15", 58)  # up to Friday 11 October 23:45
    assert history.index[-1] == pd.Timestamp("2024-10-11 23:45")
    forecast = make("hgb", ModelContext(96, CN)).fit(history[["y"]]).predict(96)
    noon = forecast["yhat"].at[pd.Timestamp("2024-10-12 12:00")]
    night = forecast["yhat"].at[pd.Timestamp("2024-10-12 03:00")]
    assert noon > 70 and night < 30
    weekly = make("naive_weekly", ModelContext(96)).fit(history[["y"]]).predict(96)
    assert weekly["yhat"].at[pd.Timestamp("2024-10-12 12:00")] < 30  # a holiday a week ago


def test_tree_model_uses_exogenous_inputs_and_asks_for_them() -> None:
    frame = plant("2024-03-01", 35, freq="1h", noise=1.0)
    frame["y"] = frame["y"] + 8 * (frame["temp_c"] - 20)  # cooling load
    history, future = frame.iloc[:-24], frame.iloc[-24:]
    with_temp = make("hgb", ModelContext(24, CN, ("temp_c",))).fit(history)
    without = make("hgb", ModelContext(24, CN)).fit(history[["y"]])
    err_with = np.abs(with_temp.predict(24, future[["temp_c"]])["yhat"] - future["y"]).mean()
    err_without = np.abs(without.predict(24)["yhat"] - future["y"]).mean()
    assert err_with < 0.7 * err_without
    with pytest.raises(Invalid, match="temp_c"):
        with_temp.predict(24)
    with pytest.raises(Invalid, match="trained for 24 steps"):
        with_temp.predict(48, future[["temp_c"]])


def test_tree_model_update_moves_the_origin_without_refitting() -> None:
    frame = plant("2024-04-01", 30, freq="1h")[["y"]]
    model = make("hgb", ModelContext(24, CN)).fit(frame.iloc[:-24])
    trees = model._model  # noqa: SLF001 - the fitted estimator must be kept
    model.update(frame)
    forecast = model.predict(24)
    assert model._model is trees  # noqa: SLF001
    assert forecast.index[0] == frame.index[-1] + pd.Timedelta("1h")


def test_too_short_a_history_is_a_clear_error() -> None:
    with pytest.raises(Invalid, match="days of history"):
        make("hgb", ModelContext(96, CN)).fit(plant("2024-04-01", 6)[["y"]])


def test_conformal_intervals_cover_on_a_backtest() -> None:
    frame = plant("2024-04-01", 28, freq="1h")[["y"]]
    results = rolling_origin(
        frame, factories(["naive_daily", "hgb"], ModelContext(24, CN)), horizon=24, folds=5
    )
    for result in results.values():
        assert 0.8 <= result.scores["coverage_90"] <= 1.0
    assert results["hgb"].scores["mase"] < results["naive_daily"].scores["mase"]


@pytest.mark.slow
def test_prophet_follows_the_working_day_calendar() -> None:
    history = plant("2024-08-15", 58, freq="1h")[["y"]]
    forecast = make("prophet", ModelContext(24, CN), history_days=40).fit(history).predict(24)
    saturday_noon = forecast["yhat"].at[pd.Timestamp("2024-10-12 12:00")]
    assert saturday_noon > 60  # a make-up working day, not a weekend
    lo, hi = forecast["q05"], forecast["q95"]
    assert (lo <= forecast["yhat"]).all() and (forecast["yhat"] <= hi).all()


@pytest.mark.slow
@pytest.mark.shared_data
@pytest.mark.skipif(not STEEL.exists(), reason="../shared/data is absent")
def test_steel_plant_day_ahead_beats_the_weekly_naive() -> None:
    """Quality gate on real load (two day-ahead folds, seed fixed by the model); the full
    benchmark is ``ecc bench forecast`` (see forecasting/README.md)."""
    from forecasting.data import read_series_csv

    steel = read_series_csv(STEEL, "date", "Usage_kWh", fix_midnight=True, tz="+09:00")
    frame = steel.frame.iloc[: 96 * 200]  # to mid-July: a fast, ordinary stretch
    results = rolling_origin(
        frame,
        factories(["naive_weekly", "hgb"], ModelContext(96, HolidayCalendar("KR"))),
        horizon=96,
        folds=2,
        step=96 * 3,
    )
    hgb, naive = results["hgb"].scores, results["naive_weekly"].scores
    assert hgb["mase"] <= 0.8 and hgb["mase"] < naive["mase"]
    assert hgb["pinball"] < naive["pinball"]
