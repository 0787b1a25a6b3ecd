"""The global LightGBM model across a group of series, and the statsforecast baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import Invalid
from forecasting.backtest import rolling_origin, rolling_origin_group
from forecasting.base import LOWER_90, POINT, QUANTILE_COLUMNS, UPPER_90
from forecasting.calendar import HolidayCalendar
from forecasting.global_model import GlobalGBM
from forecasting.registry import ModelContext, factories, make

CN = HolidayCalendar("CN")
LIGHT = {"n_estimators": 60, "learning_rate": 0.2, "rows_per_series": 2000}


def group(count: int, start: str, days: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """``count`` hourly plant loads with one shared pattern: 08:00–17:00 at full load on
    China's working days (make-up Saturdays included, the National Day week off), a tenth of
    it otherwise; each series at its own level (10 kW … 10 MW) with 3 % noise."""
    index = pd.date_range(start, periods=days * 24, freq="1h")
    off = CN.day_flags(index.normalize().unique())["off"].reindex(index.normalize()).to_numpy()
    on = (index.hour >= 8) & (index.hour < 17) & ~off
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(count):
        level = 10.0 * 10 ** (3 * i / max(count - 1, 1))
        y = level * np.where(on, 1.0, 0.1) * (1 + 0.03 * rng.standard_normal(index.size))
        frame = pd.DataFrame({"y": y}, index=index)
        frame.index.freq = "1h"
        out[f"meter {i}"] = frame
    return out


def test_global_model_beats_the_seasonal_naive_across_a_group() -> None:
    # folds over the National Day week of 2024 (1–7 October off, Sunday 29 September and
    # Saturday 12 October worked): last week's value is wrong on every changed day, the
    # calendar the global model learnt from the other series' working days is not
    data = group(4, "2024-06-01", 134)  # 1 June … 12 October: 12 folds from 1 October
    horizons = {name: 24 for name in data}
    glob = rolling_origin_group(data, lambda: GlobalGBM(24, CN, **LIGHT), horizons, folds=12)
    for name, frame in data.items():
        naive = rolling_origin(frame, factories(["naive_weekly"], ModelContext(24, CN)), 24, 12)
        ours, theirs = glob[name].scores["mase"], naive["naive_weekly"].scores["mase"]
        assert glob[name].error is None
        assert ours < 0.5 * theirs, (name, ours, theirs)
        # one model for all: the 10 kW and the 10 MW meter are forecast equally well
        assert glob[name].scores["wape"] < 0.12


def test_global_intervals_cover_and_quantiles_are_ordered() -> None:
    data = group(3, "2024-03-01", 70, seed=1)
    glob = rolling_origin_group(
        data, lambda: GlobalGBM(24, CN, **LIGHT), {n: 24 for n in data}, folds=10
    )
    for result in glob.values():
        assert 0.8 <= result.scores["coverage_90"] <= 0.99
        last = result.folds[-1].forecast
        q = last[list(QUANTILE_COLUMNS)].to_numpy()
        assert (np.diff(q, axis=1) >= 0).all()
        assert (last[LOWER_90] <= last[POINT]).all() and (last[POINT] <= last[UPPER_90]).all()


def test_global_model_scales_per_series_and_updates_without_refitting() -> None:
    data = group(2, "2024-03-01", 42)
    model = GlobalGBM(24, CN, **LIGHT).fit_many(data)
    first = model.predict_many()
    # the 10 MW meter's forecast is 1000 × the 10 kW meter's, within the noise
    ratio = first["meter 1"][POINT].sum() / first["meter 0"][POINT].sum()
    assert 900 < ratio < 1100
    booster = model._model
    newer = {
        n: pd.concat([f, f.iloc[-24:].set_axis(f.index[-24:] + pd.Timedelta(days=1))])
        for n, f in data.items()
    }
    for f in newer.values():
        f.index.freq = "1h"
    model.update_many(newer)
    assert model._model is booster
    moved = model.predict_many()["meter 0"]
    assert moved.index[0] == first["meter 0"].index[0] + pd.Timedelta(days=1)
    with pytest.raises(Invalid, match="not in the fitted group"):
        model.update_many({"meter 9": data["meter 0"]})


def test_global_model_takes_a_longer_horizon_per_series() -> None:
    data = group(2, "2024-03-01", 42)
    model = GlobalGBM(24, CN, **LIGHT).fit_many(data, {"meter 0": 24, "meter 1": 168})
    out = model.predict_many({"meter 0": 24, "meter 1": 168})
    assert (len(out["meter 0"]), len(out["meter 1"])) == (24, 168)
    with pytest.raises(Invalid, match="prepared for 24 steps"):
        model.predict_many({"meter 0": 48})


def test_statsforecast_seasonal_naive_agrees_with_ours() -> None:
    pytest.importorskip("statsforecast")
    # hand-worked: y = 10 × weekday + hour, hourly, two whole weeks from Monday 2024-03-04;
    # the next step is Monday 00:00 (10·0 + 0 = 0), the 35th is Tuesday 10:00 (10·1 + 10)
    index = pd.date_range("2024-03-04", periods=14 * 24, freq="1h")
    history = pd.DataFrame({"y": 10.0 * index.day_of_week + index.hour}, index=index)
    history.index.freq = "1h"
    context = ModelContext(48)
    ours = make("naive_weekly", context).fit(history).predict(48)[POINT]
    theirs = make("sf_naive", context).fit(history).predict(48)[POINT]
    assert theirs.iloc[0] == 0.0 and theirs.iloc[34] == 20.0 and theirs.iloc[47] == 33.0
    np.testing.assert_allclose(theirs.to_numpy(), ours.to_numpy())


def test_statsforecast_mstl_follows_a_daily_and_weekly_pattern() -> None:
    pytest.importorskip("statsforecast")
    index = pd.date_range("2024-03-04", periods=21 * 24, freq="1h")
    rng = np.random.default_rng(0)
    y = 50 + 20 * (index.hour >= 8) * (index.day_of_week < 5) + rng.normal(0, 1, index.size)
    history = pd.DataFrame({"y": y}, index=index)
    history.index.freq = "1h"
    forecast = make("sf_mstl", ModelContext(24)).fit(history).predict(24)
    # Monday 25 March: 50 before 08:00, 70 from 08:00
    assert abs(forecast[POINT].iloc[3] - 50) < 4 and abs(forecast[POINT].iloc[12] - 70) < 4
    assert (forecast[LOWER_90] < forecast[POINT]).all()
