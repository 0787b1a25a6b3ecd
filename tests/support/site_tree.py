"""A constructed site tree with sub-meters, on-site generation and export, for the meter
counting rule and the site balance (tests/metering/test_scope.py, tests/api/test_site_load.py).

Sites: plant ``P`` → workshops ``WA``, ``WB``; line ``LA`` below ``WA``; a second root
``OTHER``. Meters (15-minute delta meters, kWh unless said):

    P     IN  electricity (incomer)       TX electricity, parent IN
          PV  pv_generation               EX grid_export
          GAS natural_gas (m3)            KW electricity gauge (kW)
    WA    FA  electricity, parent TX      GA natural_gas (m3), parent GAS
    LA    FA1 electricity, parent FA
    WB    FB  electricity, parent TX      WIND wind_generation
    OTHER FAR electricity

Readings (kWh per 15 minutes, stamped at the end of the interval) on 2025-01-06 from
00:15 to 01:00 +08:00 — four intervals:

    IN 100 120 110 130   PV 20 20 30 10   WIND 5 5 5 5   EX 0 10 0 5
    TX 95 105 100 120    FA 60 65 62 70   FA1 30 31 32 33   FB 30 35 33 45
    GAS 10 m3 each       GA 8 m3 each     FAR 999 each (another site: never counted)
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient

CST = timezone(timedelta(hours=8))
T0 = datetime(2025, 1, 6, 0, 0, tzinfo=CST)
STEP = timedelta(minutes=15)

SITES = (("P", None), ("WA", "P"), ("WB", "P"), ("LA", "WA"), ("OTHER", None))
# key: (site, carrier, unit, kind, parent)
METERS = {
    "IN": ("P", "electricity", "kWh", "delta", None),
    "TX": ("P", "electricity", "kWh", "delta", "IN"),
    "PV": ("P", "pv_generation", "kWh", "delta", None),
    "EX": ("P", "grid_export", "kWh", "delta", None),
    "GAS": ("P", "natural_gas", "m3", "delta", None),
    "KW": ("P", "electricity", "kW", "gauge", None),
    "FA": ("WA", "electricity", "kWh", "delta", "TX"),
    "GA": ("WA", "natural_gas", "m3", "delta", "GAS"),
    "FA1": ("LA", "electricity", "kWh", "delta", "FA"),
    "FB": ("WB", "electricity", "kWh", "delta", "TX"),
    "WIND": ("WB", "wind_generation", "kWh", "delta", None),
    "FAR": ("OTHER", "electricity", "kWh", "delta", None),
}
VALUES = {
    "IN": (100, 120, 110, 130),
    "PV": (20, 20, 30, 10),
    "WIND": (5, 5, 5, 5),
    "EX": (0, 10, 0, 5),
    "TX": (95, 105, 100, 120),
    "FA": (60, 65, 62, 70),
    "FA1": (30, 31, 32, 33),
    "FB": (30, 35, 33, 45),
    "GAS": (10, 10, 10, 10),
    "GA": (8, 8, 8, 8),
    "KW": (400, 480, 440, 520),
    "FAR": (999, 999, 999, 999),
}


def build(client: TestClient, headers: dict, uid: str) -> dict[str, str]:
    """Create the tree and its readings through the API; key → code (sites and meters)."""
    codes = {k: f"{k}-{uid}" for k in (*(s for s, _ in SITES), *METERS)}
    for site, parent in SITES:
        body = {"code": codes[site], "name": site, "parent": parent and codes[parent]}
        r = client.post("/api/v1/sites", json=body, headers=headers)
        assert r.status_code == 201, r.text
    for key, (site, carrier, unit, kind, parent) in METERS.items():
        body = {
            "code": codes[key],
            "name": key,
            "site": codes[site],
            "carrier": carrier,
            "unit": unit,
            "kind": kind,
            "parent": parent and codes[parent],
            "interval_s": 900,
        }
        r = client.post("/api/v1/meters", json=body, headers=headers)
        assert r.status_code == 201, r.text
    readings = [
        {"meter": codes[k], "ts": (T0 + STEP * (i + 1)).isoformat(), "value": v}
        for k, values in VALUES.items()
        for i, v in enumerate(values)
    ]
    r = client.post("/api/v1/readings", json={"readings": readings}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == len(readings), r.text
    return codes
