"""Forecast-deviation alarm rules on the real PostgreSQL: validation through the API, and the
clock-driven evaluation against a forecast stored by the forecasting jobs (actual outside the
90 % interval for K consecutive buckets raises, back inside by the deadband clears).

The evaluation runs at the database's current time, so the forecast and the readings are
placed relative to the real clock: the forecast is fitted as of seven buckets ago and the
test buckets are the last seven complete ones."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from alarms.jobs import evaluate_time_rules
from forecasting.runs import DAY_AHEAD, WEEK_AHEAD, ForecastJobs, latest_run
from forecasting.subjects import find_subject
from models.forecasting import ForecastPoint
from tests.support.alarms import API, alarms_of, history, meter, post, rule

STEP = timedelta(minutes=15)
HISTORY_DAYS = 4
K = 3


def _floor(t: datetime) -> datetime:
    s = int(STEP.total_seconds())
    return datetime.fromtimestamp(int(t.timestamp()) // s * s, UTC)


@pytest.fixture(scope="module")
def fd_plant(client, engine, admin_headers) -> dict:  # noqa: ANN001
    """A site with a 15-minute energy meter and a kW gauge; a day-ahead forecast of the meter
    (and the site total) fitted as of ``buckets[0]``, whose buckets ``buckets[0..6]`` are the
    last seven complete ones and have no readings yet."""
    uid = uuid.uuid4().hex[:6]
    site = f"FDS-{uid}"
    energy = meter(
        client, admin_headers, f"FDE-{uid}", kind="delta", unit="kWh", interval_s=900, site=site
    )
    gauge = meter(
        client, admin_headers, f"FDG-{uid}", kind="gauge", unit="kW", interval_s=900, site=site
    )
    last_complete = _floor(datetime.now(UTC)) - STEP
    origin = last_complete - 6 * STEP
    # readings stamp the end of their interval: the last one closes the bucket before origin
    ts = [origin - STEP * k for k in range(HISTORY_DAYS * 96 - 1, -1, -1)]
    hour = np.array([t.hour for t in ts])
    rng = np.random.default_rng(7)
    values = np.round(
        np.where((hour >= 1) & (hour < 9), 20.0, 5.0) + rng.normal(0, 0.8, len(ts)), 3
    ).clip(0)
    r = client.post(
        f"{API}/readings",
        headers=admin_headers,
        json={
            "series": [
                {"meter": energy, "ts": [t.isoformat() for t in ts], "value": values.tolist()},
                {"meter": gauge, "ts": [t.isoformat() for t in ts], "value": (values * 4).tolist()},
            ]
        },
    )
    assert r.status_code == 200 and not r.json()["rejected"], r.text
    jobs = ForecastJobs(
        clock=lambda: origin + timedelta(minutes=1),
        folds={DAY_AHEAD: 1, WEEK_AHEAD: 1},
        candidates=("naive_daily",),
    )
    assert jobs.nightly(engine, site=site) == 3  # the meter, the gauge, the site total
    buckets = [origin + i * STEP for i in range(7)]
    lower, upper = _bands(engine, energy, buckets)
    return {
        "site": site,
        "energy": energy,
        "gauge": gauge,
        "buckets": buckets,
        "lower": lower,
        "upper": upper,
    }


def _bands(engine, code: str, buckets: list[datetime]) -> tuple[list, list]:  # noqa: ANN001
    """The 90 % interval of the meter's nightly forecast over these buckets."""
    with Session(engine) as session:
        run = latest_run(
            session, find_subject(session, meter=code, site=None, carrier=None), purpose="nightly"
        )
        assert run is not None and run.train_end == buckets[0] - STEP
        points = session.scalars(
            select(ForecastPoint)
            .where(ForecastPoint.run_id == run.id, ForecastPoint.ts.in_(buckets))
            .order_by(ForecastPoint.ts)
        ).all()
    assert [p.ts for p in points] == buckets
    assert all(p.q05 < p.q95 for p in points)
    return [p.q05 for p in points], [p.q95 for p in points]


def _create(client, headers, **body):  # noqa: ANN001, ANN003, ANN202
    return client.post(
        f"{API}/alarm-rules", headers=headers, json={"type": "forecast_deviation", **body}
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"high": -1}, "high"),
        ({"low": -0.5}, "low"),
        ({"high_high": 5}, "high_high"),
        ({"low_low": 0}, "low_low"),
        ({"high": None}, "high"),
        ({"meter": "__gauge__", "target": "energy"}, "target"),
        ({"target": "co2"}, "target"),
        ({"intervals": 0}, "intervals"),
        ({"intervals": 2.5}, "intervals"),
        ({"intervals": 97}, "intervals"),
        ({"unit": "kWh"}, "unit"),
        ({"unit": "kW", "target": "load"}, "unit"),
        ({"carrier": "electricity"}, "carrier"),
        ({"meter": None, "site": "__site__", "carrier": "plasma"}, "carrier"),
        ({"window_s": 60}, "window_s"),
        ({"consecutive": 3}, "consecutive"),
    ],
)
def test_invalid_forecast_deviation_rules_name_the_field(
    client, admin_headers, fd_plant, change, field
) -> None:  # noqa: ANN001
    body = {
        "name": f"bad fd {uuid.uuid4().hex[:8]}",
        "meter": fd_plant["energy"],
        "high": 2,
        **change,
    }
    if body.get("meter") == "__gauge__":
        body["meter"] = fd_plant["gauge"]
    if body.get("site") == "__site__":
        body["site"] = fd_plant["site"]
    r = _create(client, admin_headers, **{k: v for k, v in body.items() if k != "type"})
    assert r.status_code == 422, r.text
    locs = [e["loc"] for e in r.json()["detail"]]
    assert any(loc[-1] == field for loc in locs), locs


