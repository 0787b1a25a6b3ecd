"""Forecasts of meters and sites: nightly selection, 15-minute refresh, storage, and
``GET /api/v1/forecasts`` with the actuals alongside (real database, real HTTP app)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forecasting.runs import DAY_AHEAD, WEEK_AHEAD, ForecastJobs
from metering import registry
from models.forecasting import ForecastPoint, ForecastRun
from tests.support.db import make_key

NOW = datetime(2026, 3, 2, 0, 7, tzinfo=UTC)
DAYS = 15
STEP = timedelta(minutes=15)


def _profile(ts: list[datetime]) -> np.ndarray:
    """kWh per 15 minutes: 25 on working-day shifts (08:00–18:00 Beijing time), 3 otherwise."""
    local = [t + timedelta(hours=8) for t in ts]
    work = np.array([8 <= t.hour < 18 and t.weekday() < 5 for t in local])
    rng = np.random.default_rng(11)
    return np.round(np.where(work, 25.0, 3.0) + rng.normal(0, 0.5, len(ts)), 3).clip(0)


@pytest.fixture(scope="module")
def forecast_site(client, engine, admin_headers) -> dict:  # noqa: ANN001
    import uuid

    uid = uuid.uuid4().hex[:6]
    site = f"FC-{uid}"
    assert (
        client.post(
            "/api/v1/sites", headers=admin_headers, json={"code": site, "name": "forecast plant"}
        ).status_code
        == 201
    )
    codes = {"site": site, "energy": f"FCE-{uid}", "gauge": f"FCG-{uid}"}
    for key, kind, unit in (("energy", "delta", "kWh"), ("gauge", "gauge", "kW")):
        r = client.post(
            "/api/v1/meters",
            headers=admin_headers,
            json={
                "code": codes[key],
                "name": key,
                "site": site,
                "carrier": "electricity",
                "unit": unit,
                "kind": kind,
                "interval_s": 900,
            },
        )
        assert r.status_code == 201, r.text
    ts = [NOW.replace(minute=0) - STEP * k for k in range(DAYS * 96, -1, -1)]
    energy = _profile(ts)
    body = {
        "series": [
            {"meter": codes["energy"], "ts": [t.isoformat() for t in ts], "value": energy.tolist()},
            {
                "meter": codes["gauge"],
                "ts": [t.isoformat() for t in ts],
                "value": (energy * 4).tolist(),
            },
        ]
    }
    r = client.post("/api/v1/readings", json=body, headers=admin_headers)
    assert r.status_code == 200 and not r.json()["rejected"], r.text
    jobs = ForecastJobs(clock=lambda: NOW, folds={DAY_AHEAD: 2, WEEK_AHEAD: 1})
    assert jobs.nightly(engine, site=site) == 3  # the meter, the gauge, the site total
    assert jobs.nightly(engine, site=site) == 0  # not due again before the next night
    return {
        **codes,
        "jobs": jobs,
        "viewer": {"Authorization": f"Bearer {make_key(engine, 'viewer')}"},
    }


def _get(client, headers, **params):  # noqa: ANN001, ANN003, ANN202
    return client.get("/api/v1/forecasts", params=params, headers=headers)


def test_nightly_stores_day_and_week_ahead_runs_with_scores(forecast_site, engine) -> None:  # noqa: ANN001
    with Session(engine) as session:
        meter_id = registry.get_meter(session, forecast_site["energy"]).id
        runs = session.scalars(select(ForecastRun).where(ForecastRun.meter_id == meter_id)).all()
        points = {
            r.id: session.scalar(select(func.count()).where(ForecastPoint.run_id == r.id))
            for r in runs
        }
    assert sorted(r.horizon_steps for r in runs) == [96, 672]
    assert all(r.purpose == "nightly" and points[r.id] == r.horizon_steps for r in runs)
    day = next(r for r in runs if r.horizon_steps == 96)
    assert set(day.scores["candidates"]) == {"naive_daily", "naive_weekly", "hgb"}
    assert day.model == day.scores["selected"] and day.scores["measure"] == "mase"
    assert day.train_end == NOW.replace(minute=0) - STEP  # the newest complete bucket
    assert day.train_start == day.train_end - timedelta(days=DAYS)  # the first reading's bucket
    assert day.params and day.fit_s >= 0 and day.unit == "kWh" and day.quantity == "energy"


def test_forecast_with_actuals_for_a_meter(client, forecast_site) -> None:  # noqa: ANN001
    r = _get(client, forecast_site["viewer"], meter=forecast_site["energy"], target="energy")
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["meter"], out["unit"], out["resolution"], out["target"]) == (
        forecast_site["energy"],
        "kWh",
        "15m",
        "energy",
    )
    points = out["points"]
    origin = datetime.fromisoformat(out["run"]["origin"])
    assert origin == NOW.replace(minute=0)
    assert len(points) == 2 * 96  # one horizon of actuals before the origin, one forecast after
    past = [p for p in points if datetime.fromisoformat(p["ts"]) < origin]
    future = [p for p in points if datetime.fromisoformat(p["ts"]) >= origin]
    assert all(p["actual"] is not None and p["forecast"] is None for p in past)
    assert all(p["forecast"] is not None and p["actual"] is None for p in future)
    assert all(p["lower"] <= p["forecast"] <= p["upper"] for p in future)
    assert all(p["lower"] <= p["lower_50"] <= p["upper_50"] <= p["upper"] for p in future)
    # Monday 2 March, 10:00 Beijing = 02:00 UTC: a working-day shift, not the night level
    shift = next(p for p in future if p["ts"].startswith("2026-03-02T02:00"))
    night = next(p for p in future if p["ts"].startswith("2026-03-02T18:00"))
    assert shift["forecast"] > 15 > 6 > night["forecast"]

    load = _get(client, forecast_site["viewer"], meter=forecast_site["energy"]).json()
    assert load["unit"] == "kW" and load["target"] == "load"
    assert load["points"][100]["forecast"] == pytest.approx(4 * points[100]["forecast"])
    assert load["points"][0]["actual"] == pytest.approx(4 * points[0]["actual"])


def test_site_total_and_gauge(client, forecast_site) -> None:  # noqa: ANN001
    site = _get(client, forecast_site["viewer"], site=forecast_site["site"], target="energy")
    assert site.status_code == 200, site.text
    assert site.json()["site"] == forecast_site["site"]
    assert site.json()["carrier"] == "electricity"
    meter = _get(client, forecast_site["viewer"], meter=forecast_site["energy"], target="energy")
    actual_site = [p["actual"] for p in site.json()["points"][:96]]
    actual_meter = [p["actual"] for p in meter.json()["points"][:96]]
    assert actual_site == pytest.approx(actual_meter)  # the gauge is not added to energy
    gauge = _get(client, forecast_site["viewer"], meter=forecast_site["gauge"])
    assert gauge.status_code == 200 and gauge.json()["unit"] == "kW"
    bad = _get(client, forecast_site["viewer"], meter=forecast_site["gauge"], target="energy")
    assert bad.status_code == 422 and "gauge" in bad.json()["error"]


def test_week_ahead_and_window(client, forecast_site) -> None:  # noqa: ANN001
    week = _get(client, forecast_site["viewer"], meter=forecast_site["energy"], horizon="7d")
    assert week.status_code == 200
    assert len([p for p in week.json()["points"] if p["forecast"] is not None]) == 672
    start, end = NOW - timedelta(hours=2), NOW + timedelta(hours=3)
    window = _get(
        client,
        forecast_site["viewer"],
        meter=forecast_site["energy"],
        start=start.isoformat(),
        end=end.isoformat(),
    ).json()["points"]
    assert datetime.fromisoformat(window[0]["ts"]) >= start
    assert datetime.fromisoformat(window[-1]["ts"]) < end
    assert len(window) == 20
    before = _get(
        client,
        forecast_site["viewer"],
        meter=forecast_site["energy"],
        start=(NOW - timedelta(days=3)).isoformat(),
        end=(NOW - timedelta(days=2)).isoformat(),
    )  # actuals only, no forecast yet
    assert before.status_code == 200, before.text
    assert len(before.json()["points"]) == 96
    assert all(p["forecast"] is None and p["actual"] is not None for p in before.json()["points"])


def test_refresh_moves_the_origin_with_the_kept_model(
    client, engine, admin_headers, forecast_site
) -> None:  # noqa: ANN001
    later = NOW + STEP
    ts = NOW.replace(minute=15)
    r = client.post(
        "/api/v1/readings",
        headers=admin_headers,
        json={
            "readings": [
                {"meter": forecast_site["energy"], "ts": ts.isoformat(), "value": 2.5},
                {"meter": forecast_site["gauge"], "ts": ts.isoformat(), "value": 10.0},
            ]
        },
    )
    assert r.json()["accepted"] == 2
    jobs = forecast_site["jobs"]
    jobs.clock = lambda: later
    assert jobs.refresh(engine, site=forecast_site["site"]) == 3
    assert jobs.refresh(engine, site=forecast_site["site"]) == 0  # nothing new since
    out = _get(
        client, forecast_site["viewer"], meter=forecast_site["energy"], target="energy"
    ).json()
    assert out["run"]["purpose"] == "refresh"
    assert datetime.fromisoformat(out["run"]["origin"]) == NOW.replace(minute=15)
    first_past = [p for p in out["points"] if p["ts"].startswith("2026-03-02T00:00")]
    assert first_past[0]["actual"] == pytest.approx(2.5)
    assert out["run"]["model"] == out["run"]["scores"]["selected"]
    client.post(
        "/api/v1/readings",
        headers=admin_headers,
        json={
            "readings": [
                {"meter": forecast_site["energy"], "ts": (ts + STEP).isoformat(), "value": 2.0}
            ]
        },
    )
    restarted = ForecastJobs(clock=lambda: later + STEP)  # no kept models: refits the selected
    assert restarted.refresh(engine, site=forecast_site["site"]) == 3


def test_requests_that_cannot_be_answered(client, forecast_site, admin_headers) -> None:  # noqa: ANN001
    viewer = forecast_site["viewer"]
    both = _get(client, viewer, meter=forecast_site["energy"], site=forecast_site["site"])
    assert both.status_code == 422 and "exactly one" in both.json()["error"]
    assert _get(client, viewer).status_code == 422
    assert _get(client, viewer, meter="NO-SUCH-METER").status_code == 404
    assert _get(client, viewer, meter=forecast_site["energy"], target="heat").status_code == 422
    assert _get(client, viewer, meter=forecast_site["energy"], horizon="8d").status_code == 422
    assert _get(client, {}, meter=forecast_site["energy"]).status_code == 401
    too_long = _get(
        client,
        viewer,
        meter=forecast_site["energy"],
        end=NOW.isoformat(),
        start=(NOW - timedelta(days=40)).isoformat(),
    )
    assert too_long.status_code == 422 and "35 days" in too_long.json()["error"]
    new = f"{forecast_site['energy']}-NEW"
    client.post(
        "/api/v1/meters",
        headers=admin_headers,
        json={
            "code": new,
            "name": "new",
            "site": forecast_site["site"],
            "carrier": "electricity",
            "unit": "kWh",
            "kind": "delta",
            "interval_s": 900,
        },
    )
    missing = _get(client, viewer, meter=new)
    assert missing.status_code == 404 and "scheduler" in missing.json()["error"]
    site = _get(client, viewer, site=forecast_site["site"], target="energy")  # a silent meter
    assert site.status_code == 200, site.text  # adds nothing to the site's actuals


def test_co2_uses_the_carbon_factors_in_force(client, forecast_site) -> None:  # noqa: ANN001
    co2 = _get(client, forecast_site["viewer"], meter=forecast_site["energy"], target="co2")
    try:
        import carbon  # noqa: F401
    except ImportError:
        assert co2.status_code == 422 and "carbon engine" in co2.json()["error"]
        return
    assert co2.status_code == 200, co2.text
    energy = _get(
        client, forecast_site["viewer"], meter=forecast_site["energy"], target="energy"
    ).json()["points"]
    out = co2.json()
    assert out["unit"] == "tCO2" and out["carbon_version"] >= 1
    ratios = {
        round(c["forecast"] / e["forecast"], 9)
        for c, e in zip(out["points"], energy, strict=True)
        if e["forecast"]
    }
    assert len(ratios) == 1  # one grid factor in force over the day
    (factor,) = ratios
    assert 0.0001 < factor < 0.002  # tCO2 per kWh of Chinese grid electricity
