"""The global LightGBM model across a group of series, and the statsforecast baselines."""

from __future__ import annotations

from functools import partial

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
LEVEL = {**LIGHT, "target": "level"}


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
    boosters = list(model._models)
    newer = {
        n: pd.concat([f, f.iloc[-24:].set_axis(f.index[-24:] + pd.Timedelta(days=1))])
        for n, f in data.items()
    }
    for f in newer.values():
        f.index.freq = "1h"
    model.update_many(newer)
    assert len(boosters) == 3 and all(a is b for a, b in zip(model._models, boosters, strict=True))
    moved = model.predict_many()["meter 0"]
    assert moved.index[0] == first["meter 0"].index[0] + pd.Timedelta(days=1)
    with pytest.raises(Invalid, match="not in the fitted group"):
        model.update_many({"meter 9": data["meter 0"]})


def test_bags_share_the_training_budget() -> None:
    """Three bags of a small group each get their own sample within ``max_rows``; when the
    floor of 200 rows a series already fills the budget, one model is trained."""
    data = group(2, "2024-03-01", 42)
    small = GlobalGBM(24, CN, **{**LIGHT, "rows_per_series": 1000, "max_rows": 3000})
    small.fit_many(data)
    # 3000 // (2 series × 3 bags) = 500 rows a series in each bag
    assert (small.trained_bags, small.trained_rows) == (3, 3000)
    assert len({m.model_to_string() for m in small._models}) == 3  # not one model thrice
    tight = GlobalGBM(24, CN, **{**LIGHT, "max_rows": 300}).fit_many(data)
    assert (tight.trained_bags, tight.trained_rows) == (1, 2 * 200)  # the floor over the cap
    with pytest.raises(Invalid, match="bags"):
        GlobalGBM(24, CN, bags=0)


def test_local_level_follows_a_level_the_training_never_held() -> None:
    """A 10 kW meter joined by a 20 kW load running day and night for its last two days:
    forecast from the last day's level (``target="day"``), tomorrow is near the new level;
    trees forecasting the level itself cannot leave the range of their leaves (never above
    about 10 kW in training) and stay far below. Worked by hand: tomorrow is 20 kW plus the
    usual 10 kW in working hours, 1 kW otherwise."""
    frame = group(1, "2024-03-01", 60, seed=3)["meter 0"]
    frame.iloc[-48:, 0] += 20.0
    tomorrow = pd.date_range(frame.index[-1] + pd.Timedelta(hours=1), periods=24, freq="1h")
    off = CN.day_flags(tomorrow.normalize().unique())["off"].reindex(tomorrow.normalize())
    on = (tomorrow.hour >= 8) & (tomorrow.hour < 17) & ~off.to_numpy()
    actual = 20.0 + 10.0 * np.where(on, 1.0, 0.1)
    errors = {}
    for target in ("day", "level"):
        params = {**LIGHT, "target": target, "blend": False}
        out = GlobalGBM(24, CN, **params).fit_many({"m": frame}).predict_many()["m"]
        errors[target] = float(np.abs(out[POINT].to_numpy() - actual).mean())
    assert errors["day"] < 2.0 < 10.0 < errors["level"]


def test_tree_input_is_relative_to_the_last_days_mean() -> None:
    """Worked by hand: a row with the last day's mean 2.0 and level features 3.0 reads 1.0
    for each of them; the mean itself, the calendar and the statics are left alone."""
    from forecasting.global_model import _LEVEL_COLUMNS, FEATURES

    x = np.full((1, len(FEATURES)), 3.0)
    x[0, FEATURES.index("mean_day")] = 2.0
    out = GlobalGBM(24, CN)._tree_input(x)
    level = {FEATURES[i] for i in _LEVEL_COLUMNS}
    assert level == {"last", "mean_hour", "mean_week", "lag_d1", "lag_d2", "lag_w1", "lag_w2",
                     "same_type_1", "same_type_mean", "mean_day_w1"}  # fmt: skip
    for i, name in enumerate(FEATURES):
        want = 1.0 if name in level else (2.0 if name == "mean_day" else 3.0)
        assert out[0, i] == want, name
    assert (GlobalGBM(24, CN, target="level")._tree_input(x) == x).all()


