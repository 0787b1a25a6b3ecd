"""The linear model (``linear``): the next horizon as a fitted weighting of the last weeks,
read against the last day's level, worked on series whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import Invalid
from forecasting import groups
from forecasting.base import POINT
from forecasting.linear import LONG_WINDOWS, LinearDirect, LinearGroup, fits, pools, windows_for
from forecasting.registry import ModelContext, make


def _hourly(days: int, seed: int = 0, noise: float = 0.5) -> pd.DataFrame:
    """10 kW at night, 50 kW from 08:00 to 18:00, every day, plus noise."""
    index = pd.date_range("2025-01-06", periods=days * 24, freq="1h")
    rng = np.random.default_rng(seed)
    y = np.where((index.hour >= 8) & (index.hour < 18), 50.0, 10.0) + rng.normal(
        0, noise, index.size
    )
    return pd.DataFrame({"y": y}, index=index)


def test_a_daily_shape_is_forecast_a_week_ahead() -> None:
    """Worked by hand: every day is 10 kW at night and 50 kW from 08:00 to 18:00, so each of the
    next 168 hours is known to within the noise (0.5 kW)."""
    frame = _hourly(120)
    out = make("linear", ModelContext(168)).fit(frame).predict(168)
    hours = out.index.hour
    want = np.where((hours >= 8) & (hours < 18), 50.0, 10.0)
    assert np.abs(out[POINT].to_numpy() - want).mean() < 0.5
    inside = (out["q05"].to_numpy() <= want) & (want <= out["q95"].to_numpy())
    assert inside.mean() > 0.9


def test_the_same_forecast_in_any_unit_and_from_any_offset() -> None:
    """Inputs and outputs are read against the last day's mean and the penalty scales with the
    data, so the same meter in MWh with a 5 MWh offset gets the forecast in kWh divided by
    1,000 plus 5 — every point and quantile (worked by hand: f(a·y + c) = a·f(y) + c)."""
    frame = _hourly(60, seed=1)
    kwh = LinearDirect(24).fit(frame).predict(24)
    mwh = LinearDirect(24).fit(frame / 1000 + 5).predict(24)
    assert np.allclose(mwh.to_numpy(), kwh.to_numpy() / 1000 + 5, rtol=0, atol=1e-9)


def test_beyond_a_day_the_forecast_is_the_mean_of_the_three_windows_maps() -> None:
    """The rule ``windows_for``: day-ahead the last 14 days, beyond a day the maps from the last
    7, 14 and 28 days, averaged — the same as three one-window models' points, averaged."""
    assert windows_for(24, 24) == (14,) and windows_for(96, 96) == (14,)
    assert windows_for(168, 24) == LONG_WINDOWS == (7, 14, 28)
    frame = _hourly(150, seed=4, noise=3.0)
    frame = frame.assign(y=frame["y"] + np.linspace(0, 20, len(frame)))  # a drift to follow
    three = LinearDirect(168).fit(frame).predict(168)[POINT].to_numpy()
    ones = [
        LinearDirect(168, window_days=(w,)).fit(frame).predict(168)[POINT].to_numpy()
        for w in LONG_WINDOWS
    ]
    assert np.allclose(three, np.mean(ones, axis=0), rtol=0, atol=1e-9)
    assert not np.allclose(ones[0], ones[2], rtol=0, atol=0.1)  # the windows do differ


def test_a_fitted_model_says_its_windows_and_they_remake_it() -> None:
    """A stored run's parameters name the windows the rule chose, and a model made from them
    forecasts the same."""
    frame = _hourly(80, seed=5, noise=2.0)
    assert LinearDirect(168).params()["window_days"] is None  # not fitted: the rule
    week = LinearDirect(168).fit(frame)
    assert week.params()["window_days"] == (7, 14, 28)
    assert LinearDirect(24).fit(frame).params()["window_days"] == (14,)
    again = LinearDirect(168, **week.params()).fit(frame)
    assert again.predict(168).equals(week.predict(168))


def test_update_moves_the_origin_and_keeps_the_weights() -> None:
    frame = _hourly(60)
    model = LinearDirect(24).fit(frame.iloc[:-24])
    weights = model._weights  # noqa: SLF001 - the fitted weights must be kept
    model.update(frame)
    out = model.predict(24)
    assert model._weights is weights  # noqa: SLF001
    assert out.index[0] == frame.index[-1] + pd.Timedelta("1h")
    with pytest.raises(Invalid, match="horizon"):
        model.predict(25)


