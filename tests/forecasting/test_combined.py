"""The combination of hgb, lgbm_global and linear: forecasts, backtests and the selection
that ranks it, worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import Invalid
from forecasting import backtest, combined
from forecasting.backtest import Fold, ModelResult
from forecasting.base import POINT, QUANTILE_COLUMNS, TARGET
from forecasting.calendar import HolidayCalendar
from forecasting.naive import SeasonalNaive
from forecasting.registry import ModelContext, factories, make
from forecasting.runs import DAY_AHEAD, member_combination, select_model
from forecasting.subjects import Subject
from tests.forecasting.test_models import plant


def _frame(point: float, spread: float, actual: float | None = None) -> pd.DataFrame:
    """Two hourly steps: ``yhat`` = point, the quantiles point − spread … point + spread."""
    index = pd.date_range("2026-03-02", periods=2, freq="h")
    offsets = np.linspace(-spread, spread, len(QUANTILE_COLUMNS))
    frame = pd.DataFrame(
        np.tile(point + offsets, (2, 1)), index=index, columns=list(QUANTILE_COLUMNS)
    )
    frame.insert(0, POINT, point)
    if actual is not None:
        frame[TARGET] = actual
    return frame


def test_the_weighted_mean_of_points_and_quantiles() -> None:
    """Beyond a day: 0.1 × (10 ± 1) + 0.7 × (20 ± 3) + 0.2 × (30 ± 5) = 21 ± 3.2; the actuals
    stay as they were."""
    parts = {
        "hgb": _frame(10, 1, 19.0),
        "lgbm_global": _frame(20, 3, 19.0),
        "linear": _frame(30, 5, 19.0),
    }
    out = combined.mean_frame(parts, combined.LONG_WEIGHTS)
    assert out[POINT].tolist() == pytest.approx([21.0, 21.0])
    assert out["q01"].tolist() == pytest.approx([17.8, 17.8])
    assert out["q99"].tolist() == pytest.approx([24.2, 24.2])
    assert out[TARGET].tolist() == [19.0, 19.0]
    assert (np.diff(out[list(QUANTILE_COLUMNS)].to_numpy(), axis=1) >= 0).all()
    with pytest.raises(Invalid, match="lgbm_global, linear"):
        combined.mean_frame({"hgb": _frame(10, 1)}, combined.LONG_WEIGHTS)


def test_the_weights_follow_the_horizon() -> None:
    """Up to a day ahead hgb and lgbm_global (0.2, 0.8), beyond it linear as well — at any
    resolution; the line is ``base.beyond_a_day``, the bands' line too."""
    assert combined.weights_for(96, 96) == {"hgb": 0.2, "lgbm_global": 0.8}
    assert combined.weights_for(1, 24) == combined.DAY_WEIGHTS
    assert combined.weights_for(97, 96) == {"hgb": 0.1, "lgbm_global": 0.7, "linear": 0.2}
    assert combined.weights_for(168, 24) == combined.LONG_WEIGHTS
    for weights in (combined.DAY_WEIGHTS, combined.LONG_WEIGHTS):
        assert sum(weights.values()) == pytest.approx(1.0)
        assert set(weights) <= set(combined.PARTS)
    assert combined.GROUP_PART in combined.DAY_WEIGHTS


def _result(name: str, point: float, spread: float, error: str | None = None) -> ModelResult:
    start = pd.Timestamp("2026-02-01")
    folds = [
        Fold(k, _frame(point, spread, actual=19.0), start, start + pd.Timedelta(days=k), 2.0, 0.5)
        for k in range(2)
    ]
    return ModelResult(name, folds=folds, error=error)


