"""``/kpis/intensity`` compares like with like, on constructed data worked by hand.

A plant in Asia/Shanghai (UTC+8, no DST) meters every 15 minutes, every day alike: the grid
incomer 100 kWh, rooftop PV 20 kWh before local noon and 60 kWh after it. Readings cover
1 November – 4 December 2025 (up to 10:00) and 1–4 December 2024, so a flat load gives:

- month-on-month on 4 December 10:00: 1–4 Dec 10:00 against 1–4 Nov 10:00 → 0 % (the old
  rule, month-to-date against the whole of November, gave (3.42 − 30) / 30 = −88.6 %);
- year-on-year likewise against 1–4 December 2024 10:00 → 0 %;
- vs yesterday at 00:30: both windows hold two readings with a 20 % solar share → 0 pp
  (against the whole of yesterday, share (20 + 60) / 2 / (100 + 40) = 28.57 %, it was −8.6 pp).

Intensity divides by the output of the same window (prorated): 960 t entered for the whole of
4 December and asked at 00:45 count 960 × 45 / 1440 = 30 t against 45 minutes of energy.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from tests.support.db import make_key

CN = ZoneInfo("Asia/Shanghai")
STEP = timedelta(minutes=15)
GRID_KWH, PV_AM_KWH, PV_PM_KWH = 100.0, 20.0, 60.0
TCE_PER_KWH = 0.1229 / 1000  # GB/T 2589 electricity, equivalent value


def _local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CN)


def _readings(start: datetime, end: datetime) -> tuple[list[str], list[float], list[float]]:
    """15-minute delta readings stamped at each interval's end, in (start, end]."""
    ts, grid, pv = [], [], []
    t = start + STEP
    while t <= end:
        begin = (t - STEP).astimezone(CN)
        ts.append(t.isoformat())
        grid.append(GRID_KWH)
        pv.append(PV_AM_KWH if begin.hour < 12 else PV_PM_KWH)
        t += STEP
    return ts, grid, pv


