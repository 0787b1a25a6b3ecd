"""Exogenous inputs of the forecasts: a site's temperature meter and posted series with future
values, as known at the run's clock, used by the models that take them and recorded on the run
(real database, real HTTP app; constructed data where load follows the temperature)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from forecasting import backtest, exog, subjects
from forecasting.base import TARGET, future_index
from forecasting.calendar import HolidayCalendar
from forecasting.registry import ModelContext, factories
from forecasting.runs import DAY_AHEAD, WEEK_AHEAD, ForecastJobs, with_inputs
from metering import registry
from models.forecasting import ForecastPoint, ForecastRun

NOW = datetime(2026, 3, 2, 0, 7, tzinfo=UTC)
DAYS = 60
HOUR = timedelta(hours=1)
ORIGIN = NOW.replace(minute=0)  # the first hour not yet complete: the forecast starts here


def weather(hours: int, seed: int = 5) -> np.ndarray:
    """°C per hour: a daily cycle (±5 °C, warmest at 15:00) on day-to-day swings nobody's
    calendar knows (an AR(1) anomaly, 0.5 per day, 6 °C spread)."""
    rng = np.random.default_rng(seed)
    days = hours // 24 + 2
    anomaly = np.zeros(days)
    for d in range(1, days):
        anomaly[d] = 0.5 * anomaly[d - 1] + rng.normal(0, 6)
    h = np.arange(hours)
    return 18 + anomaly[h // 24] + 5 * np.sin(2 * np.pi * ((h % 24) - 9) / 24)


def load_of(temperature: np.ndarray, seed: int = 7) -> np.ndarray:
    """kW: 200 base, 12 kW per °C of cooling above 20 °C and 6 kW per °C of heating below
    12 °C, ±2 kW noise."""
    rng = np.random.default_rng(seed)
    t = np.asarray(temperature)
    return 200 + 12 * np.maximum(t - 20, 0) + 6 * np.maximum(12 - t, 0) + rng.normal(0, 2, t.size)


@pytest.fixture(scope="module")
def hot_site(client, engine, admin_headers) -> dict:  # noqa: ANN001
    """A site with an hourly kW gauge whose load follows its temperature gauge, and a
    temperature forecast posted for the next 8 days."""
    uid = uuid.uuid4().hex[:6]
    codes = {"site": f"EX-{uid}", "load": f"EXL-{uid}", "temp": f"EXT-{uid}"}
    r = client.post(
        "/api/v1/sites", headers=admin_headers, json={"code": codes["site"], "name": "hot plant"}
    )
    assert r.status_code == 201, r.text
    for key, carrier, unit in (("load", "electricity", "kW"), ("temp", "other", "degC")):
        r = client.post(
            "/api/v1/meters",
            headers=admin_headers,
            json={
                "code": codes[key],
                "name": key,
                "site": codes["site"],
                "carrier": carrier,
                "unit": unit,
                "kind": "gauge",
                "interval_s": 3600,
            },
        )
        assert r.status_code == 201, r.text
    past = [ORIGIN - HOUR * k for k in range(DAYS * 24, 0, -1)]  # up to the last complete hour
    ahead = [ORIGIN + HOUR * k for k in range(8 * 24)]
    temperature = weather(len(past) + len(ahead))
    load = load_of(temperature)
    # a reading is stamped at the end of its interval: the bucket labelled t holds the reading
    # at t + 1 h; the posted forecast is labelled by bucket start, like the forecasts
    stamps = [(t + HOUR).isoformat() for t in past]
    body = {
        "series": [
            {"meter": codes["temp"], "ts": stamps, "value": temperature[: len(past)].tolist()},
            {"meter": codes["load"], "ts": stamps, "value": load[: len(past)].tolist()},
        ]
    }
    r = client.post("/api/v1/readings", json=body, headers=admin_headers)
    assert r.status_code == 200 and not r.json()["rejected"], r.text
    r = client.post(
        "/api/v1/exogenous",
        headers=admin_headers,
        json={
            "site": codes["site"],
            "series": "weather_forecast",
            "unit": "degC",
            "issued_at": (NOW - 2 * HOUR).isoformat(),
            "points": [
                {"ts": t.isoformat(), "value": float(v)}
                for t, v in zip(ahead, temperature[len(past) :], strict=True)
            ],
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["column"] == "temperature"
    return {**codes, "load_kw": load, "hours": len(past)}


def _subject(engine, code: str) -> subjects.Subject:  # noqa: ANN001
    with Session(engine) as session:
        return subjects.find_subject(session, meter=code, site=None, carrier=None)


def test_temperature_from_the_meter_then_the_posted_forecast(hot_site, engine) -> None:  # noqa: ANN001
    subject = _subject(engine, hot_site["load"])
    assert (subject.quantity, subject.resolution) == ("load", "1h")
    with Session(engine) as session:
        last = subjects.last_complete(subject, NOW)
        frame = subjects.history(session, subject, last - timedelta(days=DAYS - 1), last)
        train, future, inputs = with_inputs(session, subject, frame, 24, NOW)
    assert inputs.columns == ("temperature",)
    expected = weather(DAYS * 24 + 8 * 24)
    # the history starts 23 h after the first reading: (DAYS − 1) days before the last hour
    past = expected[23 : DAYS * 24]
    np.testing.assert_allclose(train["temperature"].to_numpy(), past, atol=1e-9)
    assert future is not None
    np.testing.assert_allclose(
        future["temperature"].to_numpy(), expected[DAYS * 24 : DAYS * 24 + 24], atol=1e-9
    )
    columns = inputs.record["columns"]
    assert [c["column"] for c in columns] == ["temperature"]
    assert columns[0]["sources"][0] == {"meter": hot_site["temp"], "unit": "degC"}
    assert columns[0]["sources"][1]["series"] == "weather_forecast"
    assert inputs.record["as_of"] == NOW.isoformat()


def test_the_model_with_temperature_beats_the_one_without(hot_site, engine) -> None:  # noqa: ANN001
    subject = _subject(engine, hot_site["load"])
    with Session(engine) as session:
        last = subjects.last_complete(subject, NOW)
        frame = subjects.history(session, subject, last - timedelta(days=DAYS - 1), last)
        train, _, _ = with_inputs(session, subject, frame, 24, NOW)
    calendar = HolidayCalendar("none")
    with_t = backtest.rolling_origin(
        train, factories(["hgb"], ModelContext(24, calendar, ("temperature",))), 24, 7
    )["hgb"]
    without = backtest.rolling_origin(
        train[[TARGET]], factories(["hgb"], ModelContext(24, calendar)), 24, 7
    )["hgb"]
    assert with_t.error is None and without.error is None
    # load = f(temperature) with day-to-day swings: the lags alone cannot know tomorrow's heat
    assert with_t.scores["mase"] < 0.6 * without.scores["mase"]


def test_nightly_run_uses_and_records_the_temperature(client, hot_site, engine) -> None:  # noqa: ANN001
    clock = {"now": NOW}
    jobs = ForecastJobs(
        "none",
        clock=lambda: clock["now"],
        folds={DAY_AHEAD: 3, WEEK_AHEAD: 1},
        candidates=("naive_weekly", "hgb"),
    )
    assert jobs.nightly(engine, site=hot_site["site"]) == 1  # the load gauge
    with Session(engine) as session:
        meter_id = registry.get_meter(session, hot_site["load"]).id
        runs = {
            r.horizon_steps: r
            for r in session.scalars(select(ForecastRun).where(ForecastRun.meter_id == meter_id))
        }
    assert sorted(runs) == [24, 168]
    day = runs[24]
    assert day.model == "hgb" and day.params["exog"] == ["temperature"]
    assert [c["column"] for c in day.inputs["columns"]] == ["temperature"]
    assert day.run_key.startswith(f"nightly:meter:{meter_id}:electricity:load:24:")
    assert runs[168].inputs["columns"][0]["column"] == "temperature"  # 8 days posted
    with Session(engine) as session:
        points = session.scalars(
            select(ForecastPoint).where(ForecastPoint.run_id == day.id).order_by(ForecastPoint.ts)
        ).all()
    assert points[0].ts == ORIGIN and len(points) == 24
    forecast = np.array([p.yhat for p in points])
    n, load = hot_site["hours"], hot_site["load_kw"]
    actual, yesterday = load[n : n + 24], load[n - 24 : n]
    # the forecast follows tomorrow's posted weather: it errs far less than "same as yesterday"
    assert np.mean(np.abs(forecast - actual)) < 0.5 * np.mean(np.abs(yesterday - actual))

    # an hour later the refresh moves the kept model on, with the same input
    clock["now"] = NOW + HOUR
    assert jobs.refresh(engine, site=hot_site["site"]) == 1
    with Session(engine) as session:
        refresh = session.scalars(
            select(ForecastRun).where(
                ForecastRun.meter_id == meter_id, ForecastRun.purpose == "refresh"
            )
        ).one()
    assert refresh.run_key is None and refresh.train_end == ORIGIN
    assert refresh.params["exog"] == ["temperature"]
    assert refresh.inputs["as_of"] == (NOW + HOUR).isoformat()
    assert [c["column"] for c in refresh.inputs["columns"]] == ["temperature"]


def test_inputs_as_of_follow_issued_at(client, admin_headers, hot_site, engine) -> None:  # noqa: ANN001
    """A production plan issued twice: a run as of between the two issues uses the first,
    a run after the second uses the second; a plan that stops short of the horizon is left
    out, with the reason recorded."""
    site = hot_site["site"]
    start = ORIGIN - timedelta(days=DAYS)
    stamps = [start + HOUR * k for k in range(DAYS * 24 + 8 * 24)]
    for issued, value in ((NOW - timedelta(days=3), 5.0), (NOW - timedelta(days=1), 7.0)):
        r = client.post(
            "/api/v1/exogenous",
            headers=admin_headers,
            json={
                "site": site,
                "series": "plan",
                "unit": "t",
                "issued_at": issued.isoformat(),
                "points": [{"ts": t.isoformat(), "value": value} for t in stamps],
            },
        )
        assert r.status_code == 201, r.text
    subject = _subject(engine, hot_site["load"])
    index = pd.date_range(start, ORIGIN - HOUR, freq="1h")
    future = future_index(index, 24)
    with Session(engine) as session:
        before = exog.subject_inputs(session, subject, index, future, NOW - timedelta(days=2))
        after = exog.subject_inputs(session, subject, index, future, NOW)
        week = exog.subject_inputs(
            session, subject, index, future_index(index, 24 * 9), NOW - timedelta(days=2)
        )
    assert set(before.frame["exog_plan"]) == {5.0}
    assert set(after.frame["exog_plan"]) == {7.0}
    plan = next(c for c in after.record["columns"] if c["column"] == "exog_plan")
    assert plan["sources"] == [
        {
            "series": "plan",
            "unit": "t",
            "issues": 1,
            "newest_issue": (NOW - timedelta(days=1)).isoformat(),
        }
    ]
    # 9 days ahead: neither the plan (8 days) nor the weather forecast covers it
    assert week.columns == ()
    assert {s["column"] for s in week.record["skipped"]} == {"temperature", "exog_plan"}


def test_a_workshop_takes_its_plants_weather(client, admin_headers, hot_site, engine) -> None:  # noqa: ANN001
    shop, meter = f"{hot_site['site']}-W1", f"{hot_site['load']}-W1"
    r = client.post(
        "/api/v1/sites",
        headers=admin_headers,
        json={"code": shop, "name": "workshop", "parent": hot_site["site"]},
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/meters",
        headers=admin_headers,
        json={
            "code": meter,
            "name": "w1",
            "site": shop,
            "carrier": "electricity",
            "unit": "kW",
            "kind": "gauge",
            "interval_s": 3600,
        },
    )
    assert r.status_code == 201, r.text
    index = pd.date_range(ORIGIN - timedelta(days=20), ORIGIN - HOUR, freq="1h")
    with Session(engine) as session:
        inputs = exog.subject_inputs(
            session, _subject(engine, meter), index, future_index(index, 24), NOW
        )
    (temperature,) = [c for c in inputs.record["columns"] if c["column"] == "temperature"]
    assert temperature["sources"][0] == {"meter": hot_site["temp"], "unit": "degC"}
    assert temperature["sources"][1]["series"] == "weather_forecast"
    np.testing.assert_allclose(
        inputs.frame["temperature"].to_numpy()[-24:],
        weather(DAYS * 24 + 8 * 24)[DAYS * 24 : DAYS * 24 + 24],
        atol=1e-9,
    )
