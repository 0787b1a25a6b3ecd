"""Recommendations through the API on stored readings: the plant of
``tests/recommendations/test_analysers.py`` (base 200 kW, production 300 kW 08–20 on
workdays, a shiftable 100 kW load in every peak hour) for five weeks from Monday
2025-03-03 (+08:00); from 2025-03-31 the base load is 40 kW lower (the recommended 20 %).

Analysed over the first week the savings equal the hand calculation (base load 130 482.29
CNY/yr, load shift 233 600.00 CNY/yr). Marked done on 2025-03-31, the verification finds
40 kW × 24 h × 6 reporting days = 5 760 kWh avoided.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

CST = timezone(timedelta(hours=8))
T0 = datetime(2025, 3, 3, tzinfo=CST)
DAYS = 35
DONE = datetime(2025, 3, 31, 12, 0, tzinfo=CST)
STEP = timedelta(minutes=15)


def _site_kw(t: datetime) -> float:
    peak = 8 <= t.hour < 11 or 17 <= t.hour < 22
    production = 8 <= t.hour < 20 and t.weekday() < 5
    base = 160.0 if t.date() >= DONE.date() else 200.0
    return base + 300.0 * production + 100.0 * peak


@pytest.fixture(scope="module")
def plant(client: TestClient, admin_headers: dict) -> dict:
    import uuid

    uid = uuid.uuid4().hex[:8]
    site, grid, flex = f"REC-{uid}", f"G-{uid}", f"F-{uid}"
    h = admin_headers
    assert (
        client.post("/api/v1/sites", json={"code": site, "name": "Plant"}, headers=h).status_code
        == 201
    )
    for code, parent in ((grid, None), (flex, grid)):
        r = client.post(
            "/api/v1/meters",
            headers=h,
            json={
                "code": code,
                "name": code,
                "site": site,
                "carrier": "electricity",
                "unit": "kWh",
                "kind": "delta",
                "interval_s": 900,
                "parent": parent,
            },
        )
        assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/equipment",
        headers=h,
        json={
            "code": f"FLEX-{uid}",
            "name": "Grinding mill",
            "site": site,
            "kind": "motor",
            "rated_kw": 110,
            "grade": 1,
            "meter": flex,
            "shiftable": True,
        },
    )
    assert r.status_code == 201, r.text
    readings = []
    for i in range(DAYS * 96):
        t = T0 + i * STEP  # interval start (local)
        end = (t + STEP).isoformat()
        peak = 8 <= t.hour < 11 or 17 <= t.hour < 22
        readings.append({"meter": grid, "ts": end, "value": _site_kw(t) * 0.25})
        readings.append({"meter": flex, "ts": end, "value": 100.0 * peak * 0.25})
    for k in range(0, len(readings), 2000):
        r = client.post("/api/v1/readings", json={"readings": readings[k : k + 2000]}, headers=h)
        assert r.status_code == 200, r.text
    return {"site": site, "equipment": f"FLEX-{uid}"}


def test_analyse_list_patch_verify(client: TestClient, admin_headers: dict, plant: dict) -> None:
    h = admin_headers
    r = client.post(
        "/api/v1/recommendations/analyse",
        json={
            "site": plant["site"],
            "start": T0.isoformat(),
            "end": (T0 + timedelta(days=7)).isoformat(),
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    r = client.get("/api/v1/recommendations", params={"site": plant["site"]}, headers=h)
    assert r.status_code == 200
    recs = {x["kind"]: x for x in r.json()}
    for x in recs.values():
        assert {
            "id",
            "kind",
            "title",
            "evidence",
            "savings_kwh_per_year",
            "savings_cny_per_year",
            "savings_tco2_per_year",
            "confidence",
            "status",
        } <= set(x)
    base, shift = recs["base_load"], recs["load_shift"]
    assert Decimal(str(base["savings_cny_per_year"])) == Decimal("130482.29")
    assert base["savings_kwh_per_year"] == pytest.approx(40 * 8760 * 108 / 168)
    assert base["savings_tco2_per_year"] == pytest.approx(
        base["savings_kwh_per_year"] * base["evidence"]["co2_factor"]["tco2_per_kwh"]
    )
    assert Decimal(str(shift["savings_cny_per_year"])) == Decimal("233600.00")
    assert base["status"] == "open" and "contracted_demand" not in recs  # no contract known

    rid = base["id"]
    bad = client.patch(f"/api/v1/recommendations/{rid}", json={"status": "dismissed"}, headers=h)
    assert bad.status_code == 422 and "reason" in bad.text
    early = client.get(f"/api/v1/recommendations/{rid}/verification", headers=h)
    assert early.status_code == 409
    r = client.patch(f"/api/v1/recommendations/{rid}", json={"status": "accepted"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    r = client.patch(
        f"/api/v1/recommendations/{rid}",
        json={"status": "done", "done_at": DONE.isoformat()},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["status"] == "done"
    assert [s["to"] for s in r.json()["history"]] == ["accepted", "done"]

    v = client.get(f"/api/v1/recommendations/{rid}/verification", headers=h)
    assert v.status_code == 200, v.text
    v = v.json()
    assert v["option"] == "C" and v["baseline_days"] == 28 and v["reporting_days"] == 6
    assert v["avoided_kwh"] == pytest.approx(40 * 24 * 6, rel=1e-6)
    assert abs(v["avoided_kwh"] - 5760) <= v["uncertainty_kwh"] + 1e-6
    assert v["status"] == "verified"

    r = client.get(
        "/api/v1/recommendations", params={"site": plant["site"], "format": "xlsx"}, headers=h
    )
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert (
        client.patch(
            "/api/v1/recommendations/999999", json={"status": "open"}, headers=h
        ).status_code
        == 404
    )


def test_roles(client: TestClient, admin_headers: dict, plant: dict, engine) -> None:  # noqa: ANN001
    from tests.support.db import make_key

    recs = client.get(
        "/api/v1/recommendations", params={"site": plant["site"]}, headers=admin_headers
    ).json()
    rid = next(r["id"] for r in recs if r["kind"] == "load_shift")
    viewer = {"Authorization": f"Bearer {make_key(engine, 'viewer')}"}
    manager = {"Authorization": f"Bearer {make_key(engine, 'manager')}"}
    assert (
        client.get(
            "/api/v1/recommendations", params={"site": plant["site"]}, headers=viewer
        ).status_code
        == 200
    )
    body = {"status": "dismissed", "reason": "no budget this year"}
    assert (
        client.patch(f"/api/v1/recommendations/{rid}", json=body, headers=viewer).status_code == 403
    )
    r = client.patch(f"/api/v1/recommendations/{rid}", json=body, headers=manager)
    assert r.status_code == 200 and r.json()["status"] == "dismissed", r.text
    assert r.json()["reason"] == "no budget this year"
