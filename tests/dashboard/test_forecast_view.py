"""The forecast page's shaping and figures from API answers written out by hand (no server:
the browser test runs the same code against the real API)."""

from __future__ import annotations

from dashboard import forecast_view as fv
from dashboard.figures.forecasts import error_figure, forecast_figure, past_figure

ACCURACY = {
    "site": "P1",
    "unit": "kW",
    "scores": [
        {
            "day": "2026-03-09",
            "horizon_h": 24,
            "model": "hgb",
            "points": 96,
            "mae": 4.0,
            "naive_mae": 8.0,
            "mape": 0.1,
            "wape": 0.1,
            "mase": 0.5,
            "coverage_90": 0.75,
        },
        {
            "day": "2026-03-10",
            "horizon_h": 24,
            "model": "hgb",
            "points": 48,
            "mae": 2.0,
            "naive_mae": 4.0,
            "mape": 0.05,
            "wape": 0.05,
            "mase": 0.25,
            "coverage_90": 1.0,
        },
        {
            "day": "2026-03-10",
            "horizon_h": 24,
            "model": "naive_daily",
            "points": 48,
            "mae": 6.0,
            "naive_mae": 8.0,
            "mape": 0.1,
            "wape": 0.1,
            "mase": 0.7,
            "coverage_90": 0.5,
        },
        {
            "day": "2026-03-10",
            "horizon_h": 168,
            "model": "naive_weekly",
            "points": 96,
            "mae": 8.0,
            "naive_mae": 8.0,
            "mape": 0.2,
            "wape": 0.2,
            "mase": 1.0,
            "coverage_90": 0.9,
        },
    ],  # fmt: skip
    "models": [
        {
            "horizon_h": 24,
            "model": "hgb",
            "days": 2,
            "points": 144,
            "mae": 3.333,
            "wape": 0.08,
            "coverage_90": 0.8333,
            "naive_mae": 6.667,
            "ratio": 0.5,
        },
        {
            "horizon_h": 24,
            "model": "naive_daily",
            "days": 1,
            "points": 48,
            "mae": 6.0,
            "wape": 0.1,
            "coverage_90": 0.5,
            "naive_mae": 8.0,
            "ratio": 0.75,
        },
        {
            "horizon_h": 168,
            "model": "naive_weekly",
            "days": 1,
            "points": 96,
            "mae": 8.0,
            "wape": 0.2,
            "coverage_90": 0.9,
            "naive_mae": 8.0,
            "ratio": 1.0,
        },
    ],  # fmt: skip
    "drift": {
        "rule": {"days": 14, "margin": 0.1, "min_days": 5},
        "baseline": "naive_weekly",
        "models": {"hgb": {"demoted": False}, "naive_daily": {"demoted": True}},
    },
    "in_force": {
        "24h": {
            "model": "hgb",
            "created_at": "2026-03-10T18:00:00+00:00",
            "train_start": "2025-03-10T00:00:00+00:00",
            "train_end": "2026-03-10T17:45:00+00:00",
            "backtest": {
                "selected": "hgb",
                "demoted": ["prophet"],
                "candidates": {
                    "naive_weekly": {"mase": 0.9, "wape": 0.2, "mae": 8.0, "coverage_90": 0.9},
                    "hgb": {"mase": 0.5, "wape": 0.1, "mae": 4.0, "coverage_90": 0.88},
                    "naive_daily": {"error": "fold 1: too short"},
                },
            },
        },
        "168h": None,
    },
}


def test_backtest_rows_best_first_with_the_selected_and_demoted() -> None:
    rows = fv.backtest_rows(ACCURACY, "24h", "en")
    assert [r["model"] for r in rows] == ["hgb", "naive_weekly", "naive_daily", "prophet"]
    hgb = rows[0]
    assert hgb["selected"] and hgb["label"] == "Gradient boosting (hgb)"
    assert (hgb["mase"], hgb["wape"], hgb["mae"], hgb["coverage"]) == (
        "0.500",
        "10.0 %",
        "4.00 kW",
        "88.0 %",
    )
    assert rows[2]["mase"] == "—" and rows[2]["note"] == "fold 1: too short"
    assert rows[3]["note"] == "demoted: tracked error drifted"
    assert fv.backtest_rows(ACCURACY, "7d", "en") == []  # no week-ahead run yet
    assert fv.backtest_rows(ACCURACY, "24h", "zh")[0]["label"] == "梯度提升树（hgb）"


