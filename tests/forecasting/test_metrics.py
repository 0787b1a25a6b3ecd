"""Forecast measures against hand-computed values, and the conformal bands' coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecasting import metrics
from forecasting.base import QUANTILE_LEVELS, ConformalBands, forecast_frame, later_widen, qcol

# y − ŷ = [−1, 0, 1, 2]; Σ|e| = 4, Σe² = 6, Σe = 2, Σy = 10, ȳ = 2.5
Y = [1.0, 2.0, 3.0, 4.0]
YHAT = [2.0, 2.0, 2.0, 2.0]


def test_point_measures_by_hand() -> None:
    assert metrics.mae(Y, YHAT) == pytest.approx(1.0)
    assert metrics.rmse(Y, YHAT) == pytest.approx(math.sqrt(1.5))
    assert metrics.wape(Y, YHAT) == pytest.approx(0.4)


def test_ashrae_guideline_14_measures_by_hand() -> None:
    # CV(RMSE) = √(Σe²/(n−p)) / ȳ, NMBE = Σe / ((n−p)·ȳ)
    assert metrics.cv_rmse(Y, YHAT) == pytest.approx(math.sqrt(6 / 4) / 2.5)
    assert metrics.nmbe(Y, YHAT) == pytest.approx(2 / (4 * 2.5))
    assert metrics.cv_rmse(Y, YHAT, p=1) == pytest.approx(math.sqrt(6 / 3) / 2.5)
    assert metrics.nmbe(Y, YHAT, p=1) == pytest.approx(2 / (3 * 2.5))
    assert metrics.nmbe(Y, Y) == 0.0  # an unbiased forecast


def test_mase_uses_the_in_sample_seasonal_naive() -> None:
    # season 3: |1−1|, |2−2|, |4−3| → scale 1/3
    scale = metrics.seasonal_naive_scale([1, 2, 3, 1, 2, 4], 3)
    assert scale == pytest.approx(1 / 3)
    assert metrics.mase(Y, YHAT, scale) == pytest.approx(3.0)
    assert math.isnan(metrics.seasonal_naive_scale([1, 2], 3))


def test_coverage_and_pinball_by_hand() -> None:
    assert metrics.coverage(Y, [0, 2.5, 2, 5], [2, 3, 3, 6]) == pytest.approx(0.5)
    q = np.full((4, 2), 2.0)
    # level 0.5: 0.5·|e| → 0.5; level 0.9: [0.1, 0, 0.9, 1.8] → 0.7
    assert metrics.pinball(Y, q[:, :1], [0.5]) == pytest.approx(0.5)
    assert metrics.pinball(Y, q[:, 1:], [0.9]) == pytest.approx(0.7)
    assert metrics.pinball(Y, q, [0.5, 0.9]) == pytest.approx(0.6)


def test_missing_actuals_are_left_out() -> None:
    y = [1.0, np.nan, 3.0, 4.0]
    assert metrics.mae(y, YHAT) == pytest.approx(4 / 3)
    assert metrics.wape(y, YHAT) == pytest.approx(4 / 8)
    assert metrics.coverage(y, [0, 0, 0, 0], [3, 3, 3, 3]) == pytest.approx(2 / 3)
    assert math.isnan(metrics.mae([np.nan], [1.0]))


def test_pinball_of_the_true_quantiles_beats_a_shifted_set() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(size=20_000)
    levels = np.asarray(QUANTILE_LEVELS)
    true_q = np.tile(np.quantile(rng.normal(size=200_000), levels), (y.size, 1))
    assert metrics.pinball(y, true_q, levels) < metrics.pinball(y, true_q + 0.3, levels)


@pytest.mark.parametrize("groups", [1, 4])
def test_conformal_bands_cover_new_residuals(groups: int) -> None:
    rng = np.random.default_rng(7)
    point = rng.uniform(0, 100, 4000)
    residual = rng.normal(scale=1 + point / 20)  # wider at higher load
    bands = ConformalBands(groups=groups).fit(point, residual)
    new_point = rng.uniform(0, 100, 40_000)
    new_y = new_point + rng.normal(scale=1 + new_point / 20)
    q = bands.quantiles(new_point)
    lo, hi = q[:, QUANTILE_LEVELS.index(0.05)], q[:, QUANTILE_LEVELS.index(0.95)]
    assert metrics.coverage(new_y, lo, hi) == pytest.approx(0.90, abs=0.015)
    low_load = new_point < 25
    width = hi - lo
    if groups > 1:  # grouped by forecast size: narrower where the load is low
        assert width[low_load].mean() < 0.6 * width[~low_load].mean()


def test_forecast_frame_sorts_quantiles_and_applies_the_floor() -> None:
    import pandas as pd

    index = pd.date_range("2024-01-01", periods=2, freq="15min")
    q = np.tile(np.linspace(1, -1, 99), (2, 1))  # decreasing: must be sorted
    frame = forecast_frame(index, np.array([-0.5, 0.5]), q, floor=0.0)
    values = frame[[qcol(x) for x in QUANTILE_LEVELS]].to_numpy()
    assert (np.diff(values, axis=1) >= 0).all()
    assert values.min() == 0.0 and frame["yhat"].tolist() == [0.0, 0.5]


def test_later_widen_by_hand() -> None:
    """100 older residuals ±1 (band q05 … q95 = −1 … 1 around the median 0); the 100 newer ones
    ±0.02, ±0.04, … ±2.00 need the band stretched by |r|: the factor is the
    ⌈101 · 0.9⌉ = 91st smallest, 1.82, and the bands on all residuals are stretched by it."""
    older = np.tile([-1.0, 1.0], 50)
    newer = np.arange(1, 101) / 50 * np.tile([1.0, -1.0], 50)
    residual = np.concatenate([older, newer])
    point = np.full(residual.size, 5.0)
    assert later_widen(point, residual, groups=1) == pytest.approx(1.82)
    bands = ConformalBands(groups=1, widen=None).fit(point, residual)
    # measured 1.82, applied halfway in log scale: √1.82 = 1.349
    assert bands.measured_widen == pytest.approx(1.82)
    assert bands.chosen_widen == pytest.approx(1.82**0.5) == pytest.approx(1.349, abs=1e-3)
    fixed = ConformalBands(groups=1, widen=1.82**0.5).fit(point, residual)
    np.testing.assert_allclose(bands.table, fixed.table)
    # newer residuals halved: the bands tighten (1.82 / 2); a quarter: held at the bound 0.5
    assert later_widen(point, np.concatenate([older, newer / 2]), groups=1) == pytest.approx(0.91)
    assert later_widen(point, np.concatenate([older, newer / 4]), groups=1) == 0.5
    # the order matters: the same residuals with the wide ones first call for narrowing
    assert later_widen(point, np.concatenate([newer, older]), groups=1) < 0.6
    # too few residuals to split: the bands stay as fitted
    assert later_widen(point[:30], residual[:30], groups=1) == 1.0
