"""The combination of hgb and lgbm_global: forecasts, backtests and the selection that ranks
it, worked by hand."""

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
from forecasting.registry import ModelContext, factories
from forecasting.runs import DAY_AHEAD, select_model
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
    """0.2 × (10 ± 1) + 0.8 × (20 ± 3) = 18 ± 2.6; the actuals stay as they were."""
    out = combined.mean_frame({"hgb": _frame(10, 1, 19.0), "lgbm_global": _frame(20, 3, 19.0)})
    assert out[POINT].tolist() == pytest.approx([18.0, 18.0])
    assert out["q01"].tolist() == pytest.approx([15.4, 15.4])
    assert out["q99"].tolist() == pytest.approx([20.6, 20.6])
    assert out[TARGET].tolist() == [19.0, 19.0]
    assert (np.diff(out[list(QUANTILE_COLUMNS)].to_numpy(), axis=1) >= 0).all()
    with pytest.raises(Invalid, match="lgbm_global"):
        combined.mean_frame({"hgb": _frame(10, 1)})


def _result(name: str, point: float, spread: float, error: str | None = None) -> ModelResult:
    start = pd.Timestamp("2026-02-01")
    folds = [
        Fold(k, _frame(point, spread, actual=19.0), start, start + pd.Timedelta(days=k), 2.0, 0.5)
        for k in range(2)
    ]
    return ModelResult(name, folds=folds, error=error)


def test_its_backtest_is_the_mean_of_its_parts_folds() -> None:
    """hgb 10, lgbm_global 20 → 18 against actuals of 19: MAE 1, MASE 1 / 2 (the folds'
    scale); hgb alone 9 / 2. Its fit time is the parts' together."""
    step = pd.Timedelta(hours=1)
    parts = {"hgb": _result("hgb", 10, 1), "lgbm_global": _result("lgbm_global", 20, 3)}
    found = combined.combined_result(parts, step)
    assert found is not None and found.name == "combined" and found.error is None
    assert found.scores["mae"] == pytest.approx(1.0)
    assert found.scores["mase"] == pytest.approx(0.5)
    assert found.scores["fit_s"] == pytest.approx(1.0)
    assert backtest.score(parts["hgb"].folds, step)["mase"] == pytest.approx(4.5)
    # the 90 % band 18 ± 2.6 × 0.9 holds 19 at every step
    assert found.scores["coverage_90"] == pytest.approx(1.0)
    assert combined.combined_result({"hgb": parts["hgb"]}, step) is None
    failed = {**parts, "hgb": _result("hgb", 10, 1, error="fold 1: too short")}
    assert combined.combined_result(failed, step).error == "hgb: fold 1: too short"  # type: ignore[union-attr]
    shifted = _result("lgbm_global", 20, 3)
    shifted.folds[1].train_end += pd.Timedelta(hours=1)
    mismatch = combined.combined_result({**parts, "lgbm_global": shifted}, step)
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


def test_the_selection_ranks_it_from_its_parts_backtests() -> None:
    """Asked for the daily naive and the combination only, the selection backtests hgb and
    lgbm_global as its parts, ranks the two it was asked for, and the combination's scores
    are exactly those of its parts' folds averaged."""
    frame = plant("2024-09-01", 35, freq="1h")[["y"]]
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
    assert name == "combined"  # the plant's working hours: the models beat yesterday's copy
    parts = backtest.rolling_origin(
        frame, factories(combined.PARTS, ModelContext(24, calendar)), 24, 2
    )
    by_hand = combined.combined_result(parts, pd.Timedelta(hours=1))
    assert by_hand is not None
    assert scores["candidates"]["combined"]["mase"] == pytest.approx(by_hand.scores["mase"])


def test_a_bench_run_asks_for_both_parts() -> None:
    combined.check_parts(["naive_daily", "hgb", "lgbm_global", "combined"])
    combined.check_parts(["hgb"])  # no combination asked for: nothing to check
    with pytest.raises(Invalid, match="add lgbm_global") as caught:
        combined.check_parts(["naive_daily", "hgb", "combined"])
    assert caught.value.field == "models"
