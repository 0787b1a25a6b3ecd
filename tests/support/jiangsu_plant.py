"""The hand-worked Jiangsu plant of the carbon tests: on 2023-06-10 (China time), ten hourly
readings per meter — grid incomer 5,000 kWh each (a feeder sub-meter 2,000 kWh each), natural gas
10,000 Nm³, rooftop PV 800 kWh, export 300 kWh, purchased steam 5 t, water 100 m³."""

from __future__ import annotations

from fastapi.testclient import TestClient

DAY = "2023-06-10"
METERS = {
    "IN": ("electricity", "kWh", None, 5000.0),
    "FEED": ("electricity", "kWh", "IN", 2000.0),
    "GAS": ("natural_gas", "Nm3", None, 10_000.0),
    "PV": ("pv_generation", "kWh", None, 800.0),
    "EXP": ("grid_export", "kWh", None, 300.0),
    "STEAM": ("steam", "t", None, 5.0),
    "WATER": ("water", "m3", None, 100.0),
}


def build(client: TestClient, headers: dict, site: str, uid: str, name: str) -> dict[str, str]:
    """Create the site, its meters and the day's readings; returns the meter codes by key."""
    r = client.post(
        "/api/v1/sites", json={"code": site, "name": name, "region": "江苏"}, headers=headers
    )
    assert r.status_code == 201, r.text
    codes = {k: f"{k}-{uid}" for k in METERS}
    for k, (carrier, unit, parent, _) in METERS.items():
        body = {
            "code": codes[k],
            "name": k,
            "site": site,
            "carrier": carrier,
            "unit": unit,
            "kind": "delta",
            "interval_s": 3600,
            "parent": codes[parent] if parent else None,
        }
        r = client.post("/api/v1/meters", json=body, headers=headers)
        assert r.status_code == 201, r.text
    ts = [f"{DAY}T{hh:02d}:00:00+08:00" for hh in range(9, 19)]
    series = [
        {"meter": codes[k], "ts": ts, "value": [v] * len(ts)} for k, (_, _, _, v) in METERS.items()
    ]
    r = client.post("/api/v1/readings", json={"series": series}, headers=headers)
    assert r.status_code == 200 and r.json()["accepted"] == 70, r.text
    return codes
