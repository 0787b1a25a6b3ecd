"""Forecast tracking: hand-worked scores on constructed data, idempotent re-scoring, the drift
rule demoting a model in the nightly selection, and ``GET /api/v1/forecasts/accuracy`` and
``/forecasts/past`` (real database, real HTTP app)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from forecasting import tracking
from forecasting.runs import DAY_AHEAD, WEEK_AHEAD, ForecastJobs
from forecasting.subjects import find_subject
from forecasting.tracking import DriftRule, score_points
from models.forecasting import ForecastPoint, ForecastRun, ForecastScore
from tests.support.db import make_key

STEP = timedelta(minutes=15)
DAY = date(2026, 3, 10)  # the scored day, Asia/Shanghai (UTC+8)
DAY_START = datetime(2026, 3, 9, 16, 0, tzinfo=UTC)  # 10 March 00:00 Beijing time
NOW = datetime(2026, 3, 11, 1, 0, tzinfo=UTC)  # 11 March 09:00 Beijing: the 10th is complete


def test_score_points_hand_worked() -> None:
    y = np.array([10.0, 20.0, 0.0, 30.0, np.nan])
    yhat = np.array([12.0, 15.0, 1.0, 30.0, 5.0])
    lower = np.array([10.5, 16.0, 0.0, 25.0, 0.0])  # 10 lies below its band
    upper = np.array([13.0, 25.0, 2.0, 35.0, 9.0])
    naive = np.array([8.0, 20.0, np.nan, 36.0, 1.0])
    s = score_points(y, yhat, lower, upper, naive, 2.0)
    assert s is not None
    assert s["points"] == 4  # the missing actual is left out
    assert s["abs_error"] == pytest.approx(2 + 5 + 1 + 0)
    assert s["mae"] == pytest.approx(2.0)
    assert s["abs_actual"] == pytest.approx(60.0)
    assert s["wape"] == pytest.approx(8 / 60)
    assert s["mape"] == pytest.approx((2 / 10 + 5 / 20 + 0 / 30) / 3)  # y = 0 left out
    assert s["mase"] == pytest.approx(2.0 / 2.0)
    assert s["inside_90"] == 3 and s["coverage_90"] == pytest.approx(0.75)
    assert s["naive_abs_error"] == pytest.approx(2 + 0 + 6) and s["naive_points"] == 3
    assert score_points(np.array([np.nan]), *(np.array([1.0]),) * 4, 1.0) is None
    flat = score_points(*(np.zeros(3),) * 5, float("nan"))
    assert flat is not None and flat["wape"] is None and flat["mape"] is None
    assert flat["mase"] is None and flat["scale"] is None


def _site_with_meter(client, admin_headers) -> dict:  # noqa: ANN001
    uid = uuid.uuid4().hex[:6]
    site, meter = f"TR-{uid}", f"TRE-{uid}"
    r = client.post(
        "/api/v1/sites",
        headers=admin_headers,
        json={"code": site, "name": "tracked plant", "timezone": "Asia/Shanghai"},
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/meters",
        headers=admin_headers,
        json={
            "code": meter,
            "name": "tracked",
            "site": site,
            "carrier": "electricity",
            "unit": "kWh",
            "kind": "delta",
            "interval_s": 900,
        },
    )
    assert r.status_code == 201, r.text
    return {"site": site, "meter": meter}


def _post_values(client, admin_headers, meter: str, start: datetime, values) -> None:  # noqa: ANN001
    """``values[k]`` is the energy of the bucket starting ``start + k·15 min`` (a delta
    reading is stamped at the end of its interval)."""
    ts = [start + STEP * (k + 1) for k in range(len(values))]
    r = client.post(
        "/api/v1/readings",
        headers=admin_headers,
        json={
            "series": [{"meter": meter, "ts": [t.isoformat() for t in ts], "value": list(values)}]
        },
    )
    assert r.status_code == 200 and not r.json()["rejected"], r.text


def _run(session: Session, meter_id: int, model: str, origin: datetime, yhat, lo, hi) -> int:  # noqa: ANN001
    run = ForecastRun(
        meter_id=meter_id,
        carrier="electricity",
        quantity="energy",
        unit="kWh",
        resolution_s=900,
        purpose="nightly",
        model=model,
        params={},
        train_start=origin - timedelta(days=30),
        train_end=origin - STEP,
        horizon_steps=len(yhat),
        scores={"selected": model, "candidates": {model: {"mase": 0.5, "mae": 1.5}}},
        fit_s=0.1,
    )
    session.add(run)
    session.flush()
    session.execute(
        insert(ForecastPoint),
        [
            {
                "run_id": run.id,
                "ts": origin + STEP * k,
                "yhat": float(yhat[k]),
                "q05": float(lo[k]),
                "q25": float(yhat[k]),
                "q75": float(yhat[k]),
                "q95": float(hi[k]),
            }
            for k in range(len(yhat))
        ],
    )
    return run.id


@pytest.fixture(scope="module")
def tracked(client, engine, admin_headers) -> dict:  # noqa: ANN001
    """A meter at 10 kWh per 15 min for 36 days, except 3 March (the day a week before the
    scored day) at 8. Forecasts of 10 March: an ``hgb`` day-ahead run from 00:00 at 11
    (band 10.5–13: misses) whose second half a newer ``naive_daily`` run from 12:00 replaces
    at 10 (band 9–11: hits), and a ``naive_weekly`` week-ahead run from 8 March at 10."""
    codes = _site_with_meter(client, admin_headers)
    first = DAY_START - timedelta(days=35)
    values = np.full(37 * 96, 10.0)
    week_before = int((DAY_START - timedelta(days=7) - first) / STEP)
    values[week_before : week_before + 96] = 8.0
    _post_values(client, admin_headers, codes["meter"], first, values.tolist())
    with Session(engine) as session:
        subject = find_subject(session, meter=codes["meter"], site=None, carrier=None)
        half = DAY_START + timedelta(hours=12)
        _run(session, subject.id, "hgb", DAY_START, [11.0] * 96, [10.5] * 96, [13.0] * 96)
        _run(session, subject.id, "naive_daily", half, [10.0] * 96, [9.0] * 96, [11.0] * 96)
        week = DAY_START - timedelta(days=2)
        _run(session, subject.id, "naive_weekly", week, [10.0] * 672, [9.5] * 672, [10.5] * 672)
        session.commit()
    return {
        **codes,
        "subject": subject,
        "viewer": {"Authorization": f"Bearer {make_key(engine, 'viewer')}"},
    }


def _scores(engine, subject) -> list[ForecastScore]:  # noqa: ANN001
    with Session(engine) as session:
        return list(
            session.scalars(
                select(ForecastScore)
                .where(ForecastScore.meter_id == subject.id)
                .order_by(ForecastScore.day, ForecastScore.horizon_h, ForecastScore.model)
            )
        )


def test_a_day_scored_per_lead_and_model_hand_worked(tracked, engine) -> None:  # noqa: ANN001
    subject = tracked["subject"]
    with Session(engine) as session:
        assert tracking.score_days(session, subject, [DAY]) == 3
        session.commit()
    rows = {(r.horizon_h, r.model): r for r in _scores(engine, subject) if r.day == DAY}
    assert set(rows) == {(24, "hgb"), (24, "naive_daily"), (168, "naive_weekly")}
    hgb = rows[24, "hgb"]  # 00:00–12:00: forecast 11, actual 10
    assert hgb.points == 48 and hgb.unit == "kWh"
    assert hgb.mae == pytest.approx(1.0)
    assert hgb.wape == pytest.approx(48 / 480) and hgb.mape == pytest.approx(0.1)
    assert hgb.coverage_90 == 0.0 and hgb.inside_90 == 0  # 10 is below the band 10.5–13
    # a week before, the value was 8: the weekly naive is 2 off on every bucket
    assert hgb.naive_abs_error == pytest.approx(96.0) and hgb.naive_points == 48
    # MASE scale: over the 28 days before, the weekly naive is off by 2 only on the 96
    # buckets of 3 March: 2 · 96 / (28 · 96) = 1/14
    assert hgb.scale == pytest.approx(1 / 14)
    assert hgb.mase == pytest.approx(14.0)
    daily = rows[24, "naive_daily"]  # 12:00–24:00: the newer run is in force
    assert daily.points == 48 and daily.mae == 0.0 and daily.coverage_90 == 1.0
    weekly = rows[168, "naive_weekly"]
    assert weekly.points == 96 and weekly.mae == 0.0 and weekly.coverage_90 == 1.0


def test_rescoring_a_day_stores_it_once(tracked, engine) -> None:  # noqa: ANN001
    subject = tracked["subject"]
    before = [(r.day, r.horizon_h, r.model, r.mae) for r in _scores(engine, subject)]
    with Session(engine) as session:
        tracking.score_days(session, subject, [DAY])
        tracking.score_days(session, subject, [DAY])
        session.commit()
    again = [(r.day, r.horizon_h, r.model, r.mae) for r in _scores(engine, subject)]
    assert again == before and len(again) == 3
    # the job: the two complete days before 11 March; on 9 March only the week-ahead run
    # (from 8 March) was in force
    assert tracking.track(engine, NOW, site=tracked["site"]) == 4
    assert tracking.track(engine, NOW, site=tracked["site"]) == 4
    after = [(r.day, r.horizon_h, r.model, r.mae) for r in _scores(engine, subject)]
    assert after == [(date(2026, 3, 9), 168, "naive_weekly", 0.0), *before]
    with Session(engine) as session:
        n = session.scalar(select(func.count()).where(ForecastScore.meter_id == subject.id))
    assert n == 4


def _drift_rows(session: Session, meter_id: int, model: str, days: int, mae: float) -> None:
    """``days`` days before DAY of day-ahead scores: ``model`` at ``mae``, the weekly naive
    at 2.0 on the same 96 buckets."""
    for k in range(1, days + 1):
        session.add(
            ForecastScore(
                meter_id=meter_id,
                carrier="electricity",
                quantity="energy",
                unit="kWh",
                horizon_h=24,
                model=model,
                day=DAY - timedelta(days=k),
                points=96,
                abs_error=mae * 96,
                abs_actual=960.0,
                naive_abs_error=2.0 * 96,
                naive_points=96,
                inside_90=86,
                scale=1.0,
                mae=mae,
                mape=mae / 10,
                wape=mae / 10,
                mase=mae,
                coverage_90=86 / 96,
            )
        )


def test_drift_rule(client, engine, admin_headers) -> None:  # noqa: ANN001
    codes = _site_with_meter(client, admin_headers)
    rule = DriftRule(days=14, margin=0.10, min_days=5)
    with Session(engine) as session:
        subject = find_subject(session, meter=codes["meter"], site=None, carrier=None)
        _drift_rows(session, subject.id, "hgb", 6, 2.3)  # 1.15 × the naive: demoted
        _drift_rows(session, subject.id, "prophet", 4, 3.0)  # 1.5 ×, but only 4 days
        _drift_rows(session, subject.id, "naive_daily", 6, 2.18)  # 1.09 ×: within the margin
        _drift_rows(session, subject.id, "naive_weekly", 6, 4.0)  # the baseline: never
        session.flush()
        verdicts = tracking.drift(session, subject, DAY, rule)
        assert verdicts["hgb"]["ratio"] == pytest.approx(1.15)
        assert verdicts["hgb"]["days"] == 6 and verdicts["hgb"]["demoted"]
        assert not verdicts["prophet"]["demoted"]
        assert not verdicts["naive_daily"]["demoted"]
        assert not verdicts["naive_weekly"]["demoted"]
        assert tracking.demoted_models(session, subject, NOW - timedelta(days=1), rule) == {"hgb"}
        # a shorter window sees fewer days: 3 days of hgb are not enough
        assert not tracking.drift(session, subject, DAY, DriftRule(3, 0.10, 5))["hgb"]["demoted"]
        assert tracking.without_demoted(("naive_daily", "hgb"), {"hgb"}) == ("naive_daily",)
        assert tracking.without_demoted(("hgb",), {"hgb"}) == ("naive_weekly",)


def test_a_drifting_model_is_left_out_of_the_nightly_selection(
    client, engine, admin_headers
) -> None:  # noqa: ANN001
    codes = _site_with_meter(client, admin_headers)
    first = DAY_START - timedelta(days=21)
    rng = np.random.default_rng(5)
    values = np.round(10 + rng.normal(0, 1, 21 * 96), 3).clip(0)
    _post_values(client, admin_headers, codes["meter"], first, values.tolist())
    with Session(engine) as session:
        subject = find_subject(session, meter=codes["meter"], site=None, carrier=None)
        _drift_rows(session, subject.id, "hgb", 7, 3.0)
        session.commit()
    # 10 March 00:00 Beijing time, right after the last reading
    jobs = ForecastJobs(
        clock=lambda: DAY_START,
        folds={DAY_AHEAD: 2, WEEK_AHEAD: 1},
        drift=DriftRule(14, 0.10, 5),
    )
    with Session(engine) as session:
        subject_runs = session.scalar(
            select(func.count()).where(ForecastRun.meter_id == subject.id)
        )
    assert subject_runs == 0
    jobs.nightly(engine, site=codes["site"])
    with Session(engine) as session:
        runs = session.scalars(select(ForecastRun).where(ForecastRun.meter_id == subject.id)).all()
    assert len(runs) == 2
    for run in runs:
        assert run.scores is not None
        assert run.scores["demoted"] == ["hgb"]
        assert "hgb" not in run.scores.get("candidates", {})
        assert run.model != "hgb"


def _get(client, path: str, headers: dict, **params):  # noqa: ANN001, ANN003, ANN202
    return client.get(f"/api/v1/forecasts/{path}", params=params, headers=headers)


def test_accuracy_api(client, engine, tracked) -> None:  # noqa: ANN001
    with Session(engine) as session:
        tracking.score_days(session, tracked["subject"], [DAY])
        session.commit()
    r = _get(client, "accuracy", tracked["viewer"], meter=tracked["meter"], end=DAY, days=3)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["meter"] == tracked["meter"] and out["unit"] == "kW"  # load: 4 × kWh/15 min
    assert (out["from"], out["to"]) == ("2026-03-08", "2026-03-10")
    hgb = next(s for s in out["scores"] if s["model"] == "hgb")
    assert hgb["day"] == "2026-03-10" and hgb["horizon_h"] == 24 and hgb["points"] == 48
    assert hgb["mae"] == pytest.approx(4.0) and hgb["naive_mae"] == pytest.approx(8.0)
    assert hgb["wape"] == pytest.approx(0.1) and hgb["coverage_90"] == 0.0
    assert hgb["mase"] == pytest.approx(14.0)
    pooled = {(m["horizon_h"], m["model"]): m for m in out["models"]}
    assert pooled[24, "hgb"]["ratio"] == pytest.approx(0.5)  # 1 kWh off vs the naive's 2
    assert out["drift"]["rule"] == {"days": 14, "margin": 0.1, "min_days": 5}
    assert out["drift"]["models"]["hgb"]["demoted"] is False
    day_ahead = out["in_force"]["24h"]
    assert day_ahead["model"] == "naive_daily"  # the newest day-ahead run
    assert day_ahead["backtest"]["candidates"]["naive_daily"]["mae"] == pytest.approx(6.0)
    assert out["in_force"]["168h"]["model"] == "naive_weekly"
    energy = _get(
        client, "accuracy", tracked["viewer"], meter=tracked["meter"], end=DAY, target="energy"
    ).json()
    assert energy["unit"] == "kWh"
    assert next(s for s in energy["scores"] if s["model"] == "hgb")["mae"] == pytest.approx(1.0)


def test_past_forecasts_api(client, tracked) -> None:  # noqa: ANN001
    r = _get(client, "past", tracked["viewer"], meter=tracked["meter"], end=DAY, days=1)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["unit"] == "kW" and out["horizon_h"] == 24
    points = out["points"]
    assert len(points) == 96
    assert datetime.fromisoformat(points[0]["ts"]) == DAY_START
    assert points[0] == {
        "ts": points[0]["ts"],
        "actual": pytest.approx(40.0),
        "forecast": pytest.approx(44.0),
        "lower": pytest.approx(42.0),
        "upper": pytest.approx(52.0),
        "model": "hgb",
    }
    assert points[48]["model"] == "naive_daily" and points[48]["forecast"] == pytest.approx(40.0)
    week = _get(
        client, "past", tracked["viewer"], meter=tracked["meter"], end=DAY, days=1, horizon="7d"
    ).json()
    assert {p["model"] for p in week["points"]} == {"naive_weekly"}


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("accuracy", {"days": 0}, 422, "days"),
        ("accuracy", {"days": 91}, 422, "days"),
        ("accuracy", {"target": "co2"}, 422, "target"),
        ("accuracy", {"end": "2026-13-01"}, 422, "end"),
        ("accuracy", {"site": "also"}, 422, "exactly one"),
        ("accuracy", {"meter": "NO-SUCH-METER"}, 404, "NO-SUCH-METER"),
        ("past", {"horizon": "3d"}, 422, "horizon"),
        ("past", {"days": 36}, 422, "days"),
    ],
)
def test_requests_that_cannot_be_answered(client, tracked, path, params, status, field) -> None:  # noqa: ANN001
    query = {"meter": tracked["meter"], **params}
    r = _get(client, path, tracked["viewer"], **query)
    assert r.status_code == status, r.text
    assert field in r.text
    assert _get(client, path, {}, meter=tracked["meter"]).status_code == 401