def test_defaults_and_accepted_forecast_deviation_rules(client, admin_headers, fd_plant) -> None:  # noqa: ANN001
    uid = uuid.uuid4().hex[:8]
    made = []
    r = _create(client, admin_headers, name=f"fd energy {uid}", meter=fd_plant["energy"], high=2)
    assert r.status_code == 201, r.text
    made.append(r.json())
    assert (r.json()["target"], r.json()["intervals"], r.json()["unit"]) == ("energy", 3, None)
    assert "carrier" not in r.json() or r.json()["carrier"] is None
    assert set(alarms_of(client, admin_headers, r.json()["id"])) == {"high"}
    r = _create(
        client, admin_headers, name=f"fd gauge {uid}", meter=fd_plant["gauge"], low=10, intervals=4
    )
    assert r.status_code == 201, r.text
    made.append(r.json())
    assert (r.json()["target"], r.json()["intervals"]) == ("load", 4)
    assert set(alarms_of(client, admin_headers, r.json()["id"])) == {"low"}
    # a site: carrier electricity by default; margins on both sides need no ordering
    r = _create(
        client,
        admin_headers,
        name=f"fd site {uid}",
        site=fd_plant["site"],
        high=1,
        low=5,
        deadband=3,
        target="load",
    )
    assert r.status_code == 201, r.text
    made.append(r.json())
    assert (r.json()["carrier"], r.json()["target"]) == ("electricity", "load")
    assert set(alarms_of(client, admin_headers, r.json()["id"])) == {"high", "low"}
    # a valid carrier the site does not meter yet is accepted
    r = _create(
        client,
        admin_headers,
        name=f"fd gas {uid}",
        site=fd_plant["site"],
        high=1,
        carrier="natural_gas",
    )
    assert r.status_code == 201, r.text
    made.append(r.json())
    rid = made[0]["id"]
    r = client.patch(f"{API}/alarm-rules/{rid}", headers=admin_headers, json={"intervals": 5})
    assert r.status_code == 200 and r.json()["intervals"] == 5, r.text
    r = client.patch(f"{API}/alarm-rules/{rid}", headers=admin_headers, json={"intervals": 0})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "intervals"
    for created in made:
        assert (
            client.delete(f"{API}/alarm-rules/{created['id']}", headers=admin_headers).status_code
            == 204
        )


def _eval_ts(engine, rule_id: int) -> list:  # noqa: ANN001
    with engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                text("SELECT eval_ts FROM alarm WHERE rule_id = :r ORDER BY condition"),
                {"r": rule_id},
            )
        ]


