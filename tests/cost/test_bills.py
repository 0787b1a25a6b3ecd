"""Bill reconciliation (对账) and the other parts of a site's cost: a June bill entered as the
utility printed it beside the computed month (the Jiangsu month of ``test_compute``: energy
27,972.00 + demand 3,840.00 CNY), a workshop priced under its plant's tariff (energy only), and
gas at a price per m³ with validity dates."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.cost.test_compute import API, SH, STEP, _assign, _cost, _plant, _post, _readings, _tariff


def _jiangsu_plant(client, h, uid: str) -> dict:  # noqa: ANN001
    p = _plant(client, h, uid)
    ts, values = _readings(datetime(2026, 6, 1, tzinfo=SH), 30)
    _post(client, h, [{"meter": p["kwh"], "ts": ts, "value": values}])
    code = f"JSB-{uid}"
    _tariff(
        client,
        h,
        {
            "code": code,
            "name": "Jiangsu two-part",
            "valid_from": "2026-01-01",
            "template": "jiangsu-2025-two-part",
            "flat_price_cny_per_kwh": 0.60,
            "demand_charge": {"basis": "max_demand", "price_cny_per_kw_month": 40.0},
        },
    )
    _assign(client, h, p["site"], code, "2026-01-01")
    return p


def test_bill_beside_the_computed_month(client, admin_headers, uid) -> None:  # noqa: ANN001
    h = admin_headers
    p = _jiangsu_plant(client, h, uid)
    r = client.post(
        f"{API}/bills",
        headers=h,
        json={
            "site": p["site"],
            "month": "2026-06",
            "periods": [
                {"period": "peak", "kwh": 17800, "cny": 19224.00},
                {"period": "flat", "kwh": 12720},
                {"period": "valley", "kwh": 5500},
            ],
            "max_demand_kw": 100,
            "demand_cny": 4000,
            "total_cny": 32000,
        },
    )
    assert r.status_code == 201, r.text
    rec = client.get(f"{API}/bills/{r.json()['id']}/reconciliation", headers=h)
    assert rec.status_code == 200, rec.text
    lines = {x["line"]: x for x in rec.json()["lines"]}
    assert lines["peak_kwh"] == {
        "line": "peak_kwh",
        "unit": "kWh",
        "bill": 17800,
        "computed": 17760,
        "difference": -40,
        "difference_pct": -0.22,
    }
    assert lines["peak_cny"]["computed"] == 19180.8 and lines["peak_cny"]["difference"] == -43.2
    assert lines["flat_kwh"]["difference"] == 0
    assert lines["valley_kwh"]["difference"] == 20
    assert lines["max_demand_kw"]["computed"] == 96 and lines["max_demand_kw"]["difference"] == -4
    assert lines["demand_cny"]["computed"] == 3840 and lines["demand_cny"]["difference"] == -160
    assert lines["total_cny"]["computed"] == 31812 and lines["total_cny"]["difference"] == -188
    assert rec.json()["computed"]["derivation_hash"]
    # the bill as printed: every figure a JSON number, like its total and the computed month
    assert rec.json()["bill"] == {
        "id": r.json()["id"],
        "site": p["site"],
        "month": "2026-06",
        "total_cny": 32000,
        "periods": [
            {"period": "peak", "kwh": 17800, "cny": 19224},
            {"period": "flat", "kwh": 12720, "cny": None},
            {"period": "valley", "kwh": 5500, "cny": None},
        ],
        "max_demand_kw": 100,
        "power_factor": None,
        "energy_cny": None,
        "demand_cny": 4000,
        "power_factor_cny": None,
    }


def test_bills_name_their_wrong_fields(client, admin_headers, uid) -> None:  # noqa: ANN001
    p = _plant(client, admin_headers, uid)
    for body, field in (
        ({"site": p["site"], "month": "2026-13", "total_cny": 1}, "month"),
        ({"site": "nowhere", "month": "2026-06", "total_cny": 1}, "site"),
        (
            {
                "site": p["site"],
                "month": "2026-06",
                "total_cny": 1,
                "periods": [{"period": "x", "kwh": 1}],
            },
            "periods[0].period",
        ),
        ({"site": p["site"], "month": "2026-06"}, "total_cny"),
    ):
        r = client.post(f"{API}/bills", headers=admin_headers, json=body)
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"][-1] == field, r.text
    assert (
        client.get(f"{API}/bills/999999999/reconciliation", headers=admin_headers).status_code
        == 404
    )


def test_workshop_and_gas(client, admin_headers, uid) -> None:  # noqa: ANN001
    h = admin_headers
    p = _jiangsu_plant(client, h, uid)
    shop = f"WS-{uid}"
    r = client.post(
        f"{API}/sites", headers=h, json={"code": shop, "name": shop, "parent": p["site"]}
    )
    assert r.status_code == 201, r.text
    for code, carrier, unit, parent in (
        (f"WS-KWH-{uid}", "electricity", "kWh", p["kwh"]),
        (f"WS-GAS-{uid}", "natural_gas", "m3", None),
    ):
        r = client.post(
            f"{API}/meters",
            headers=h,
            json={
                "code": code,
                "name": code,
                "site": shop,
                "carrier": carrier,
                "unit": unit,
                "kind": "delta",
                "interval_s": 900,
                "parent": parent,
            },
        )
        assert r.status_code == 201, r.text
    day = datetime(2026, 6, 10, tzinfo=SH)
    ts = [(day + i * STEP).isoformat() for i in range(1, 97)]
    _post(
        client,
        h,
        [
            {"meter": f"WS-KWH-{uid}", "ts": ts, "value": [1.0] * 96},  # a sub-meter
            {"meter": f"WS-GAS-{uid}", "ts": ts, "value": [0.5] * 96},  # 48 m³ that day
        ],
    )
    for price, start, end in ((3.0, "2026-01-01", "2026-06-10"), (3.5, "2026-06-10", None)):
        r = client.post(
            f"{API}/prices",
            headers=h,
            json={
                "carrier": "natural_gas",
                "unit": "m3",
                "price_cny_per_unit": price,
                "valid_from": start,
                "valid_to": end,
                "site": p["site"],
            },
        )
        assert r.status_code == 201, r.text
    r = client.post(
        f"{API}/prices",
        headers=h,
        json={
            "carrier": "electricity",
            "unit": "kWh",
            "price_cny_per_unit": 1,
            "valid_from": "2026-01-01",
        },
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["carrier"]
    # the workshop: June flat 0.60 × 4 kWh/h … — its kWh priced by TOU, no demand charge
    got = _cost(client, h, shop, day, day + timedelta(days=1))
    # 96 kWh: valley 8 h (32 kWh × 0.21), flat 8 h (32 × 0.60), peak 8 h (32 × 1.08)
    assert got["energy_cny"] == 228.48  # 6.72 + 19.20 + 34.56 + 48 m³ × 3.50
    assert got["demand_cny"] == 0 and got["billing_site"] == p["site"]
    assert {c["carrier"]: c["cny"] for c in got["by_carrier"]} == {
        "electricity": 60.48,
        "natural_gas": 168,
    }
    # the plant: its own incomer's day (sub-meter not added again) plus the workshop's gas,
    # and one day's share (1/30) of June's demand charge on the maximum so far (96 kW)
    plant = _cost(client, h, p["site"], day, day + timedelta(days=1))
    assert plant["demand_cny"] == 128.0
    # one meter: its energy at the plant's tariff, no demand or power-factor charge
    r = client.get(
        f"{API}/costs",
        headers=h,
        params={
            "site": p["site"],
            "meter": f"WS-KWH-{uid}",
            "start": day.isoformat(),
            "end": (day + timedelta(days=1)).isoformat(),
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["total_cny"] == 60.48 and r.json()["demand_cny"] == 0
    assert {c["carrier"] for c in plant["by_carrier"]} == {"electricity", "natural_gas"}
