"""``ecc bench forecast --fleet``: the JSON line's shape on a small synthetic fleet, and the
shared-series suite's list (skipped without ../shared/data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from forecasting.base import TARGET
from shell.bench import forecast, forecast_suite
from tests.support.paths import SHARED_DATA

FAST = {"n_estimators": 30, "rows_per_series": 500}


def test_fleet_json_has_every_field() -> None:
    out = forecast.run_fleet_bench(
        None,
        count=20,
        model="lgbm_global",
        holidays="CN",
        workers=2,
        console=Console(quiet=True),
        days=21,
        params=FAST,
    )
    assert list(out)[:6] == ["series", "wall_s", "cpu_s", "per_series_ms", "models", "peak_rss_mb"]
    assert out["series"] == 20 and out["horizon"] == 96 and out["freq"] == "15min"
    assert out["rows_per_series"] == 21 * 96
    assert set(out["models"]) == {"lgbm_global", "naive_weekly"}
    # three bags (the default) of 500 rows a series: 30,000 rows, well inside the 400,000 cap
    assert out["models"]["lgbm_global"]["bags"] == 3
    assert out["models"]["lgbm_global"]["trained_rows"] == 3 * 20 * 500
    # both are rounded (wall_s to 0.01 s, per_series_ms to 0.1 ms): compare within that rounding
    assert out["per_series_ms"] == pytest.approx(
        1000 * out["wall_s"] / 20, abs=0.01 * 1000 / 20 + 0.1
    )
    assert out["wall_s"] > 0 and out["cpu_s"] > 0 and out["peak_rss_mb"] > 50


def test_synthetic_fleet_is_realistic_load() -> None:
    fleet = forecast.synthetic_fleet(8, days=14, seed=3)
    assert len(fleet) == 8
    for frame in fleet:
        y = frame[TARGET].to_numpy()
        assert frame.index.freqstr == "15min" and len(y) == 14 * 96
        assert np.isfinite(y).all() and y.min() >= 0
    levels = sorted(f[TARGET].mean() for f in fleet)
    assert levels[-1] / levels[0] > 10  # meters from kW to MW


@pytest.mark.shared_data
@pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data is absent")
def test_suite_holds_every_shared_series_and_splits_tuning_from_holdout() -> None:
    names = [s.name for s in forecast_suite.SHARED]
    assert len(names) == 13 and len(set(names)) == 13
    assert [s.name for s in forecast_suite.select("tuning")] == [
        "steel Usage_kWh",
        "ETTm2 HUFL",
        "tetouan zone 1",
    ]
    assert len(forecast_suite.select("holdout")) == 10
    for spec in forecast_suite.SHARED:
        assert (SHARED_DATA / spec.file).exists(), spec.file


def test_the_suite_table_writes_coverage_in_percent_as_the_readme_does() -> None:
    row = {
        "series": "steel Usage_kWh",
        "exog": [],
        "tuning": True,
        "freq": "1h",
        "best_non_baseline": "hgb",
        "best_naive": "naive_weekly",
        "mase": {"hgb": 0.621, "naive_weekly": 0.855},
        "ratio": 0.726,
        "coverage_90": 0.908,
        "pinball": 3.4516,
    }
    bare = {**row, "series": "vic_elec Demand", "exog": ["Temperature"], "coverage_90": None}
    summary = {
        "series": 2,
        "ratio_median": 0.726,
        "holdout_ratio_median": None,
        "ratio_max": 0.726,
        "ratio_le_1": 2,
        "coverage_in_85_95": 1,
    }
    lines = forecast_suite.table({"series": [row, bare], "summary": summary}).splitlines()
    assert lines[2] == (
        "| steel Usage_kWh | tuning | 1h | hgb | 0.621 | naive_weekly | 0.855 | 0.726 "
        "| 90.8 % | 3.4516 |"
    )
    assert lines[3].startswith("| vic_elec Demand (+temp.) |") and "| — |" in lines[3]
    assert lines[-1].endswith("coverage in 85–95 % on 1 of 2")
    assert lines[-1].startswith("median ratio 0.726 (held out —), max ratio 0.726")


def test_interval_study_scores_band_rules_by_hand(tmp_path: Path) -> None:
    """Residuals ±0.01 … ±1.00 put the 90 % band at about ±0.9 around the point (±1.09
    stretched by 1.2): of hgb's actuals nine 0.5 above it are inside and one 1.0 above is in
    only when stretched; lgbm_global's point is 0.5 higher, all ten inside. The ratio is the
    better model's MASE over the better seasonal naive's."""
    import pickle

    from shell.bench import interval_study

    residual = np.arange(1, 101) / 100 * np.tile([1.0, -1.0], 50)
    point = np.full(10, 10.0)
    actual = point + np.array([0.5] * 9 + [1.0])
    records = []
    for series in ("steel Usage_kWh", "held out"):
        for model, off in (("hgb", 0.0), ("lgbm_global", 0.5)):
            records.append(
                {
                    "model": model,
                    "series": series,
                    "fold": 0,
                    "calibrated": (np.full(100, 10.0), residual),
                    "point": point + off,  # lgbm_global 0.5 higher: MAE 0.05, hgb 0.55
                    "actual": actual,
                    "scale": 1.0,
                    "floor": 0.0,
                    "naive": {"naive_daily": point - 1.0, "naive_weekly": point + 3.0},
                }
            )
    path = tmp_path / "records.pkl"
    path.write_bytes(pickle.dumps({"folds": 1, "week_hourly": False, "records": records}))
    table = interval_study.score(path)
    row = table["steel Usage_kWh"]
    assert row["tuning"] and not table["held out"]["tuning"]
    # lgbm_global: |0 × 9, 0.5| → MAE 0.05; naive daily |1.5 × 9, 2.0| → 1.55
    assert row["best"] == "lgbm_global" and row["ratio"] == pytest.approx(0.05 / 1.55, abs=1e-3)
    assert row[("hgb", "widen 1.0")] == pytest.approx(0.9)
    assert row[("hgb", "widen 1.2")] == pytest.approx(1.0)
    assert row[("lgbm_global", "widen 1.0")] == pytest.approx(1.0)


@pytest.mark.parametrize("week_hourly", [False, True])
def test_interval_study_combines_the_two_models_by_hand(tmp_path: Path, week_hourly: bool) -> None:
    """hgb forecasts 10.0, lgbm_global 10.5; at w = 0.2 the combination is 0.2 × 10 + 0.8 ×
    10.5 = 10.4. Actuals 10.5 nine times and 15.4: errors 0.1 × 9 and 5.0, MAE 0.59; the
    daily naive (9.0) is off by 1.5 × 9 and 6.4, MAE 1.99, so the ratio is 0.59 / 1.99. The
    averaged bands (about ±0.9 around each point, stretched by 0.5–3 at most) hold the nine
    and miss the tenth whatever the stretch: coverage 0.9. w = 0 is lgbm_global alone, w = 1
    hgb alone. Two identical folds pool to the same figures."""
    import pickle

    from shell.bench import interval_study

    residual = np.arange(1, 101) / 100 * np.tile([1.0, -1.0], 50)
    actual = np.array([10.5] * 9 + [15.4])
    records = [
        {
            "model": model,
            "series": "steel Usage_kWh",
            "fold": fold,
            "calibrated": (np.full(100, 10.0), residual),
            "point": np.full(10, point),
            "actual": actual,
            "scale": 1.0,
            "floor": 0.0,
            "naive": {"naive_daily": np.full(10, 9.0), "naive_weekly": np.full(10, 13.0)},
        }
        for model, point in (("hgb", 10.0), ("lgbm_global", 10.5))
        for fold in (0, 1)
    ]
    path = tmp_path / "records.pkl"
    path.write_bytes(pickle.dumps({"folds": 2, "week_hourly": week_hourly, "records": records}))
    row = interval_study.combine(path, [0.0, 0.2, 1.0])["steel Usage_kWh"]
    assert row["tuning"] and row["naive"] == pytest.approx(1.99)
    assert row["mase"]["w=0.2"] == pytest.approx(0.59)
    assert row["w=0.2"]["ratio"] == pytest.approx(0.59 / 1.99)
    assert row["w=0.2"]["coverage"] == pytest.approx(0.9)
    assert row["mase"]["w=0"] == pytest.approx(row["mase"]["lgbm_global"])
    assert row["mase"]["w=1"] == pytest.approx(row["mase"]["hgb"]) and row["mase"]["hgb"] == (
        pytest.approx((0.5 * 9 + 5.4) / 10)
    )
    assert row["w=0.2"]["pinball"] > 0
    assert interval_study.kept(week_hourly)["lgbm_global"] == (
        "measured" if week_hourly else "halfway"
    )