def test_k_consecutive_buckets_outside_the_forecast_interval(
    client, admin_headers, engine, fd_plant
) -> None:  # noqa: ANN001
    uid = uuid.uuid4().hex[:8]
    code, b = fd_plant["energy"], fd_plant["buckets"]
    lower, upper = fd_plant["lower"], fd_plant["upper"]
    # the 15-minute refresh: the newest run starts after the last complete bucket, so the
    # buckets are judged against the forecast in force for them (the nightly run's)
    refresh = ForecastJobs(clock=lambda: datetime.now(UTC), candidates=("naive_daily",))
    assert refresh.refresh(engine, site=fd_plant["site"]) == 3
    with Session(engine) as session:
        newest = latest_run(session, find_subject(session, meter=code, site=None, carrier=None))
        assert newest is not None and newest.purpose == "refresh"
        assert newest.train_end >= b[-1]
    fd = rule(
        client,
        admin_headers,
        name=f"fd {uid}",
        meter=code,
        type="forecast_deviation",
        high=2.0,
        low=2.0,
        deadband=1.0,
        intervals=K,
        priority="high",
        message="consumption off forecast",
    )
    site_fd = rule(
        client,
        admin_headers,
        name=f"fd site {uid}",
        site=fd_plant["site"],
        type="forecast_deviation",
        high=2.0,
        intervals=K,
    )

    def reading(i: int, value: float) -> tuple[datetime, float]:
        return b[i] + STEP, value  # a delta reading closes its bucket

    def inside(i: int) -> tuple[datetime, float]:
        return reading(i, (lower[i] + upper[i]) / 2)

    def above(i: int, by: float) -> tuple[datetime, float]:
        return reading(i, upper[i] + by)

    # two buckets inside, then K - 1 = 2 buckets 5 kWh above the upper bound: still normal
    post(client, admin_headers, code, [inside(0), inside(1), above(2, 5.0), above(3, 5.0)])
    evaluate_time_rules(engine)
    points = alarms_of(client, admin_headers, fd["id"])
    assert {c: p["state"] for c, p in points.items()} == {"high": "normal", "low": "normal"}
    assert points["high"]["last_value"] < 0  # the smallest exceedance of b1..b3: inside
    assert all(ts is not None for ts in _eval_ts(engine, fd["id"]))  # evaluated, up to b3

    # the K-th consecutive bucket outside: active
    post(client, admin_headers, code, [above(4, 5.0)])
    evaluate_time_rules(engine)
    high = alarms_of(client, admin_headers, fd["id"])["high"]
    assert high["state"] == "active_unacknowledged"
    assert high["value"] == pytest.approx(5.0, abs=1e-6)
    assert datetime.fromisoformat(high["reading_ts"]) == b[4] + STEP  # the bucket's end
    assert alarms_of(client, admin_headers, fd["id"])["low"]["state"] == "normal"
    assert (
        alarms_of(client, admin_headers, site_fd["id"])["high"]["state"] == "active_unacknowledged"
    )
    events = history(client, admin_headers, high["id"])
    assert [(e["action"], e["to_state"]) for e in events] == [("activate", "active_unacknowledged")]

    # evaluating again changes nothing
    evaluate_time_rules(engine)
    evaluate_time_rules(engine)
    again = alarms_of(client, admin_headers, fd["id"])["high"]
    assert (again["seq"], again["activation_count"]) == (high["seq"], 1)
    assert len(history(client, admin_headers, high["id"])) == 1

    # back under the margin but not by the deadband: the alarm holds
    post(client, admin_headers, code, [above(5, 1.5)])
    evaluate_time_rules(engine)
    assert alarms_of(client, admin_headers, fd["id"])["high"]["state"] == "active_unacknowledged"

    # back inside the interval: cleared, awaiting acknowledgement
    post(client, admin_headers, code, [inside(6)])
    evaluate_time_rules(engine)
    high = alarms_of(client, admin_headers, fd["id"])["high"]
    assert high["state"] == "returned_unacknowledged" and not high["condition_active"]
    events = history(client, admin_headers, high["id"])
    assert [(e["action"], e["to_state"]) for e in events] == [
        ("activate", "active_unacknowledged"),
        ("clear", "returned_unacknowledged"),
    ]
    assert datetime.fromisoformat(events[1]["reading_ts"]) == b[6] + STEP
    assert (
        alarms_of(client, admin_headers, site_fd["id"])["high"]["state"]
        == "returned_unacknowledged"
    )
    evaluate_time_rules(engine)
    assert len(history(client, admin_headers, high["id"])) == 2
    for r in (fd, site_fd):
        assert (
            client.delete(f"{API}/alarm-rules/{r['id']}", headers=admin_headers).status_code == 204
        )


def test_no_forecast_no_alarm_and_no_error(client, admin_headers, engine) -> None:  # noqa: ANN001
    uid = uuid.uuid4().hex[:8]
    code = meter(client, admin_headers, f"FDN-{uid}", kind="delta", unit="kWh", interval_s=900)
    end = _floor(datetime.now(UTC))
    post(client, admin_headers, code, [(end - i * STEP, 1000.0) for i in range(8)])
    fd = rule(
        client,
        admin_headers,
        name=f"fd none {uid}",
        meter=code,
        type="forecast_deviation",
        high=0.0,
        intervals=1,
    )
    site_fd = rule(
        client,
        admin_headers,
        name=f"fd none site {uid}",
        site=f"{code}-SITE",
        type="forecast_deviation",
        low=0.0,
        intervals=1,
    )
    evaluate_time_rules(engine)
    for r in (fd, site_fd):
        points = alarms_of(client, admin_headers, r["id"])
        assert all(p["state"] == "normal" and p["activation_count"] == 0 for p in points.values())
        assert all(history(client, admin_headers, p["id"]) == [] for p in points.values())
        assert _eval_ts(engine, r["id"]) == [None] * len(points)  # left untouched


def test_load_below_the_interval_on_a_gauge(client, admin_headers, engine, fd_plant) -> None:  # noqa: ANN001
    uid = uuid.uuid4().hex[:8]
    code, b = fd_plant["gauge"], fd_plant["buckets"]
    lower, _ = _bands(engine, code, b)
    assert lower[0] > 1.0
    fd = rule(
        client,
        admin_headers,
        name=f"fd load {uid}",
        meter=code,
        type="forecast_deviation",
        low=1.0,
        intervals=1,
    )
    assert fd["target"] == "load"
    post(client, admin_headers, code, [(b[0] + STEP, 0.0)])  # the gauge reads 0 kW
    evaluate_time_rules(engine)
    low = alarms_of(client, admin_headers, fd["id"])["low"]
    assert low["state"] == "active_unacknowledged"
    assert low["value"] == pytest.approx(lower[0])  # how far below the lower bound
    assert datetime.fromisoformat(low["reading_ts"]) == b[0] + STEP
    assert client.delete(f"{API}/alarm-rules/{fd['id']}", headers=admin_headers).status_code == 204