def test_week_ahead_reads_the_same_type_days_the_origin_has_seen() -> None:
    """Worked by hand: hourly, each day's value its day number, history to Wednesday
    2024-03-13 23:00 (no holiday in March; weekends off). Forecast a week ahead from there:
    Thursday 00:00 (1 h ahead) and Friday 00:00 (25 h) read Wednesday — the last working day
    before the origin — and Saturday 00:00 (49 h) the last day off, Sunday 10 March; then
    Tuesday and Monday. With one gap for the whole week (the old rule) Thursday read the
    Thursday a week back. Day-ahead is unchanged: one gap, a day."""
    from forecasting.global_model import FEATURES, _features

    index = pd.date_range("2024-02-26", "2024-03-13 23:00", freq="1h")
    frame = pd.DataFrame({"y": (index.normalize() - index[0]).days + 1.0}, index=index)
    frame.index.freq = "1h"
    s = GlobalGBM(168, CN)._prepare(frame, 168, CN)
    assert s.same.shape[0] == 7  # gaps 1 … 7 days
    origin = s.rows - 1
    h = np.array([1, 25, 49])
    read = _features(s, origin + h, h)[:, FEATURES.index("same_type_1")] * s.scale
    day_of = {d: (pd.Timestamp(d) - index[0]).days + 1 for d in ("2024-03-13", "2024-03-10")}
    np.testing.assert_allclose(
        read, [day_of["2024-03-13"], day_of["2024-03-13"], day_of["2024-03-10"]]
    )
    assert _features(s, origin + h, h)[0, FEATURES.index("same_type_mean")] * s.scale == (
        pytest.approx(day_of["2024-03-13"] - 1)  # Wednesday, Tuesday, Monday
    )
    assert GlobalGBM(24, CN)._prepare(frame, 24, CN).same.shape[0] == 1


def test_weekly_part_of_the_blend_moves_to_the_last_days_level() -> None:
    """Worked by hand: the value a week back 5.0, the last day's mean 3.0 and the mean of the
    day before the point a week back 2.0 (the level rose by 1.0 over the week): the blend's
    weekly part is 6.0; the daily part is the value a day back as it is; a missing mean
    leaves the model's forecast in its place. On a day-number series the feature is the
    mean of the day a week before the origin's last day."""
    from forecasting.global_model import FEATURES, _components, _features

    x = np.full((2, len(FEATURES)), np.nan)
    x[:, FEATURES.index("lag_d1")] = 4.0
    x[:, FEATURES.index("lag_w1")] = 5.0
    x[:, FEATURES.index("mean_day")] = 3.0
    x[0, FEATURES.index("mean_day_w1")] = 2.0
    np.testing.assert_allclose(_components(np.array([7.0, 7.0]), x), [[7, 4, 6], [7, 4, 7]])

    index = pd.date_range("2024-02-26", "2024-03-13 23:00", freq="1h")
    frame = pd.DataFrame({"y": (index.normalize() - index[0]).days + 1.0}, index=index)
    frame.index.freq = "1h"
    s = GlobalGBM(168, CN)._prepare(frame, 168, CN)
    h = np.array([1, 168])
    row = _features(s, s.rows - 1 + h, h) * s.scale
    wednesday_before = (pd.Timestamp("2024-03-06") - index[0]).days + 1
    np.testing.assert_allclose(row[:, FEATURES.index("mean_day_w1")], wednesday_before)
    np.testing.assert_allclose(row[:, FEATURES.index("mean_day")], wednesday_before + 7)


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


