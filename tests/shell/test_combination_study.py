"""The combination-weights study, on recorded folds worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.backtest import Fold, ModelResult, score
from forecasting.base import POINT, QUANTILE_COLUMNS, TARGET
from shell.bench import combination_study as study

STEP = pd.Timedelta(hours=1)


def _result(name: str, point: float) -> ModelResult:
    """Two one-day hourly folds forecasting ``point`` ± 1 against actuals of 10."""
    folds = []
    for k in range(2):
        index = pd.date_range("2026-03-02", periods=24, freq="h") + pd.Timedelta(days=k)
        offsets = np.linspace(-1, 1, len(QUANTILE_COLUMNS))
        frame = pd.DataFrame(
            np.tile(point + offsets, (24, 1)), index=index, columns=list(QUANTILE_COLUMNS)
        )
        frame.insert(0, POINT, point)
        frame[TARGET] = 10.0
        folds.append(Fold(k, frame, index[0] - pd.Timedelta(days=30), index[0], 2.0, 0.1))
    result = ModelResult(name, folds=folds)
    result.scores = score(folds, STEP)
    return result


def _record() -> dict:
    points = {"naive_daily": 14, "naive_weekly": 16, "hgb": 11, "lgbm_global": 14, "linear": 6}
    results = {s: {n: _result(n, p) for n, p in points.items()} for s in ("tuned", "held")}
    results["held"]["linear"] = _result("linear", 30)  # would pull the choice if it counted
    return {
        "tuning": {"tuned": True, "held": False},
        "step": {"tuned": STEP, "held": STEP},
        "results": results,
    }


def test_the_grid_is_the_simplex_in_tenths() -> None:
    weights = study.simplex()
    assert len(weights) == 66
    assert all(sum(w.values()) == pytest.approx(1.0) for w in weights)
    assert {"hgb": 0.2, "lgbm_global": 0.6, "linear": 0.2} in weights


def test_a_weighting_scored_by_hand() -> None:
    """0.2 × 11 + 0.6 × 14 + 0.2 × 6 = 11.8 against 10: MAE 1.8 over the daily naive's 4
    (its 14 beats the weekly 16): ratio 0.45; the band 11.8 ± 0.92 misses every actual, so
    coverage is 90 points off."""
    found = study.score(_record(), {"hgb": 0.2, "lgbm_global": 0.6, "linear": 0.2}, ["tuned"])
    assert found.ratios == {"tuned": pytest.approx(0.45)}
    assert found.coverage_distance == pytest.approx(90.0)


def test_the_choice_reads_the_tuning_series_only() -> None:
    """Weightings that hit 10 exactly (e.g. 0.5 lgbm_global + 0.5 linear) rank first with
    ratio 0, though the held-out series' linear is far off."""
    ranked = study.grid(_record())
    assert set(ranked[0].ratios) == {"tuned"}
    assert ranked[0].mean == pytest.approx(0.0, abs=1e-12)
    means = [s.mean for s in ranked]
    assert means == sorted(means)
    best = ranked[0].weights
    assert 11 * best["hgb"] + 14 * best["lgbm_global"] + 6 * best["linear"] == pytest.approx(10)


def test_the_studies_command_line_refuses_bad_arguments_by_name(tmp_path, capsys) -> None:  # noqa: ANN001
    """The line both studies share: folds below 1 and a record that is not there are refused
    with the option named; an existing record is read, not collected again."""
    from shell.bench import study_cli

    made = study_cli.parser("combination_study", ("collect", "grid"), folds=16)
    ran: list = []
    for argv, said in (
        (["grid", str(tmp_path / "x.pkl"), "--folds", "0"], "--folds: at least 1"),
        (["grid", str(tmp_path / "x.pkl")], "is not a file"),
    ):
        with pytest.raises(SystemExit):
            study_cli.collected(made, made.parse_args(argv), lambda *a: ran.append(a))
        assert said in capsys.readouterr().err
    record = tmp_path / "r.pkl"
    record.write_bytes(b"")
    args = made.parse_args(["grid", str(record), "--week-hourly"])
    assert study_cli.collected(made, args, lambda *a: ran.append(a)) is False
    assert ran == [] and args.folds == 16 and args.week_hourly


def test_a_file_that_is_no_record_is_refused_by_name(tmp_path, monkeypatch, capsys) -> None:  # noqa: ANN001
    """``grid`` on an empty file or another study's record says which argument is wrong."""
    import pickle
    import sys

    for name, content in (("empty.pkl", b""), ("other.pkl", pickle.dumps({"records": []}))):
        path = tmp_path / name
        path.write_bytes(content)
        monkeypatch.setattr(sys, "argv", ["combination_study", "grid", str(path)])
        with pytest.raises(SystemExit) as ended:
            study.main()
        assert ended.value.code == 2
        assert "path:" in capsys.readouterr().err
