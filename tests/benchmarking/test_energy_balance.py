"""``GET /api/v1/sites/{code}/balance`` on the constructed tree of ``tests/support/site_tree.py``
(one hour from 2025-01-06 00:00 +08:00), worked by hand:

    IN 460 → TX 420 → FA 257 → FA1 126
                    → FB 143
    PV 80 + WIND 20 generated, EX 15 exported: consumption = 460 + 100 − 15 = 545 kWh
    end uses (leaves) = FA1 126 + FB 143 = 269
    node remainders: IN 40, TX 20 (a registered transformer: metered loss), FA 131
    unmetered = 545 − 269 − 20 = 256 (= 40 + 131 + 100 − 15); metered share = 269 / 545
"""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from tests.support import site_tree

T0, STEP = site_tree.T0, site_tree.STEP


@pytest.fixture(scope="module")
def tree(client: TestClient, admin_headers: dict) -> dict[str, str]:
    codes = site_tree.build(client, admin_headers, uuid.uuid4().hex[:8])
    r = client.post(
        "/api/v1/equipment",
        headers=admin_headers,
        json={
            "code": f"T1-{codes['P']}",
            "name": "Main transformer",
            "site": codes["P"],
            "kind": "transformer",
            "rated_kw": 1000,
            "grade": 2,
            "meter": codes["TX"],
            "no_load_loss_kw": 1.0,
            "load_loss_kw": 10.0,
        },
    )
    assert r.status_code == 201, r.text
    return codes


def _balance(client: TestClient, h: dict, site: str, **params) -> dict:  # noqa: ANN003
    r = client.get(
        f"/api/v1/sites/{site}/balance",
        params={"start": T0.isoformat(), "end": (T0 + 4 * STEP).isoformat(), **params},
        headers=h,
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_balance_closes_by_hand(client: TestClient, admin_headers: dict, tree: dict) -> None:
    b = _balance(client, admin_headers, tree["P"])
    assert b["inputs"] == {"purchased": 460, "generated": 100, "export": 15, "stored": 0}
    assert b["consumption"] == pytest.approx(545)
    assert b["end_use_total"] == pytest.approx(269)
    assert b["metered_losses"] == pytest.approx(20)
    assert b["unmetered_remainder"] == pytest.approx(256)
    assert b["metered_share"] == pytest.approx(269 / 545)
    assert b["closes"] is True
    nodes = {n["meter"].split("-")[0]: n for n in b["nodes"]}
    assert nodes["IN"]["remainder"] == pytest.approx(40)
    assert nodes["TX"]["remainder_kind"] == "metered_loss"
    assert nodes["TX"]["loss_rate"] == pytest.approx(20 / 420)
    assert nodes["FA"]["loss_rate"] == pytest.approx(131 / 257) and nodes["FA"]["alert"] is True
    assert nodes["TX"]["alert"] is False  # 4.8 % < 5 %
    by_site = {k.split("-")[0]: v for k, v in b["end_uses_by_site"].items()}
    assert by_site == {"LA": pytest.approx(126), "WB": pytest.approx(143)}


def test_gas_balance_and_bad_input(client: TestClient, admin_headers: dict, tree: dict) -> None:
    g = _balance(client, admin_headers, tree["P"], carrier="natural_gas")
    assert g["unit"] == "m3" and g["consumption"] == pytest.approx(40)
    assert g["end_use_total"] == pytest.approx(32) and g["unmetered_remainder"] == pytest.approx(8)
    r = client.get(
        f"/api/v1/sites/{tree['P']}/balance",
        params={"start": T0.isoformat(), "end": T0.isoformat()},
        headers=admin_headers,
    )
    assert r.status_code == 422 and "end" in r.text
    r = client.get(
        f"/api/v1/sites/{tree['P']}/balance",
        params={"start": T0.isoformat(), "end": (T0 + STEP).isoformat(), "carrier": "grid_export"},
        headers=admin_headers,
    )
    assert r.status_code == 422 and "carrier" in r.text


def test_balance_xlsx(client: TestClient, admin_headers: dict, tree: dict) -> None:
    r = client.get(
        f"/api/v1/sites/{tree['P']}/balance",
        params={"start": T0.isoformat(), "end": (T0 + 4 * STEP).isoformat(), "format": "xlsx"},
        headers=admin_headers,
    )
    assert r.status_code == 200 and r.content[:2] == b"PK"


def test_equipment_register_grade_share(
    client: TestClient, admin_headers: dict, tree: dict
) -> None:
    r = client.post(
        "/api/v1/equipment",
        headers=admin_headers,
        json={
            "code": f"M1-{tree['P']}",
            "name": "Fan motor",
            "site": tree["WA"],
            "kind": "motor",
            "rated_kw": 250,
            "grade": 1,
        },
    )
    assert r.status_code == 201, r.text
    r = client.get(
        "/api/v1/equipment",
        params={"site": tree["P"], "start": T0.isoformat(), "end": (T0 + 4 * STEP).isoformat()},
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    g = r.json()["grade_1"]
    assert g["installed_kw"] == 1250 and g["value_pct"] == pytest.approx(20.0)
    tx = next(e for e in r.json()["equipment"] if e["kind"] == "transformer")
    # 420 kWh in 1 h → 420 kW ÷ (1000 kVA × 0.9) = 0.4667; range [0.1, 1]
    assert tx["loading"]["load_rate"] == pytest.approx(420 / 900)
    assert tx["loading"]["economic_range"] == pytest.approx([0.1, 1.0])
    assert tx["loading"]["position"] == "within"
    bad = client.post(
        "/api/v1/equipment",
        headers=admin_headers,
        json={"code": "X", "name": "x", "site": tree["P"], "kind": "boiler", "rated_kw": 1},
    )
    assert bad.status_code == 422 and "kind" in bad.text


def test_conversion_boiler_steam(client: TestClient, admin_headers: dict, tree: dict) -> None:
    """A boiler process on the plant's gas meter making steam: 40 m3 natural gas × 1.3300
    kgce/m3 = 53.2 kgce in; 0.3 t steam × 128.6 kgce/t = 38.58 kgce out; efficiency 72.5 %."""
    h = admin_headers
    r = client.post(
        "/api/v1/production",
        headers=h,
        json={
            "site": tree["P"],
            "product": "steam",
            "quantity": 0.3,
            "unit": "t",
            "start": T0.isoformat(),
            "end": (T0 + 4 * STEP).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/processes",
        headers=h,
        json={
            "code": f"BOILER-{tree['P']}",
            "name": "Boiler",
            "site": tree["P"],
            "meters": [tree["GAS"]],
            "product": "steam",
            "unit": "t",
        },
    )
    assert r.status_code == 201, r.text
    g = _balance(client, h, tree["P"], carrier="natural_gas")
    (c,) = g["conversion"]
    assert c["input_tce"] == pytest.approx(0.0532)
    assert c["output_tce"] == pytest.approx(0.03858)
    assert c["efficiency"] == pytest.approx(0.03858 / 0.0532)
    assert c["takes_this_carrier"] is True