def test_its_backtest_is_the_mean_of_its_parts_folds() -> None:
    """Two-hour folds of hourly data, so day-ahead weights (``derive`` reads the horizon off
    the folds): hgb 10, lgbm_global 20 → 18 against actuals of 19: MAE 1, MASE 1 / 2 (the
    folds' scale); hgb alone 9 / 2; linear's folds are not read. Its fit time is its parts'
    together. With the longer horizon's weights linear's 30 counts: 0.1 × 10 + 0.7 × 20 +
    0.2 × 30 = 21, MAE 2, three parts' time."""
    step = pd.Timedelta(hours=1)
    parts = {
        "hgb": _result("hgb", 10, 1),
        "lgbm_global": _result("lgbm_global", 20, 3),
        "linear": _result("linear", 30, 5),
    }
    hourly = pd.DataFrame(index=pd.date_range("2026-02-01", periods=48, freq="h"))
    derived: dict[str, ModelResult] = dict(parts)
    combined.derive(derived, hourly)
    found = derived.get("combined")
    assert found is not None and found.name == "combined" and found.error is None
    assert found.folds[0].forecast[POINT].tolist() == pytest.approx([18.0, 18.0])
    assert found.scores["mae"] == pytest.approx(1.0)
    assert found.scores["mase"] == pytest.approx(0.5)
    assert found.scores["fit_s"] == pytest.approx(1.0)
    assert backtest.score(parts["hgb"].folds, step)["mase"] == pytest.approx(4.5)
    longer = combined.combined_result(parts, step, combined.LONG_WEIGHTS)
    assert longer is not None and longer.folds[0].forecast[POINT].tolist() == pytest.approx(
        [21.0, 21.0]
    )
    assert longer.scores["mae"] == pytest.approx(2.0)
    assert longer.scores["fit_s"] == pytest.approx(1.5)
    # the 90 % band, 18 ± 2.6 × 90/98 (q05 … q95 of an even spread), holds 19 at every step
    assert found.scores["coverage_90"] == pytest.approx(1.0)
    day = combined.DAY_WEIGHTS
    assert combined.combined_result(parts, step, day).scores == found.scores  # type: ignore[union-attr]
    assert combined.combined_result({"hgb": parts["hgb"]}, step, day) is None
    failed = {**parts, "hgb": _result("hgb", 10, 1, error="fold 1: too short")}
    assert combined.combined_result(failed, step, day).error == "hgb: fold 1: too short"  # type: ignore[union-attr]
    shifted = _result("lgbm_global", 20, 3)
    shifted.folds[1].train_end += pd.Timedelta(hours=1)
    mismatch = combined.combined_result({**parts, "lgbm_global": shifted}, step, day)
    assert mismatch is not None and "different folds" in str(mismatch.error)


def test_the_fitted_combination_forecasts_the_weighted_mean_of_its_parts() -> None:
    """Parts the daily and weekly seasonal naives, weights ¼ and ¾: each step is ¼ of
    yesterday's value and ¾ of last week's; ``update`` moves both origins."""
    index = pd.date_range("2024-01-01", periods=24 * 21, freq="h")
    history = pd.DataFrame({"y": np.arange(index.size, dtype=float)}, index=index)
    history.index.freq = "h"
    weights = {"day": 0.25, "week": 0.75}
    model = combined.Combined({"day": SeasonalNaive("day"), "week": SeasonalNaive("week")}, weights)
    y = history["y"].to_numpy()
    out = model.fit(history.iloc[:-24]).predict(24)
    np.testing.assert_allclose(out[POINT], 0.25 * y[-48:-24] + 0.75 * y[-192:-168])
    out = model.update(history).predict(24)
    np.testing.assert_allclose(out[POINT], 0.25 * y[-24:] + 0.75 * y[-168:-144])
    assert model.params()["weights"] == weights
    with pytest.raises(Invalid, match="weights"):
        combined.Combined(
            {"day": SeasonalNaive("day"), "week": SeasonalNaive("week")}, {"day": 0.5, "week": 0.6}
        )
    with pytest.raises(Invalid, match="made of"):
        combined.Combined({"day": SeasonalNaive("day")}, weights)
    with pytest.raises(Invalid, match="horizon"):
        combined.Combined({"day": SeasonalNaive("day")})


def test_made_by_the_registry_it_takes_its_horizon_s_parts_at_fit() -> None:
    """``make("combined")`` holds every part; fitted day-ahead on an hourly history it keeps
    hgb and lgbm_global (linear is not fitted), a week ahead all three, each forecast the
    weighted mean of its parts'."""
    frame = plant("2024-09-01", 38, freq="1h")[["y"]]
    calendar = HolidayCalendar("CN")
    day = make("combined", ModelContext(24, calendar))
    assert isinstance(day, combined.Combined) and set(day.parts) == set(combined.PARTS)
    with pytest.raises(Invalid, match="not fitted"):
        day.predict(24)
    day.fit(frame)
    assert day.params()["weights"] == combined.DAY_WEIGHTS
    assert set(day.parts) == {"hgb", "lgbm_global"}
    week = make("combined", ModelContext(168, calendar)).fit(frame)
    assert isinstance(week, combined.Combined)
    assert week.params()["weights"] == combined.LONG_WEIGHTS
    out = week.predict(168)
    by_hand = combined.weighted_mean(
        {n: p.predict(168)[POINT].to_numpy() for n, p in week.parts.items()}, week.weights or {}
    )
    np.testing.assert_allclose(out[POINT], by_hand)


