"""Budgets on the real PostgreSQL: splits, status with a pinned ``as_of`` (actual, run-rate
rest, projection, crossing day), the forecast from the forecasting package when one is stored,
and the ``budget`` alarm that fires on the day the projection crosses 100 %.

Hand-worked month (June 2026, 30 days, Asia/Shanghai), 15-minute readings: 1 kWh per interval
(96 kWh/day) on June 1-10, 2 kWh (192 kWh/day) from June 11; June budget 4,000 kWh. The
projection is actual + (kWh of the last 7 days / 7 days) × time left in June:

======================= ============ ========================= ===========
as_of (local)           actual kWh   last 7 days kWh           projected %
======================= ============ ========================= ===========
06-14 00:00             1,536        4×96 + 3×192 = 960        96.69
06-14 00:00 + h hours   1,536 + 8h   960 + 4h                  …
06-14 11:15 (h = 11.25) 1,626        1,005                     99.99
06-14 11:30 (h = 11.5)  1,628        1,006                     100.06
06-15 00:00             1,728        3×96 + 4×192 = 1,056      103.54
======================= ============ ========================= ===========

projected(h) = 1,536 + 8h + (960 + 4h) / 168 h × (408 − h) h reaches 4,000 kWh at
h² − 504 h + 5,568 = 0, h = 11.30: the projection crosses 100 % at 11:18 on June 14, so the
alarm (high = 100 %, evaluated every quarter hour) is normal at 11:15 and fires at 11:30 that
day. From June 15 00:00 the cumulative projection reaches 4,000 kWh on June 30 (1,728 +
15 × 150.857 = 3,990.9 by the end of June 29).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from alarms.config import AlarmConfig
from alarms.evaluate import RuleCache, evaluate_timed
from core.settings import Settings
from forecasting.subjects import find_subject
from models.forecasting import ForecastPoint, ForecastRun

API = "/api/v1"
SH = ZoneInfo("Asia/Shanghai")
STEP = timedelta(minutes=15)
JUNE = datetime(2026, 6, 1, tzinfo=SH)


def _site_with_june(client, h, uid: str) -> str:  # noqa: ANN001
    site, meter = f"BG-{uid}", f"BG-KWH-{uid}"
    assert (
        client.post(f"{API}/sites", headers=h, json={"code": site, "name": site}).status_code == 201
    )
    r = client.post(
        f"{API}/meters",
        headers=h,
        json={
            "code": meter,
            "name": meter,
            "site": site,
            "carrier": "electricity",
            "unit": "kWh",
            "kind": "delta",
            "interval_s": 900,
        },
    )
    assert r.status_code == 201, r.text
    ts = [JUNE + i * STEP for i in range(1, 30 * 96 + 1)]
    values = [1.0 if t <= JUNE + timedelta(days=10) else 2.0 for t in ts]
    r = client.post(
        f"{API}/readings",
        headers=h,
        json={"series": [{"meter": meter, "ts": [t.isoformat() for t in ts], "value": values}]},
    )
    assert r.status_code == 200 and not r.json()["rejected"], r.text
    months = [1000] * 12
    months[5] = 4000
    r = client.post(
        f"{API}/budgets",
        headers=h,
        json={"site": site, "quantity": "electricity_kwh", "year": 2026, "months": months},
    )
    assert r.status_code == 201, r.text
    assert r.json()["amount"] == 15000 and r.json()["split"] == "months"
    return site


def _status(client, h, site: str, as_of: datetime, period: str = "2026-06") -> dict:  # noqa: ANN001
    r = client.get(
        f"{API}/budgets/status",
        headers=h,
        params={
            "site": site,
            "quantity": "electricity_kwh",
            "period": period,
            "as_of": as_of.isoformat(),
        },
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_status_run_rate_projection_and_crossing_day(client, admin_headers, uid) -> None:  # noqa: ANN001
    site = _site_with_june(client, admin_headers, uid)
    s = _status(client, admin_headers, site, datetime(2026, 6, 14, tzinfo=SH))
    assert s["budget"] == 4000 and s["actual"] == 1536 and s["method"] == "run_rate"
    assert s["forecast_rest"] == pytest.approx(960 / 7 * 17, abs=1e-3)
    assert s["projected_pct"] == 96.69 and s["crossing_date"] is None
    s = _status(client, admin_headers, site, datetime(2026, 6, 15, tzinfo=SH))
    assert s["actual"] == 1728
    assert s["projected"] == pytest.approx(1728 + 1056 / 7 * 16, abs=1e-3)
    assert s["projected_pct"] == 103.54
    assert s["crossing_date"] == "2026-06-30"
    # the month is over: no forecast, the actual is the projection
    s = _status(client, admin_headers, site, datetime(2026, 7, 3, tzinfo=SH))
    assert s["actual"] == 10 * 96 + 20 * 192 == s["projected"] and s["forecast_rest"] == 0
    # cumulative: 960 + 15 × 192 = 3,840 by the end of June 25, 4,032 by the end of June 26
    assert s["crossing_date"] == "2026-06-26" and s["method"] == "complete"


def test_even_split_and_year_status(client, admin_headers, uid) -> None:  # noqa: ANN001
    site = _site_with_june(client, admin_headers, uid)
    r = client.post(
        f"{API}/budgets",
        headers=admin_headers,
        json={"site": site, "quantity": "electricity_kwh", "year": 2026, "amount": 100000},
    )
    assert r.status_code == 201, r.text
    months = r.json()["months"]
    assert len(months) == 12 and sum(Decimal(str(m)) for m in months) == 100000
    assert months[0] == pytest.approx(8333.333)
    s = _status(client, admin_headers, site, datetime(2026, 7, 1, tzinfo=SH), period="2026")
    assert s["budget"] == 100000 and s["actual"] == 4800


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quantity": "water_m3", "amount": 1}, "quantity"),
        ({"quantity": "co2_t"}, "amount"),
        ({"quantity": "co2_t", "months": [1] * 11}, "months"),
        ({"quantity": "co2_t", "amount": -5}, "amount"),
        ({"quantity": "co2_t", "amount": 5, "split": "weekly"}, "split"),
        ({"quantity": "co2_t", "amount": 5, "split": "last_year"}, "split"),
    ],
)
def test_invalid_budgets_name_the_field(client, admin_headers, uid, body, field) -> None:  # noqa: ANN001
    site = f"BGX-{uid}"
    client.post(f"{API}/sites", headers=admin_headers, json={"code": site, "name": site})
    r = client.post(
        f"{API}/budgets", headers=admin_headers, json={"site": site, "year": 2026, **body}
    )
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][-1] == field, r.text


def test_forecast_rest_comes_from_the_stored_forecast(client, admin_headers, engine, uid) -> None:  # noqa: ANN001
    """A stored forecast of the site's electricity covering June 15 (3 kWh per quarter hour =
    288 kWh) is used for that day; the run rate fills the 15 days after it."""
    site = _site_with_june(client, admin_headers, uid)
    as_of = datetime(2026, 6, 15, tzinfo=SH)
    start = as_of.astimezone(UTC)
    with Session(engine) as session:
        subject = find_subject(session, meter=None, site=site, carrier=None)
        run = ForecastRun(
            site_id=subject.id,
            carrier="electricity",
            quantity="energy",
            unit="kWh",
            resolution_s=900,
            purpose="refresh",
            model="fixed",
            params={},
            train_start=JUNE.astimezone(UTC),
            train_end=start - STEP,
            horizon_steps=96,
            scores=None,
            fit_s=0.0,
        )
        session.add(run)
        session.flush()
        session.add_all(
            ForecastPoint(
                run_id=run.id, ts=start + i * STEP, yhat=3.0, q05=2.0, q25=2.5, q75=3.5, q95=4.0
            )
            for i in range(96)
        )
        session.commit()
    s = _status(client, admin_headers, site, as_of)
    assert s["method"] == "forecast+run_rate"
    assert s["forecast_rest"] == pytest.approx(288 + 1056 / 7 * 15, abs=1e-3)


def test_budget_alarm_fires_the_day_the_projection_crosses(
    client, admin_headers, engine, settings: Settings, uid
) -> None:  # noqa: ANN001
    site = _site_with_june(client, admin_headers, uid)
    r = client.post(
        f"{API}/alarm-rules",
        headers=admin_headers,
        json={
            "name": f"june budget {uid}",
            "type": "budget",
            "site": site,
            "quantity": "electricity_kwh",
            "high": 100,
            "priority": "high",
        },
    )
    assert r.status_code == 201, r.text
    rule = r.json()
    assert (rule["period"], rule["basis"], rule["quantity"]) == (
        "month",
        "projected",
        "electricity_kwh",
    )
    config = AlarmConfig.from_settings(settings)
    cache = RuleCache()

    def run(day: int, hour: int = 0, minute: int = 0) -> dict:
        now = datetime(2026, 6, day, hour, minute, tzinfo=SH)
        with engine.begin() as conn:
            evaluate_timed(conn, config, cache, now=now, rule_ids=[rule["id"]])
        r = client.get(
            f"{API}/alarms", headers=admin_headers, params={"state": "all", "rule": rule["id"]}
        )
        assert r.status_code == 200, r.text
        return {a["condition"]: a for a in r.json()}["high"]

    for day in (12, 13, 14):
        assert run(day)["state"] == "normal", day
    alarm = run(14, 11, 15)
    assert alarm["state"] == "normal" and alarm["last_value"] == pytest.approx(99.99), alarm
    alarm = run(14, 11, 30)
    assert alarm["state"] == "active_unacknowledged", alarm
    assert alarm["value"] == pytest.approx(100.06)
    raised = datetime.fromisoformat(alarm["activated_at"]).astimezone(SH)
    assert raised == datetime(2026, 6, 14, 11, 30, tzinfo=SH)
    # a second evaluation within the quarter hour changes nothing; the next day it stays active
    assert run(14, 11, 40)["state"] == "active_unacknowledged"
    assert run(15)["last_value"] == pytest.approx(103.54)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": None}, "quantity"),
        ({"quantity": "co2_t"}, "quantity"),  # the site has no CO2 budget
        ({"unit": "kWh"}, "unit"),
        ({"low": 50}, "low"),
        ({"high": -5}, "high"),
        ({"period": "week"}, "period"),
        ({"basis": "hoped"}, "basis"),
        ({"site": None, "meter": "__meter__"}, "site"),
    ],
)
def test_budget_rules_name_their_wrong_fields(client, admin_headers, uid, change, field) -> None:  # noqa: ANN001
    site = _site_with_june(client, admin_headers, uid)
    body = {
        "name": f"bad budget {uid}",
        "type": "budget",
        "site": site,
        "quantity": "electricity_kwh",
        "high": 100,
        **change,
    }
    if body.get("meter") == "__meter__":
        body["meter"] = f"BG-KWH-{uid}"
    r = client.post(f"{API}/alarm-rules", headers=admin_headers, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][-1] == field, r.text


def test_meter_and_tce_budgets(client, admin_headers, uid) -> None:  # noqa: ANN001
    """A meter's kWh budget, and a tce budget of the site: June 1-14 is 1,536 kWh, i.e.
    0.1887744 tce at the equivalent-value coefficient 0.1229 kgce/kWh (GB/T 2589)."""
    site = _site_with_june(client, admin_headers, uid)
    h = admin_headers
    r = client.post(
        f"{API}/budgets",
        headers=h,
        json={
            "site": site,
            "meter": f"BG-KWH-{uid}",
            "quantity": "electricity_kwh",
            "year": 2026,
            "amount": 12000,
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["meter"] == f"BG-KWH-{uid}" and r.json()["months"][5] == 1000
    r = client.get(
        f"{API}/budgets/status",
        headers=h,
        params={
            "site": site,
            "meter": f"BG-KWH-{uid}",
            "quantity": "electricity_kwh",
            "period": "2026-06",
            "as_of": datetime(2026, 6, 15, tzinfo=SH).isoformat(),
        },
    )
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["budget"] == 1000 and s["actual"] == 1728 and s["crossing_date"] == "2026-06-11"
    r = client.post(
        f"{API}/budgets",
        headers=h,
        json={"site": site, "quantity": "energy_tce", "year": 2026, "amount": 12},
    )
    assert r.status_code == 201, r.text
    r = client.get(
        f"{API}/budgets/status",
        headers=h,
        params={
            "site": site,
            "quantity": "energy_tce",
            "period": "2026-06",
            "as_of": datetime(2026, 6, 14, tzinfo=SH).isoformat(),
        },
    )
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["unit"] == "tce" and s["actual"] == pytest.approx(0.1887744, abs=1e-6)
    # the rest at the period's own tce per kWh: 960/7 × 17 kWh × 0.0001229
    assert s["forecast_rest"] == pytest.approx(960 / 7 * 17 * 0.0001229, abs=1e-6)
    r = client.get(
        f"{API}/budgets/status",
        headers=h,
        params={
            "site": site,
            "quantity": "energy_tce",
            "period": "2026-06",
            "as_of": "2026-06-14T00:00",
        },
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "as_of"
