"""The rolling-origin backtest and the ``ecc bench forecast`` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from core.errors import Invalid
from forecasting.backtest import Fold, best_model, fold_bounds, rolling_origin, score
from forecasting.base import QUANTILE_COLUMNS, Capabilities, forecast_frame, future_index
from shell.cli import app


class Constant:
    """A stub model: forecasts the mean of the history; remembers what it was fitted on."""

    name = "constant"
    capabilities = Capabilities(intervals="conformal")
    seen: list[pd.DatetimeIndex] = []

    def fit(self, history: pd.DataFrame) -> Self:
        Constant.seen.append(history.index)
        self.level = float(history["y"].mean())
        self.index = history.index
        return self

    update = fit

    def predict(self, horizon: int, exog: pd.DataFrame | None = None) -> pd.DataFrame:
        q = np.full((horizon, 99), self.level) + np.linspace(-1, 1, 99)
        return forecast_frame(future_index(self.index, horizon), np.full(horizon, self.level), q)

    def params(self) -> dict:
        return {}


class Broken(Constant):
    name = "broken"

    def fit(self, history: pd.DataFrame) -> Self:
        raise Invalid("history", "never enough")


def _series(n: int, freq: str = "15min") -> pd.DataFrame:
    frame = pd.DataFrame(
        {"y": np.arange(n, dtype=float)}, index=pd.date_range("2024-01-01", periods=n, freq=freq)
    )
    frame.index.freq = freq
    return frame


def test_fold_bounds_end_at_the_last_row() -> None:
    assert fold_bounds(100, 10, 3) == [70, 80, 90]
    assert fold_bounds(100, 10, 3, step=5) == [80, 85, 90]
    assert fold_bounds(100, 10, 1) == [90]
    with pytest.raises(Invalid, match="folds"):
        fold_bounds(30, 10, 3)


def test_one_fold_scores_exactly_the_last_rows_after_training_on_the_rest() -> None:
    Constant.seen = []
    frame = _series(7 * 96 + 96)
    results = rolling_origin(frame, {"constant": Constant}, horizon=96, folds=1)
    (fold,) = results["constant"].folds
    assert Constant.seen[0].equals(frame.index[:-96])
    assert fold.forecast.index.equals(frame.index[-96:])
    np.testing.assert_array_equal(fold.forecast["y"], frame["y"].iloc[-96:])
    level = frame["y"].iloc[:-96].mean()
    assert results["constant"].scores["mae"] == pytest.approx(
        np.abs(frame["y"].iloc[-96:] - level).mean()
    )


def test_a_model_that_cannot_fit_is_reported_not_fatal() -> None:
    frame = _series(8 * 96)
    results = rolling_origin(frame, {"broken": Broken, "constant": Constant}, 96, 2)
    assert results["broken"].error == "fold 1: history: never enough"
    assert results["broken"].scores == {}
    assert best_model(results) == "constant"


def test_cv_rmse_is_hourly_for_sub_hourly_series() -> None:
    index = pd.date_range("2024-01-01 00:00", periods=8, freq="15min")
    actual = np.array([10.0, 12, 10, 12, 20, 22, 20, 22])
    point = actual + np.array([1.0, -1, 1, -1, 1, -1, 1, -1])  # errors cancel within hours
    frame = forecast_frame(index, point, np.tile(point[:, None], (1, 99)))
    frame["y"] = actual
    scores = score([Fold(0, frame, index[0], index[-1], 1.0, 0.1)], pd.Timedelta("15min"))
    assert scores["cv_rmse"] == pytest.approx(0.0)
    assert scores["cv_rmse_native"] == pytest.approx(1 / actual.mean())
    assert scores["mase"] == pytest.approx(1.0) and scores["fit_s"] == pytest.approx(0.1)
    assert scores["coverage_90"] == 0.0  # zero-width intervals around a wrong point


def _csv(tmp_path: Path) -> Path:
    """Five weeks of hourly plant load with temperature, shuffled, one hour missing."""
    index = pd.date_range("2024-05-01 01:00", periods=35 * 24, freq="h", tz="+08:00")
    rng = np.random.default_rng(3)
    work = (index.hour >= 8) & (index.hour < 18) & (index.day_of_week < 5)
    temp = 25 + 4 * np.sin(2 * np.pi * (index.hour.to_numpy() - 9) / 24)
    load = np.where(work, 300.0, 40.0) + 5 * (temp - 25) + rng.normal(0, 8, index.size)
    frame = (
        pd.DataFrame(
            {
                "time": [t.isoformat() for t in index],
                "load_kw": load.round(2),
                "temp_c": temp.round(2),
            }
        )
        .drop(index=100)
        .sample(frac=1, random_state=1)
    )
    path = tmp_path / "plant.csv"
    frame.to_csv(path, index=False)
    return path


def test_bench_prints_one_json_line_and_draws_the_last_fold(tmp_path: Path) -> None:
    plot = tmp_path / "last.png"
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "forecast",
            "--csv",
            str(_csv(tmp_path)),
            "--ts-col",
            "time",
            "--value-col",
            "load_kw",
            "--exog-col",
            "temp_c",
            "--folds",
            "2",
            "--models",
            "naive_daily,naive_weekly,hgb",
            "--json",
            "--plot",
            str(plot),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert list(out) == ["series", "rows", "freq", "horizon", "folds", "models", "best"]
    assert out["series"] == "plant.csv:load_kw" and out["rows"] == 35 * 24 - 1
    assert (out["freq"], out["horizon"], out["folds"]) == ("1h", 24, 2)
    assert list(out["models"]) == ["naive_daily", "naive_weekly", "hgb"]
    for scores in out["models"].values():
        assert list(scores) == [
            "mase",
            "wape",
            "cv_rmse",
            "nmbe",
            "coverage_90",
            "pinball",
            "fit_s",
        ]
    assert out["best"] == "hgb"
    assert plot.stat().st_size > 10_000


def test_bench_with_too_many_folds_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "forecast",
            "--csv",
            str(_csv(tmp_path)),
            "--ts-col",
            "time",
            "--value-col",
            "load_kw",
            "--folds",
            "40",
            "--models",
            "naive_daily",
            "--json",
        ],
    )
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())  # rich wraps long lines
    assert "40 folds of 24 steps, 24 apart, need at least 962 rows; the series has 840" in message


def test_quantile_columns_are_the_99_percentiles() -> None:
    assert QUANTILE_COLUMNS[0] == "q01" and QUANTILE_COLUMNS[-1] == "q99"
    assert len(QUANTILE_COLUMNS) == 99