def test_blend_weights_are_the_lowest_error_point_of_the_grid() -> None:
    from forecasting.global_model import _best_weights

    # hand-worked: the actual is exactly yesterday's value; the model is off by 10
    actual = np.array([100.0, 50.0, 80.0, 20.0])
    parts = np.column_stack([actual + 10, actual, actual - 37])
    np.testing.assert_allclose(_best_weights(parts, actual, 0.1), [0.0, 1.0, 0.0])
    # a tie keeps the weight on the model: all three are the same forecast
    same = np.column_stack([actual, actual, actual])
    np.testing.assert_allclose(_best_weights(same, actual, 0.5), [1.0, 0.0, 0.0])
    # the midpoint of two errors of opposite sign (+10, −10) is exact
    mixed = np.column_stack([actual + 10, actual - 10, actual + 53])
    np.testing.assert_allclose(_best_weights(mixed, actual, 0.1), [0.5, 0.5, 0.0])


def test_blend_leans_on_yesterday_for_a_series_that_repeats_its_days() -> None:
    # a daily profile with a level that random-walks from day to day: yesterday's curve is
    # the best forecast, the calendar and last week's values (what the trees read) are not;
    # the trees forecast the level itself here (``target="level"``): with the default local
    # level they follow the walk on their own, and the blend has less to show
    index = pd.date_range("2024-03-01", periods=70 * 24, freq="1h")
    rng = np.random.default_rng(3)
    level = np.repeat(100 + np.cumsum(rng.normal(0, 15, 70)), 24)
    y = level * (1 + 0.5 * np.sin(2 * np.pi * np.asarray(index.hour) / 24))
    frame = pd.DataFrame({"y": y}, index=index)
    frame.index.freq = "1h"
    data = {"walk": frame}
    blended = GlobalGBM(24, CN, **LEVEL).fit_many(data)
    plain = GlobalGBM(24, CN, blend=False, **LEVEL).fit_many(data)
    assert blended._weights["walk"][1] >= 0.5  # the daily naive's weight
    np.testing.assert_allclose(plain._weights["walk"], [1.0, 0.0, 0.0])
    # the blended forecast follows yesterday's curve closely
    yesterday = y[-24:]
    err_blend = np.abs(blended.predict_many()["walk"][POINT].to_numpy() - yesterday).mean()
    err_plain = np.abs(plain.predict_many()["walk"][POINT].to_numpy() - yesterday).mean()
    assert err_blend < err_plain
    mase = {
        blend: rolling_origin_group(
            data, partial(GlobalGBM, 24, CN, blend=blend, **LEVEL), {"walk": 24}, folds=6
        )["walk"].scores["mase"]
        for blend in (True, False)
    }
    naive = rolling_origin(frame, factories(["naive_daily"], ModelContext(24, CN)), 24, 6)
    assert mase[True] < 0.9 * mase[False], mase
    assert mase[True] <= 1.1 * naive["naive_daily"].scores["mase"], mase
    with pytest.raises(Invalid, match="blend_step"):
        GlobalGBM(24, CN, blend_step=0)


def test_widened_bands_stretch_around_the_residual_median() -> None:
    from forecasting.base import QUANTILE_LEVELS, ConformalBands

    rng = np.random.default_rng(0)
    point = rng.uniform(0, 10, 2000)
    residual = 1.0 + rng.normal(0, 2, 2000)
    plain = ConformalBands().fit(point, residual)
    wide = ConformalBands(widen=1.5).fit(point, residual)
    mid = QUANTILE_LEVELS.index(0.5)
    np.testing.assert_allclose(wide.table[:, mid], plain.table[:, mid])
    np.testing.assert_allclose(
        wide.table - wide.table[:, [mid]], 1.5 * (plain.table - plain.table[:, [mid]])
    )
    with pytest.raises(Invalid, match="widen"):
        ConformalBands(widen=0)