@pytest.fixture(scope="module")
def flat(client: TestClient, admin_headers: dict, engine) -> dict:  # noqa: ANN001
    uid = datetime.now(UTC).strftime("%H%M%S%f")
    site, h = f"LF-{uid}", admin_headers
    r = client.post(
        "/api/v1/sites",
        json={"code": site, "name": "Flat plant", "region": "江苏", "timezone": "Asia/Shanghai"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    grid, pv = f"IN-{uid}", f"PV-{uid}"
    for code, carrier in ((grid, "electricity"), (pv, "pv_generation")):
        body = {
            "code": code,
            "name": code,
            "site": site,
            "carrier": carrier,
            "unit": "kWh",
            "kind": "delta",
            "interval_s": 900,
        }
        r = client.post("/api/v1/meters", json=body, headers=h)
        assert r.status_code == 201, r.text
    spans = [
        (_local(2025, 11, 1), _local(2025, 12, 4, 10)),
        (_local(2024, 12, 1), _local(2024, 12, 5)),
    ]
    for lo, hi in spans:
        day = lo
        while day < hi:
            ts, g, p = _readings(day, min(hi, day + timedelta(days=5)))
            series = [
                {"meter": grid, "ts": ts, "value": g},
                {"meter": pv, "ts": ts, "value": p},
            ]
            r = client.post("/api/v1/readings", json={"series": series}, headers=h)
            assert r.status_code == 200 and r.json()["accepted"] == 2 * len(ts), r.text
            day += timedelta(days=5)
    return {
        "site": site,
        "viewer": {"Authorization": f"Bearer {make_key(engine, 'viewer')}"},
        "manager": {"Authorization": f"Bearer {make_key(engine, 'manager')}"},
    }


def _kpi(client: TestClient, w: dict, period: str, day: str, as_of: datetime) -> dict:
    r = client.get(
        "/api/v1/kpis/intensity",
        params={"site": w["site"], "period": period, "date": day, "as_of": as_of.isoformat()},
        headers=w["viewer"],
    )
    assert r.status_code == 200, r.text
    return r.json()


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s)


def test_month_on_month_and_year_on_year_compare_the_same_elapsed_days(
    client: TestClient, flat: dict
) -> None:
    now = _local(2025, 12, 4, 10)
    k = _kpi(client, flat, "month", "2025-12-04", now)
    hours = 3 * 24 + 10  # 1 December 00:00 → 4 December 10:00
    am_quarters = (3 * 12 + 10) * 4  # PV before noon: 3 whole mornings and the 4th to 10:00
    pm_quarters = 3 * 12 * 4
    kwh = hours * 4 * GRID_KWH + am_quarters * PV_AM_KWH + pm_quarters * PV_PM_KWH
    assert k["electricity_kwh"] == pytest.approx(kwh, rel=1e-9)
    assert k["energy_tce"] == pytest.approx(kwh * TCE_PER_KWH, rel=1e-9)
    mom = k["mom"]
    assert mom["compared"]["basis"] == "same_elapsed"
    assert [_t(x) for x in mom["compared"]["current"]] == [_local(2025, 12, 1), now]
    assert [_t(x) for x in mom["compared"]["previous"]] == [
        _local(2025, 11, 1),
        _local(2025, 11, 4, 10),
    ]
    assert mom["energy_tce"]["previous"] == pytest.approx(k["energy_tce"], rel=1e-9)
    assert mom["energy_tce"]["change_pct"] == pytest.approx(0.0, abs=1e-9)
    assert mom["electricity_kwh"]["change_pct"] == pytest.approx(0.0, abs=1e-9)
    assert mom["carbon_tco2e"]["change_pct"] == pytest.approx(0.0, abs=1e-9)
    assert mom["renewable_electricity_share"]["change"] == pytest.approx(0.0, abs=1e-12)
    yoy = k["yoy"]
    assert [_t(x) for x in yoy["compared"]["previous"]] == [
        _local(2024, 12, 1),
        _local(2024, 12, 4, 10),
    ]
    assert yoy["energy_tce"]["change_pct"] == pytest.approx(0.0, abs=1e-9)
    assert yoy["carbon_tco2e"]["change_pct"] == pytest.approx(0.0, abs=1e-9)


def test_a_finished_month_is_compared_with_the_whole_previous_month(
    client: TestClient, flat: dict
) -> None:
    k = _kpi(client, flat, "month", "2025-11-15", _local(2025, 12, 4, 10))
    assert k["mom"]["compared"]["basis"] == "complete"
    assert [_t(x) for x in k["mom"]["compared"]["current"]] == [
        _local(2025, 11, 1),
        _local(2025, 12, 1),
    ]
    day_kwh = 96 * GRID_KWH + 48 * PV_AM_KWH + 48 * PV_PM_KWH  # 13,440 kWh a day
    assert k["energy_tce"] == pytest.approx(30 * day_kwh * TCE_PER_KWH, rel=1e-9)
    assert k["mom"]["energy_tce"]["previous"] == 0.0  # no readings in October


def test_vs_yesterday_at_half_past_midnight_compares_the_first_half_hour(
    client: TestClient, flat: dict
) -> None:
    k = _kpi(client, flat, "day", "2025-12-04", _local(2025, 12, 4, 0, 30))
    share = PV_AM_KWH / (GRID_KWH + PV_AM_KWH)  # 20 / 120 of consumption
    assert k["renewable_electricity_share"] == pytest.approx(share, rel=1e-9)
    mom = k["mom"]
    assert [_t(x) for x in mom["compared"]["previous"]] == [
        _local(2025, 12, 3),
        _local(2025, 12, 3, 0, 30),
    ]
    assert mom["renewable_electricity_share"]["previous"] == pytest.approx(share, rel=1e-9)
    pp = (k["renewable_electricity_share"] - mom["renewable_electricity_share"]["previous"]) * 100
    assert pp == pytest.approx(0.0, abs=1e-9)
    assert mom["energy_tce"]["change_pct"] == pytest.approx(0.0, abs=1e-9)


def test_intensity_divides_by_the_output_of_the_same_window(client: TestClient, flat: dict) -> None:
    r = client.post(
        "/api/v1/production",
        json={
            "site": flat["site"],
            "product": "castings",
            "quantity": 960,
            "unit": "t",
            "start": "2025-12-04T00:00:00+08:00",
            "end": "2025-12-05T00:00:00+08:00",
        },
        headers=flat["manager"],
    )
    assert r.status_code == 201, r.text
    k = _kpi(client, flat, "day", "2025-12-04", _local(2025, 12, 4, 0, 45))
    assert k["output_basis"] == "prorated"
    castings = k["by_product"][0]
    assert castings["quantity"] == pytest.approx(960 * 45 / 1440)  # 30 t
    kwh = 3 * (GRID_KWH + PV_AM_KWH)  # readings at 00:15, 00:30, 00:45
    assert castings["energy_intensity_tce_per_unit"] == pytest.approx(
        kwh * TCE_PER_KWH / 30, rel=1e-9
    )  # 0.0014748 tce/t (÷ 960 t it was 0.0000461)


def test_as_of_without_offset_is_a_422_naming_it(client: TestClient, flat: dict) -> None:
    r = client.get(
        "/api/v1/kpis/intensity",
        params={
            "site": flat["site"],
            "period": "day",
            "date": "2025-12-04",
            "as_of": "2025-12-04T00:30",
        },
        headers=flat["viewer"],
    )
    assert r.status_code == 422 and "as_of" in r.text
