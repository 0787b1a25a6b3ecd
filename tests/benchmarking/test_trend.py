"""Trend, best-10 %-days target and shifts of a process, by hand.

Ten days from 2025-03-03 00:00 +08:00; the meter reads (100 + 10 d) kWh every hour of day d;
output 10 t in the day shift (08–16) and 10 t in the evening shift (16–24) each day.
Daily unit consumption u_d = 24 × (100 + 10 d) × 0.1229 ÷ 20 kgce/t; the target is the 10th
percentile of the ten u_d (numpy's linear interpolation: u_0 + 0.9 × (u_1 − u_0)).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from fastapi.testclient import TestClient

CST = timezone(timedelta(hours=8))
T0 = datetime(2025, 3, 3, tzinfo=CST)
DAYS = 10


def test_trend_target_and_shifts(client: TestClient, admin_headers: dict, uid: str) -> None:
    h = admin_headers
    site, meter = f"TR-{uid}", f"TRM-{uid}"
    assert (
        client.post("/api/v1/sites", json={"code": site, "name": "Line"}, headers=h).status_code
        == 201
    )
    r = client.post(
        "/api/v1/meters",
        headers=h,
        json={
            "code": meter,
            "name": "m",
            "site": site,
            "carrier": "electricity",
            "unit": "kWh",
            "kind": "delta",
            "interval_s": 3600,
        },
    )
    assert r.status_code == 201, r.text
    readings = [
        {
            "meter": meter,
            "ts": (T0 + timedelta(hours=i + 1)).isoformat(),
            "value": 100 + 10 * (i // 24),
        }
        for i in range(DAYS * 24)
    ]
    assert (
        client.post("/api/v1/readings", json={"readings": readings}, headers=h).status_code == 200
    )
    for d in range(DAYS):
        for a in (8, 16):
            lo = T0 + timedelta(days=d, hours=a)
            r = client.post(
                "/api/v1/production",
                headers=h,
                json={
                    "site": site,
                    "product": "part",
                    "quantity": 10,
                    "unit": "t",
                    "start": lo.isoformat(),
                    "end": (lo + timedelta(hours=8)).isoformat(),
                },
            )
            assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/processes",
        headers=h,
        json={
            "code": f"P-{uid}",
            "name": "line",
            "site": site,
            "meters": [meter],
            "product": "part",
        },
    )
    assert r.status_code == 201, r.text
    end = T0 + timedelta(days=DAYS)
    r = client.get(
        f"/api/v1/processes/P-{uid}/trend",
        params={"start": T0.isoformat(), "end": end.isoformat()},
        headers=h,
    )
    assert r.status_code == 200, r.text
    tr = r.json()
    u = [24 * (100 + 10 * d) * 0.1229 / 20 for d in range(DAYS)]
    assert [p["unit_consumption_kgce"] for p in tr["points"]] == pytest.approx(u)
    assert tr["target"]["target_kgce"] == pytest.approx(float(np.percentile(u, 10)))
    assert tr["target"]["target_kgce"] == pytest.approx(u[0] + 0.9 * (u[1] - u[0]))
    shifts = {s["shift"]: s for s in tr["shifts"]}
    per_shift_tce = sum(8 * (100 + 10 * d) for d in range(DAYS)) * 0.0001229
    assert shifts["day"]["energy_tce"] == pytest.approx(per_shift_tce)
    assert shifts["day"]["output"] == 100 and shifts["evening"]["output"] == 100
    assert shifts["night"]["output"] == 0 and shifts["night"]["unit_consumption_kgce"] is None
    m = client.get(
        f"/api/v1/processes/P-{uid}/trend",
        params={"start": T0.isoformat(), "end": end.isoformat(), "resolution": "month"},
        headers=h,
    ).json()
    assert len(m["points"]) == 1 and m["points"][0]["output"] == pytest.approx(200)