def test_widening_is_chosen_per_series_from_the_training_data_only() -> None:
    data = group(2, "2024-06-01", 70, seed=2)  # no holiday in the last 17 (calibration) days
    calm, loud = "meter 0", "meter 1"
    # the loud meter's noise grows five-fold over the last week before the scored day (the
    # newer half of its calibration days): its bands must widen, the calm meter's not
    y = data[loud]["y"].to_numpy().copy()
    noisy = slice(len(y) - 8 * 24, len(y) - 24)
    y[noisy] *= 1 + 0.15 * np.random.default_rng(3).standard_normal(7 * 24)
    data[loud] = data[loud].assign(y=y)
    model = GlobalGBM(24, CN, **LIGHT).fit_many({n: f.iloc[:-24] for n, f in data.items()})
    measured = {n: model._bands[n].measured_widen for n in data}
    assert measured[loud] > 2.0 > 1.3 > measured[calm] > 0.7, measured
    # applied halfway (in log scale) to 1
    widen = {n: model._bands[n].chosen_widen for n in data}
    assert widen == pytest.approx({n: m**0.5 for n, m in measured.items()}), widen
    # chosen before the scored day: a scored day ten times off changes no quantile
    wild = {n: f.copy() for n, f in data.items()}
    wild[loud].iloc[-24:, 0] *= 10
    runs = [
        rolling_origin_group(d, lambda: GlobalGBM(24, CN, **LIGHT), {n: 24 for n in d}, folds=1)
        for d in (data, wild)
    ]
    for name in data:
        before, after = (r[name].folds[0].forecast[list(QUANTILE_COLUMNS)] for r in runs)
        pd.testing.assert_frame_equal(before, after)


def test_week_ahead_calibrates_on_forecasts_a_day_apart() -> None:
    """Worked by hand on 30 days hourly with 28 calibration days: a week-ahead fit
    calibrates on 22 forecasts of 168 h whose origins are a day apart (the last ending at
    the last hour, the first starting at the cut), a day-ahead fit on 28 disjoint ones; with
    ``overlap=False`` or a budget too small for the overlap, the week-ahead keeps 4."""
    from forecasting.global_model import _calibration_pairs

    frame = group(1, "2024-03-01", 30)["meter 0"]
    model = GlobalGBM(168, CN)
    s = model._prepare(frame, 168, CN)
    cut = s.rows - 28 * 24
    step = model._calibration_step(s, cut, count=1)
    assert step == 24
    t, h = _calibration_pairs(s, cut, step)
    assert len(t) == 22 * 168 and t.max() == s.rows - 1 and t.min() == cut
    assert (np.unique(t - h) == np.arange(cut - 1, s.rows - 168, 24)).all()  # the origins
    assert GlobalGBM(168, CN, overlap=False)._calibration_step(s, cut, count=1) == 168
    tight = GlobalGBM(168, CN, max_calibration_rows=22 * 168 * 10 - 1)
    assert tight._calibration_step(s, cut, count=10) == 168
    day = model._prepare(frame, 24, CN)
    assert model._calibration_step(day, cut, count=1) == 24
    t, h = _calibration_pairs(day, cut, 24)
    assert len(t) == 28 * 24 and len(np.unique(t)) == len(t)  # disjoint


def test_week_ahead_bands_take_the_measured_stretch_whole() -> None:
    """Day-ahead the bands take the stretch ``later_widen`` measured halfway (its square
    root), week-ahead whole (``long_shrink=1``); ``long_shrink`` fixes the share."""
    data = group(2, "2024-03-01", 70, seed=2)
    y = data["meter 1"]["y"].to_numpy().copy()  # noise growing over the last week
    y[-7 * 24 :] *= 1 + 0.15 * np.random.default_rng(3).standard_normal(7 * 24)
    data["meter 1"] = data["meter 1"].assign(y=y)
    for horizon, shrink, power in ((24, 1.0, 0.5), (168, 1.0, 1.0), (168, 0.5, 0.5)):
        model = GlobalGBM(horizon, CN, long_shrink=shrink, **LIGHT).fit_many(data)
        for name in data:
            bands = model._bands[name]
            assert bands.measured_widen is not None
            assert bands.chosen_widen == pytest.approx(bands.measured_widen**power)
        assert model._bands["meter 1"].measured_widen > 1.2  # a stretch, not the identity
    with pytest.raises(Invalid, match="long_shrink"):
        GlobalGBM(168, CN, long_shrink=-1)