def test_the_registry_refuses_a_setting_the_combination_does_not_take() -> None:
    """Its parts take their own settings; a stray one is named, not silently dropped."""
    with pytest.raises(Invalid, match="takes only weights") as info:
        make("combined", ModelContext(24), window_days=(7,))
    assert info.value.field == "params"
    with pytest.raises(Invalid, match="takes only weights, not ridge, window_days$"):
        make("combined", ModelContext(24), weights={"hgb": 1.0}, window_days=(7,), ridge=1.0)
    given = make("combined", ModelContext(24), weights={"hgb": 1.0})
    assert isinstance(given, combined.Combined) and given.weights == {"hgb": 1.0}


def test_the_selection_ranks_it_from_its_parts_backtests() -> None:
    """Asked for the daily naive and the combination only, the selection backtests its
    parts, ranks the two it was asked for, and the combination's scores are exactly those of
    its parts' folds averaged."""
    frame = plant("2024-09-01", 38, freq="1h")[["y"]]  # to the first working day after 国庆
    subject = Subject(
        kind="meter",
        id=1,
        code="M1",
        carrier="electricity",
        quantity="load",
        unit="kW",
        resolution_s=3600,
        timezone="Asia/Shanghai",
        meters=("M1",),
    )
    calendar = HolidayCalendar("CN")
    name, scores = select_model(frame, subject, DAY_AHEAD, ("naive_daily", "combined"), calendar, 2)
    assert set(scores["candidates"]) == {"naive_daily", "combined"}
    assert name == "combined"  # the models know the calendar; yesterday's copy is a holiday
    parts = backtest.rolling_origin(
        frame, factories(combined.PARTS, ModelContext(24, calendar)), 24, 2
    )
    by_hand = combined.combined_result(parts, pd.Timedelta(hours=1), combined.weights_for(24, 24))
    assert by_hand is not None
    assert scores["candidates"]["combined"]["mase"] == pytest.approx(by_hand.scores["mase"])


def test_a_bench_run_asks_for_every_part_of_its_horizon() -> None:
    day, week = combined.DAY_WEIGHTS, combined.LONG_WEIGHTS
    combined.check_parts(["naive_daily", "hgb", "lgbm_global", "linear", "combined"], week)
    combined.check_parts(["naive_daily", "hgb", "lgbm_global", "combined"], day)
    combined.check_parts(["hgb"], week)  # no combination asked for: nothing to check
    with pytest.raises(Invalid, match="add lgbm_global$") as caught:
        combined.check_parts(["naive_daily", "hgb", "linear", "combined"], week)
    assert caught.value.field == "models"
    with pytest.raises(Invalid, match="add lgbm_global, linear$"):
        combined.check_parts(["naive_daily", "hgb", "combined"], week)
    with pytest.raises(Invalid, match="add lgbm_global$"):
        combined.check_parts(["naive_daily", "hgb", "combined"], day)


def test_a_group_member_gets_the_group_model_and_its_own_other_parts() -> None:
    """The nightly job's combination for a member of a site's group: the parts of its
    horizon but the group's fitted on the member's own history (day-ahead hgb, a week ahead
    hgb and linear), the group's model passed in as it is, and so the group's pooled linear
    a week ahead when given."""
    frame = plant("2024-09-01", 38, freq="1h")[["y"]]
    group_model = SeasonalNaive("day").fit(frame)
    for horizon, weights in ((24, combined.DAY_WEIGHTS), (168, combined.LONG_WEIGHTS)):
        context = ModelContext(horizon, HolidayCalendar("CN"))
        model = member_combination(context, frame, group_model)
        assert model.weights == weights and set(model.parts) == set(weights)
        assert model.parts[combined.GROUP_PART] is group_model
        out = model.predict(horizon)
        by_hand = combined.weighted_mean(
            {n: p.predict(horizon)[POINT].to_numpy() for n, p in model.parts.items()}, weights
        )
        np.testing.assert_allclose(out[POINT], by_hand)
    # the group's pooled linear, when given, is the week-ahead part; day-ahead takes none
    pooled = make("linear", ModelContext(168)).fit(frame)
    week = member_combination(ModelContext(168, HolidayCalendar("CN")), frame, group_model, pooled)
    assert week.parts["linear"] is pooled
    day = member_combination(ModelContext(24, HolidayCalendar("CN")), frame, group_model, pooled)
    assert "linear" not in day.parts