def test_a_short_history_takes_a_quarter_of_itself_and_too_short_is_a_clear_error() -> None:
    assert len(LinearDirect(24).fit(_hourly(8)).predict(24)) == 24  # 2-day window and calibration
    with pytest.raises(Invalid, match="history") as info:
        LinearDirect(168).fit(_hourly(9))
    assert info.value.field == "history"
    with pytest.raises(Invalid, match="history") as info:
        LinearDirect(24).fit(_hourly(8)).update(_hourly(8).iloc[-30:])
    assert "the last 2 days" in info.value.reason  # the window it was fitted with


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"window_days": (0,)}, "window_days"),
        ({"window_days": ()}, "window_days"),
        ({"calibration_days": 0}, "calibration_days"),
        ({"max_train_days": 0}, "max_train_days"),
        ({"max_samples": 0}, "max_samples"),
        ({"ridge": 0}, "ridge"),
        ({"ridge": -1}, "ridge"),
        ({"widen": 0}, "widen"),
    ],
)
def test_bad_settings_name_their_field(params: dict, field: str) -> None:
    with pytest.raises(Invalid) as info:
        LinearDirect(24, **params)
    assert info.value.field == field


def test_gaps_are_interpolated_and_never_scored() -> None:
    frame = _hourly(60)
    frame.iloc[-30:-20, 0] = np.nan  # ten missing hours in the last days
    out = LinearDirect(24).fit(frame).predict(24)
    assert np.isfinite(out.to_numpy()).all()


def test_bands_take_the_measured_stretch_halfway_day_ahead_and_whole_week_ahead() -> None:
    """``lgbm_global``'s rule: the stretch ``later_widen`` measured on the calibration days,
    its square root day-ahead, whole a week ahead; a number fixes it."""
    frame = _hourly(120, seed=2)
    y = frame["y"].to_numpy().copy()  # noise growing over the last two weeks
    y[-14 * 24 :] += 6.0 * np.random.default_rng(3).standard_normal(14 * 24)
    frame = frame.assign(y=y)
    for horizon, power in ((24, 0.5), (168, 1.0)):
        bands = LinearDirect(horizon).fit(frame)._bands  # noqa: SLF001
        assert bands is not None and bands.measured_widen is not None
        assert bands.measured_widen > 1.2  # a stretch, not the identity
        assert bands.chosen_widen == pytest.approx(bands.measured_widen**power)
    fixed = LinearDirect(24, widen=1.0).fit(frame)._bands  # noqa: SLF001
    assert fixed is not None and fixed.chosen_widen == 1.0


def test_beyond_a_day_a_site_s_series_pool_their_maps() -> None:
    """The rule: pooled beyond a day only. One series alone is its own ``linear`` (the scale
    cancels in the ridge solution). Two series of one shape, one a thousand times the other,
    pool into that series' own maps (each is divided by its mean absolute value), so each
    forecast is its own. Two series of different shapes share one set of maps, which neither
    series alone would fit; every member's params name the group."""
    assert pools(168, 24) and pools(97, 96)
    assert not pools(24, 24) and not pools(96, 96)
    a = _hourly(70, seed=1)
    alone = LinearDirect(168).fit(a).predict(168)
    one = LinearGroup(168).fit_many({"a": a}).predict_many()["a"]
    np.testing.assert_allclose(one.to_numpy(), alone.to_numpy(), rtol=1e-8, atol=1e-8)
    big = a * 1000.0
    pair = LinearGroup(168, "S1").fit_many({"a": a, "big": big})
    out = pair.predict_many()
    np.testing.assert_allclose(out["a"][POINT], alone[POINT], rtol=1e-6)
    np.testing.assert_allclose(out["big"][POINT], 1000.0 * alone[POINT], rtol=1e-6)
    assert pair.members["a"].params()["group"] == "S1"
    assert pair.members["big"].params()["group_series"] == 2
    assert "group" not in LinearDirect(168).fit(a).params()
    index = a.index
    other = pd.DataFrame({"y": 30.0 + 20.0 * np.sin(2 * np.pi * index.hour / 24)}, index=index)
    mixed = LinearGroup(168).fit_many({"a": a, "other": other})
    shared = [m._weights for m in mixed.members.values()]
    for left, right in zip(*shared, strict=True):
        np.testing.assert_array_equal(left, right)
    own = LinearDirect(168).fit(a)
    assert not np.allclose(mixed.members["a"]._weights[0], own._weights[0])


def test_a_member_too_short_for_linear_sits_the_pooling_out() -> None:
    """A new meter of 20 days cannot hold a week-ahead window, its calibration days and the
    horizon: the site's other two still pool (backtested and fitted, no error), and it is
    left to fail alone as its own linear does, not failing theirs."""
    long_a, long_b = _hourly(70, seed=1), _hourly(70, seed=2) * 3.0
    short = _hourly(20, seed=3)
    assert fits(168, long_a) and not fits(168, short)
    frames = {"a": long_a, "b": long_b, "new": short}
    horizons = dict.fromkeys(frames, 168)
    found = groups.backtest_linear(frames, horizons, 1)
    assert set(found) == {"a", "b"}
    assert all(r.error is None and r.scores["mase"] > 0 for r in found.values())
    fitted = groups.fit_linear(frames, horizons, "S1")
    assert set(fitted) == {"a", "b"} and fitted["a"].params()["group_series"] == 2
    assert groups.fit_linear({"a": long_a, "new": short}, horizons, "S1") == {}
