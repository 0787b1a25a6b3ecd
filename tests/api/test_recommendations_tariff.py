"""Recommendations valued with the site's tariff (cost room): a constant 1 000 kW load for a
week from Monday 2026-03-02 (+08:00) at power factor 0.82, one flat price 0.70 CNY/kWh, demand
charge 40 CNY/kW·month on 1 500 kW contracted, standard 0.90. By hand:

- power factor 0.82 → 0.95: kvar = 1000 × (tan acos 0.82 − tan acos 0.95); 力调 +4.0 % → −0.75 %
  = 4.75 % of (energy 1000 × 8760 × 0.70 = 6 132 000 + demand 12 × 1500 × 40 = 720 000) per
  year = 325 470.00 CNY;
- contracted demand 1 500 kW against a 1 000 kW maximum: ceil(1000 / 1.05) = 953 kW,
  (1500 − 953) × 40 × 12 = 262 560.00 CNY;
- base load 1 000 kW: 20 % over 8760 × 108/168 h = 1 126 285.71 kWh, × 0.70 = 788 400.00 CNY.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, tzinfo=CST)
STEP = timedelta(minutes=15)
TAN = math.tan(math.acos(0.82))


def test_tariff_valued_recommendations(client: TestClient, admin_headers: dict, uid: str) -> None:
    h = admin_headers
    site = f"RT-{uid}"
    assert (
        client.post("/api/v1/sites", json={"code": site, "name": "P"}, headers=h).status_code == 201
    )
    for code, carrier, unit in (
        (f"K-{uid}", "electricity", "kWh"),
        (f"Q-{uid}", "reactive_energy", "kvarh"),
    ):
        r = client.post(
            "/api/v1/meters",
            headers=h,
            json={
                "code": code,
                "name": code,
                "site": site,
                "carrier": carrier,
                "unit": unit,
                "kind": "delta",
                "interval_s": 900,
            },
        )
        assert r.status_code == 201, r.text
    ts = [(T0 + (i + 1) * STEP).isoformat() for i in range(7 * 96)]
    r = client.post(
        "/api/v1/readings",
        headers=h,
        json={
            "series": [
                {"meter": f"K-{uid}", "ts": ts, "value": [250.0] * len(ts)},
                {"meter": f"Q-{uid}", "ts": ts, "value": [250.0 * TAN] * len(ts)},
            ]
        },
    )
    assert r.status_code == 200 and not r.json()["rejected"], r.text
    r = client.post(
        "/api/v1/tariffs",
        headers=h,
        json={
            "code": f"FLAT-{uid}",
            "name": "flat two-part",
            "valid_from": "2026-01-01",
            "energy_prices": [
                {"period": "flat", "hours": ["00:00-24:00"], "price_cny_per_kwh": 0.70}
            ],
            "demand_charge": {
                "basis": "max_demand",
                "price_cny_per_kw_month": 40,
                "contracted_kw": 1500,
            },
            "power_factor_standard": 0.90,
        },
    )
    assert r.status_code == 201, r.text
    r = client.put(
        f"/api/v1/sites/{site}/tariff",
        headers=h,
        json={"tariff": f"FLAT-{uid}", "from": "2026-01-01"},
    )
    assert r.status_code == 200, r.text
    r = client.post(
        "/api/v1/recommendations/analyse",
        headers=h,
        json={"site": site, "start": T0.isoformat(), "end": (T0 + timedelta(days=7)).isoformat()},
    )
    assert r.status_code == 200, r.text
    recs = {x["kind"]: x for x in r.json()}
    pf = recs["power_factor"]
    assert pf["evidence"]["power_factor"] == "0.82"
    assert pf["evidence"]["mean_kw"] == pytest.approx(1000.0)
    kvar = 1000 * (TAN - math.tan(math.acos(0.95)))
    assert f"{kvar:,.0f} kvar" in pf["title"]
    assert Decimal(str(pf["savings_cny_per_year"])) == Decimal("325470.00")
    assert pf["evidence"]["price_source"].startswith(f"tariff FLAT-{uid} v1")
    cd = recs["contracted_demand"]
    assert cd["evidence"]["proposed_kw"] == 953
    assert Decimal(str(cd["savings_cny_per_year"])) == Decimal("262560.00")
    base = recs["base_load"]
    assert base["savings_kwh_per_year"] == pytest.approx(200 * 8760 * 108 / 168)
    assert Decimal(str(base["savings_cny_per_year"])) == Decimal("788400.00")