def test_tracked_rows_per_lead_with_the_drift_verdict() -> None:
    day = fv.tracked_rows(ACCURACY, "24h", "en")
    assert [(r["model"], r["demoted"]) for r in day] == [("hgb", False), ("naive_daily", True)]
    assert (day[0]["mae"], day[0]["naive_mae"], day[0]["ratio"]) == ("3.33 kW", "6.67 kW", "0.50")
    week = fv.tracked_rows(ACCURACY, "7d", "en")
    assert [r["model"] for r in week] == ["naive_weekly"] and not week[0]["demoted"]
    assert "more than 10 %" in fv.drift_rule_text(ACCURACY, "en")
    assert "10 %" in fv.drift_rule_text(ACCURACY, "zh")


def test_meter_options_and_subject() -> None:
    meters = [
        {"code": "E1", "name": "Line 产线", "site": "P1", "kind": "delta", "canonical_unit": "kWh"},
        {"code": "T1", "name": "Temp", "site": "P1", "kind": "gauge", "canonical_unit": "degC"},
        {"code": "K1", "name": "Power", "site": "P1", "kind": "gauge", "canonical_unit": "kW"},
        {"code": "E2", "name": "Other", "site": "P2", "kind": "delta", "canonical_unit": "kWh"},
    ]
    assert [o["value"] for o in fv.meter_options(meters, "P1", "en")] == ["E1", "K1"]
    assert fv.meter_options(meters, "P1", "zh")[0]["label"] == "E1 · 产线"
    assert fv.subject_of("P1", None) == {"site": "P1"}
    assert fv.subject_of("P1", "E1") == {"meter": "E1"}
    assert fv.subject_of(None, None) == {}


def test_error_figure_bars_per_model_and_the_baseline_weighted_by_points() -> None:
    labels = {"hgb": "hgb", "naive_daily": "daily"}
    fig = error_figure(ACCURACY, 24, labels, "en")
    bars = [tr for tr in fig.data if tr.type == "bar"]
    assert [tr.name for tr in bars] == ["MAE · hgb", "MAE · daily"]
    naive = next(tr for tr in fig.data if tr.name.startswith("MAE · seasonal naive"))
    # 10 March: (4·48 + 8·48) / 96 = 6 kW; coverage (1.0·48 + 0.5·48) / 96 = 75 %
    assert list(naive.y) == [8.0, 6.0]
    coverage = next(tr for tr in fig.data if tr.yaxis == "y2")
    assert list(coverage.y) == [75.0, 75.0]
    assert fig.layout.yaxis.title.text == "kW"
    assert error_figure(ACCURACY, 168, {}, "en").data[0].name == "MAE · naive_weekly"
    assert error_figure({"scores": []}, 24, {}, "en")["data"] == []


def test_forecast_and_past_figures_carry_units_and_the_band() -> None:
    answer = {
        "unit": "kW",
        "horizon_h": 24,
        "run": {"origin": "2026-03-10T18:00:00+00:00"},
        "points": [
            {
                "ts": "2026-03-10T17:45:00+00:00",
                "actual": 40.0,
                "forecast": None,
                "lower": None,
                "upper": None,
            },
            {
                "ts": "2026-03-10T18:00:00+00:00",
                "actual": None,
                "forecast": 44.0,
                "lower": 42.0,
                "upper": 52.0,
            },
        ],  # fmt: skip
    }
    fig = forecast_figure(answer, "Asia/Shanghai", "en")
    assert fig.layout.yaxis.title.text == "kW"
    names = [tr.name for tr in fig.data]
    assert names == [None, "90 % interval", "Actual", "Forecast"]
    assert list(fig.data[3].y)[1] == 44.0
    assert fig.layout.annotations[0].text == "forecast from here"
    past = past_figure({**answer, "points": [{**p, "model": "hgb"} for p in answer["points"]]},
                       "Asia/Shanghai", "zh")  # fmt: skip
    assert [tr.name for tr in past.data][-1] == "当时的预测"
    assert forecast_figure(None, "UTC")["data"] == []
