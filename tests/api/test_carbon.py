"""The carbon API end to end on the real server, against values worked by hand.

A plant in Jiangsu (region 江苏 → 华东 → national) meters, on 2023-06-10 local time, ten
hourly readings per meter: grid incomer 5,000 kWh each (a feeder sub-meter 2,000 kWh each,
never added again), natural gas 10,000 Nm³ each (100,000 Nm³ in all), rooftop PV 800 kWh,
export 300 kWh, purchased steam 5 t, water 100 m³.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from carbon.derivation import canonical_json
from metering import registry
from tests.support import jiangsu_plant
from tests.support.db import make_key
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
DAY = "2023-06-10"
START, END = "2023-06-01T00:00:00+08:00", "2023-07-01T00:00:00+08:00"

# ---- hand-worked reference values -------------------------------------------------------
GAS_NM3 = 100_000.0
GAS_EF = 389.31 * 15.3 / 1000 * 0.99 * 44 / 12  # GB/T 32151 default, tCO2 per 10^4 Nm³
GAS_T = GAS_NM3 / 1e4 * GAS_EF  # 216.2188809 t
GRID_MWH = 50.0
JIANGSU_2023 = 0.5827  # MEE/NBS 公告2025年第47号, tCO2/MWh
RESIDUAL_2023 = 0.6096  # national, excluding market-traded non-fossil power
ELEC_T = GRID_MWH * JIANGSU_2023  # 29.135 t
STEAM_T = 50 * 3.763 * 0.11  # 50 t × 3.763 GJ/t (GB/T 2589 low-pressure steam) × 0.11 = 20.6965
PV_KWH, EXPORT_KWH = 8_000.0, 3_000.0
CONSUMPTION_KWH = 50_000 + PV_KWH - EXPORT_KWH  # 55,000 kWh
TCE_EQUIVALENT = CONSUMPTION_KWH * 0.1229 / 1000 + GAS_NM3 * 1.33 / 1000 + 50 * 0.1286
#               = 6.7595 + 133.0 + 6.43 = 146.1895 tce


def _post(client: TestClient, headers: dict, path: str, body: dict, code: int = 201) -> dict:
    r = client.post(path, json=body, headers=headers)
    assert r.status_code == code, r.text
    return r.json()


def _get(client: TestClient, headers: dict, path: str, **params: object) -> dict:
    r = client.get(path, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def world(client: TestClient, admin_headers: dict, engine) -> dict:  # noqa: ANN001
    uid = uuid.uuid4().hex[:8]
    site, h = f"CJ-{uid}", admin_headers
    codes = jiangsu_plant.build(client, h, site, uid, "Jiangsu plant")
    viewer = {"Authorization": f"Bearer {make_key(engine, 'viewer')}"}
    manager = {"Authorization": f"Bearer {make_key(engine, 'manager')}"}
    return {
        "site": site,
        "codes": codes,
        "admin": h,
        "viewer": viewer,
        "manager": manager,
        "uid": uid,
    }


def _emissions(client: TestClient, w: dict, **params: object) -> dict:
    return _get(
        client,
        w["viewer"],
        "/api/v1/carbon/emissions",
        **{"site": w["site"], "start": START, "end": END, **params},
    )


def test_boundary_defaults_and_submeters(client: TestClient, world: dict) -> None:
    b = _get(client, world["viewer"], f"/api/v1/sites/{world['site']}/boundary")
    counted = {m["meter"].split("-")[0]: (m["scope"], m["source"]) for m in b["counted"]}
    assert counted == {
        "IN": (2, "purchased_electricity"),
        "GAS": (1, "stationary_combustion"),
        "PV": (None, "onsite_renewable"),
        "EXP": (None, "export"),
        "STEAM": (2, "purchased_steam"),
        "WATER": (None, "water"),
    }
    assert [m["meter"] for m in b["submeters"]] == [world["codes"]["FEED"]]


def test_hand_worked_scopes_and_energy(client: TestClient, world: dict) -> None:
    e = _emissions(client, world)
    assert e["scope1_tco2"] == pytest.approx(GAS_T, rel=1e-9)
    assert e["scope2_location_tco2"] == pytest.approx(ELEC_T + STEAM_T, rel=1e-9)
    assert e["scope2_market_tco2"] == pytest.approx(GRID_MWH * RESIDUAL_2023 + STEAM_T, rel=1e-9)
    assert e["energy_tce"] == pytest.approx(TCE_EQUIVALENT, rel=1e-9)
    rows = {r["meter"].split("-")[0]: r for r in e["by_source"]}
    assert set(rows) == {"IN", "GAS", "STEAM"}  # FEED is a sub-meter: never counted twice
    assert rows["IN"]["activity"] == pytest.approx(50_000.0)
    assert rows["IN"]["factor"] == JIANGSU_2023 and rows["IN"]["unit"] == "kWh"
    assert rows["GAS"]["activity"] == pytest.approx(GAS_NM3)
    assert rows["GAS"]["tco2"] == pytest.approx(GAS_T, rel=1e-9)
    assert {k for k in e} >= {
        "scope1_tco2",
        "scope2_location_tco2",
        "scope2_market_tco2",
        "energy_tce",
        "by_source",
        "derivation_hash",
    }
    for r in e["by_source"]:
        assert {"scope", "activity", "unit", "factor", "factor_id", "tco2"} <= set(r)
    assert e["electricity"]["consumption_kwh"] == pytest.approx(CONSUMPTION_KWH)


def _derivations_stored(engine) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM carbon_derivation")).scalar_one()


def test_derivation_reproduces_the_figures_and_the_hash(
    client: TestClient,
    world: dict,
    engine,  # noqa: ANN001
) -> None:
    stored = _derivations_stored(engine)
    e = _emissions(client, world)
    assert e["derivation_url"].startswith(f"/api/v1/carbon/derivations/{e['derivation_hash']}?")
    r = client.get(e["derivation_url"], headers=world["viewer"])  # the URL carries its query
    assert r.status_code == 200, r.text
    d = r.json()
    assert (
        _derivations_stored(engine) == stored
    )  # reading a figure (or its derivation) stores nothing
    blob = canonical_json({"formulas": d["formulas"], "inputs": d["inputs"]})
    assert hashlib.sha256(blob.encode()).hexdigest() == e["derivation_hash"] == d["hash"]
    # a verifier recomputes scope 1 from the aggregate and the factor row alone
    gas = world["codes"]["GAS"]
    energy = sum(r["energy"] for r in d["inputs"]["readings"] if r["meter"] == gas)
    n = sum(r["n"] for r in d["inputs"]["readings"] if r["meter"] == gas)
    factor_id = next(
        a["factor_id"]
        for a in d["inputs"]["assignments"]
        if a["meter"] == gas and a["purpose"] == "co2"
    )
    f = next(f for f in d["inputs"]["factors"] if f["id"] == factor_id)
    assert (energy, n, f["unit"]) == (GAS_NM3, 10, "tCO2/10^4 m3")
    assert "GB/T 32151" in f["source_document"] and f["params"]["ncv"] == 389.31
    assert energy / 1e4 * f["value"] == pytest.approx(e["scope1_tco2"], rel=1e-12)
    # the same question gives the same hash; another period another
    assert _emissions(client, world)["derivation_hash"] == e["derivation_hash"]
    assert (
        _emissions(client, world, end="2023-06-30T00:00:00+08:00")["derivation_hash"]
        != e["derivation_hash"]
    )
    r = client.get("/api/v1/carbon/derivations/" + "0" * 64, headers=world["viewer"])
    assert r.status_code == 404 and "hash" in r.json()["error"]
    # the bare hash of a figure nobody stored: found only with its parameters
    r = client.get(f"/api/v1/carbon/derivations/{e['derivation_hash']}", headers=world["viewer"])
    assert r.status_code == 404 and "derivation_url" in r.json()["error"]
    # other parameters derive another hash: not this derivation
    other = e["derivation_url"].replace("gwp=AR5", "gwp=AR6")
    assert other != e["derivation_url"]
    r = client.get(other, headers=world["viewer"])
    assert r.status_code == 404 and "not" in r.json()["error"]
    r = client.get(e["derivation_url"].replace("kind=emissions", "kind=x"), headers=world["viewer"])
    assert r.status_code == 422 and "kind" in r.json()["error"]


def test_gwp_for_refrigerant_and_sf6_activity(client: TestClient, world: dict) -> None:
    w = world
    _post(
        client,
        w["manager"],
        "/api/v1/activity",
        {
            "site": w["site"],
            "source": "fugitive",
            "carrier": "SF6",
            "quantity": 10,
            "unit": "kg",
            "start": "2023-06-05T00:00:00+08:00",
            "end": "2023-06-06T00:00:00+08:00",
            "evidence": "switchgear top-up log 2023-06-05",
        },
    )
    for ar, gwp in (("AR4", 22800), ("AR5", 23500), ("AR6", 25200)):
        e = _emissions(client, w, gwp=ar)
        assert e["scope1_tco2"] == pytest.approx(GAS_T, rel=1e-9)  # CO2 only
        assert e["scope1_tco2e"] == pytest.approx(GAS_T + 0.010 * gwp, rel=1e-9)
        sf6 = next(g for g in e["by_gas"] if g["gas"] == "SF6")
        assert (sf6["t"], sf6["tco2e"]) == (pytest.approx(0.01), pytest.approx(0.01 * gwp))
        row = next(r for r in e["by_source"] if r.get("source") == "fugitive")
        assert row["factor"] == gwp and row["gas"] == "SF6"
    # the activity is prorated when only part of it falls in the period
    e = _emissions(client, w, start="2023-06-05T12:00:00+08:00")
    sf6 = next(g for g in e["by_gas"] if g["gas"] == "SF6")
    assert sf6["t"] == pytest.approx(0.005)
    bad = client.post(
        "/api/v1/activity",
        headers=w["manager"],
        json={
            "site": w["site"],
            "source": "fugitive",
            "carrier": "SF6",
            "quantity": 1,
            "unit": "m3",
            "start": "2023-06-05T00:00:00+08:00",
            "end": "2023-06-06T00:00:00+08:00",
        },
    )
    assert bad.status_code == 422 and "unit" in bad.json()["error"]
    viewer = client.post("/api/v1/activity", headers=w["viewer"], json={})
    assert viewer.status_code in (403, 422)


def test_market_based_certificates_used_once_never_below_zero(
    client: TestClient, world: dict
) -> None:
    w = world
    cert = {
        "serial": f"GEC-{w['uid']}-A",
        "mwh": 20,
        "vintage": "2023-05-01",
        "site": w["site"],
        "retired_for_start": START,
        "retired_for_end": END,
    }
    _post(client, w["manager"], "/api/v1/green-certificates", cert)
    e = _emissions(client, w)
    assert e["scope2_market_tco2"] == pytest.approx(
        (GRID_MWH - 20) * RESIDUAL_2023 + STEAM_T, rel=1e-9
    )
    assert e["scope2_location_tco2"] == pytest.approx(ELEC_T + STEAM_T, rel=1e-9)  # unchanged
    again = client.post("/api/v1/green-certificates", json=cert, headers=w["manager"])
    assert again.status_code == 409 and "serial" in again.json()["error"]
    _post(
        client,
        w["manager"],
        "/api/v1/green-certificates",
        {**cert, "serial": f"GEC-{w['uid']}-B", "mwh": 40},
    )
    e = _emissions(client, w)
    assert e["scope2_market_tco2"] == pytest.approx(STEAM_T, rel=1e-9)  # electricity at 0
    claimed = {c["serial"][-1]: c["claimed_mwh_in_period"] for c in e["certificates"]}
    assert claimed == {"A": pytest.approx(20.0), "B": pytest.approx(30.0)}  # capped at 50 MWh
    assert e["electricity"]["certificates_claimed_mwh"] == pytest.approx(GRID_MWH)
    expired = client.post(
        "/api/v1/green-certificates",
        headers=w["manager"],
        json={
            **cert,
            "serial": f"GEC-{w['uid']}-OLD",
            "vintage": "2021-01-01",
            "retired_for_start": "2026-01-01T00:00:00+08:00",
            "retired_for_end": "2026-02-01T00:00:00+08:00",
        },
    )
    assert expired.status_code == 422 and "expired" in expired.json()["error"]


def test_carbon_rollups_match_the_emissions(client: TestClient, world: dict) -> None:
    w = world
    for res in ("1h", "1d"):
        s = _get(
            client,
            w["viewer"],
            "/api/v1/carbon/series",
            site=w["site"],
            start=START,
            end=END,
            resolution=res,
        )
        total = sum(p["co2_t"] for p in s["points"])
        assert total == pytest.approx(GAS_T + ELEC_T + STEAM_T, rel=1e-9)  # metered part
        assert sum(p["scope1_co2_t"] for p in s["points"]) == pytest.approx(GAS_T, rel=1e-9)
        assert sum(p["tce"] for p in s["points"]) == pytest.approx(TCE_EQUIVALENT, rel=1e-9)
    hourly = _get(
        client,
        w["viewer"],
        "/api/v1/carbon/series",
        site=w["site"],
        start=START,
        end=END,
        resolution="1h",
    )["points"]
    assert len(hourly) == 10 and hourly[0]["ts"].startswith("2023-06-10T00:00:00")  # 08:00 CST
    m = _get(
        client,
        w["viewer"],
        "/api/v1/carbon/series",
        meter=w["codes"]["IN"],
        start=START,
        end=END,
        resolution="raw",
    )
    assert [p["co2_t"] for p in m["points"]] == [pytest.approx(5 * JIANGSU_2023)] * 10


def test_new_factor_needs_explicit_recalculation_old_version_kept(
    client: TestClient, world: dict
) -> None:
    w = world
    site, region = f"CR-{w['uid']}", f"GRID-{w['uid']}"
    _post(client, w["admin"], "/api/v1/sites", {"code": site, "name": "R", "region": region})
    _post(
        client,
        w["admin"],
        "/api/v1/meters",
        {
            "code": f"R-{w['uid']}",
            "name": "incomer",
            "site": site,
            "carrier": "electricity",
            "unit": "MWh",
            "kind": "delta",
        },
    )
    r = client.post(
        "/api/v1/readings",
        headers=w["admin"],
        json={
            "series": [
                {
                    "meter": f"R-{w['uid']}",
                    "ts": ["2023-03-01T00:15:00+08:00", "2025-03-01T00:15:00+08:00"],
                    "value": [100, 100],
                }
            ]
        },
    )
    assert r.json()["accepted"] == 2
    q = {"site": site, "start": "2023-01-01T00:00:00+08:00", "end": "2024-01-01T00:00:00+08:00"}
    before = _get(client, w["viewer"], "/api/v1/carbon/emissions", **q)
    assert before["scope2_location_tco2"] == pytest.approx(100 * 0.5306)  # national 2023
    late = _get(
        client,
        w["viewer"],
        "/api/v1/carbon/emissions",
        site=site,
        start="2025-01-01T00:00:00+08:00",
        end="2026-01-01T00:00:00+08:00",
    )
    assert late["scope2_location_tco2"] == pytest.approx(100 * 0.5306)  # 2025 not published
    assert any(
        f["code"] == "factor_period_fallback" and "2025" in f["detail"]
        for f in late["data_quality"]
    )

    denied = client.post(
        "/api/v1/factors",
        headers=w["manager"],
        json={"carrier": "electricity", "value": 0.5, "unit": "tCO2/MWh", "source": "x"},
    )
    assert denied.status_code == 403
    f = _post(
        client,
        w["admin"],
        "/api/v1/factors",
        {
            "carrier": "electricity",
            "value": 500,
            "unit": "kgCO2/MWh",
            "region": region,
            "valid_from": "2023-01-01",
            "valid_to": "2024-01-01",
            "source": "provincial notice (test)",
        },
    )
    assert (f["variant"], f["applied"]) == ("average", False)
    same = _get(client, w["viewer"], "/api/v1/carbon/emissions", **q)
    assert same["scope2_location_tco2"] == before["scope2_location_tco2"]  # not applied yet
    v = _post(
        client,
        w["admin"],
        "/api/v1/carbon/recalculations",
        {"reason": "regional factor 2023 published"},
    )
    assert v["factor_watermark"] >= f["id"] and v["created_by"].startswith("admin")
    changed = [c for c in v["summary"]["changed_assignments"] if c["meter"] == f"R-{w['uid']}"]
    assert any(c["new_factor_id"] == f["id"] and c["old_value"] == 0.5306 for c in changed)
    after = _get(client, w["viewer"], "/api/v1/carbon/emissions", **q)
    assert after["scope2_location_tco2"] == pytest.approx(100 * 0.5)
    assert after["version"] == v["version"]
    old = _get(client, w["viewer"], "/api/v1/carbon/emissions", **q, version=before["version"])
    assert old["scope2_location_tco2"] == pytest.approx(100 * 0.5306)  # still retrievable
    assert old["derivation_hash"] == before["derivation_hash"]
    # a correction supersedes, never edits; the log keeps who, when, old and new value
    f2 = _post(
        client,
        w["admin"],
        "/api/v1/factors",
        {
            "carrier": "electricity",
            "value": 0.51,
            "unit": "tCO2/MWh",
            "region": region,
            "valid_from": "2023-01-01",
            "valid_to": "2024-01-01",
            "source": "corrected notice",
        },
    )
    assert f2["supersedes_id"] == f["id"]
    log = _get(client, w["viewer"], "/api/v1/factors/log", factor_id=f2["id"])
    assert [(e["action"], e["old_value"], e["new_value"]) for e in log] == [
        ("supersede", 500.0, 0.51)
    ]
    versions = _get(client, w["viewer"], "/api/v1/carbon/recalculations")
    assert [x["version"] for x in versions][-1] == v["version"]


def test_tce_equal_value_convention(client: TestClient, world: dict) -> None:
    w = world
    r = client.get(
        "/api/v1/carbon/emissions",
        headers=w["viewer"],
        params={"site": w["site"], "start": START, "end": END, "tce_convention": "equal_value"},
    )
    assert r.status_code == 422 and "equal-value" in r.json()["error"]
    # the year's coefficient (illustrative 300 gce/kWh) is entered for this site, then applied
    _post(
        client,
        w["admin"],
        "/api/v1/factors",
        {
            "carrier": "electricity",
            "value": 300,
            "unit": "gce/kWh",
            "variant": "equal_value",
            "site": w["site"],
            "valid_from": "2023-01-01",
            "valid_to": "2024-01-01",
            "source": "NBS 供电标准煤耗 (test value)",
        },
    )
    _post(client, w["admin"], "/api/v1/carbon/recalculations", {"reason": "equal value 2023"})
    e = _emissions(client, w, tce_convention="equal_value")
    assert e["energy_tce"] == pytest.approx(
        CONSUMPTION_KWH * 0.300 / 1000 + 133.0 + 6.43, rel=1e-9
    )  # 16.5 + 133.0 + 6.43 = 155.93
    assert _emissions(client, w)["energy_tce"] == pytest.approx(TCE_EQUIVALENT, rel=1e-9)


def test_emission_source_mapping(client: TestClient, world: dict) -> None:
    w = world
    code = w["codes"]["WATER"]
    r = client.put(
        f"/api/v1/meters/{code}/emission-source", headers=w["viewer"], json={"source": "process"}
    )
    assert r.status_code == 403
    r = client.put(
        f"/api/v1/meters/{code}/emission-source", headers=w["admin"], json={"source": "nonsense"}
    )
    assert r.status_code == 422 and "source" in r.json()["error"]
    r = client.put(
        f"/api/v1/meters/{code}/emission-source",
        headers=w["admin"],
        json={"source": "water", "scope": 1},
    )
    assert r.status_code == 422 and "scope" in r.json()["error"]
    r = client.put(
        f"/api/v1/meters/{code}/emission-source", headers=w["admin"], json={"source": "water"}
    )
    assert r.status_code == 200 and r.json() == {
        "meter": code,
        "scope": None,
        "source": "water",
        "fuel": None,
        "default": False,
    }
    assert client.get("/api/v1/meters/NOPE/emission-source", headers=w["viewer"]).status_code == 404


def test_intensity_kpis(client: TestClient, world: dict) -> None:
    w = world
    _post(
        client,
        w["manager"],
        "/api/v1/production",
        {
            "site": w["site"],
            "product": "steel",
            "quantity": 1000,
            "unit": "t",
            "start": START,
            "end": END,
            "output_value_cny": "5000000.00",
        },
    )
    k = _get(
        client,
        w["viewer"],
        "/api/v1/kpis/intensity",
        site=w["site"],
        period="month",
        date="2023-06-15",
    )
    e = _emissions(client, w)
    carbon = e["scope1_tco2e"] + e["scope2_location_tco2"]
    assert k["energy_tce"] == pytest.approx(TCE_EQUIVALENT)
    assert k["output_value_cny"] == pytest.approx(5_000_000)
    assert k["energy_intensity_tce_per_10k_cny"] == pytest.approx(TCE_EQUIVALENT / 500)
    assert k["carbon_intensity_tco2_per_10k_cny"] == pytest.approx(carbon / 500)
    steel = k["by_product"][0]
    assert steel["energy_intensity_tce_per_unit"] == pytest.approx(TCE_EQUIVALENT / 1000)
    assert steel["carbon_intensity_tco2_per_unit"] == pytest.approx(carbon / 1000)
    assert k["renewable_electricity_share"] == pytest.approx(
        (PV_KWH - EXPORT_KWH) / CONSUMPTION_KWH
    )
    assert k["green_power_share"] == pytest.approx(1.0)  # 5 MWh own PV + 50 MWh GEC ≥ 55 MWh
    assert k["yoy"]["energy_tce"]["previous"] == 0.0
    assert k["yoy"]["energy_tce"]["change_pct"] is None
    assert k["mom"]["energy_tce"]["previous"] == 0.0
    day = _get(
        client, w["viewer"], "/api/v1/kpis/intensity", site=w["site"], period="day", date=DAY
    )
    assert day["energy_tce"] == pytest.approx(TCE_EQUIVALENT)
    assert day["output_value_cny"] == pytest.approx(5_000_000 / 30)  # prorated by duration
    year = _get(
        client, w["viewer"], "/api/v1/kpis/intensity", site=w["site"], period="year", date=DAY
    )
    assert year["mom"] is None and year["derivation_hash"]
    r = client.get(year["derivation_url"], headers=w["viewer"])  # recomputed, not stored
    assert r.status_code == 200, r.text
    assert r.json()["hash"] == year["derivation_hash"] and r.json()["kind"] == "kpi_intensity"
    bad = client.get(
        "/api/v1/kpis/intensity",
        headers=w["viewer"],
        params={"site": w["site"], "period": "week", "date": DAY},
    )
    assert bad.status_code == 422 and "period" in bad.json()["error"]


def test_inventory_report_matches_the_api(
    client: TestClient, world: dict, db_url: str, tmp_path: Path
) -> None:
    w = world
    inv = _get(client, w["viewer"], "/api/v1/reports/ghg-inventory", site=w["site"], year=2023)
    year = _get(
        client,
        w["viewer"],
        "/api/v1/carbon/emissions",
        site=w["site"],
        start="2023-01-01T00:00:00+08:00",
        end="2024-01-01T00:00:00+08:00",
    )
    for k in (
        "scope1_tco2",
        "scope1_tco2e",
        "scope2_location_tco2",
        "scope2_market_tco2",
        "energy_tce",
    ):
        assert inv["results"][k] == year[k]
    june = next(m for m in inv["monthly"] if m["month"] == "2023-06")
    assert june["scope2_location_tco2"] == pytest.approx(year["scope2_location_tco2"])
    assert sum(m["scope2_market_tco2"] for m in inv["monthly"]) == pytest.approx(
        year["scope2_market_tco2"]
    )
    assert inv["derivation_hash"] == year["derivation_hash"]
    assert {f["id"] for f in inv["factors"]} >= {r["factor_id"] for r in year["by_source"]}

    x = client.get(
        "/api/v1/reports/ghg-inventory",
        headers=w["viewer"],
        params={"site": w["site"], "year": 2023, "format": "xlsx"},
    )
    assert x.status_code == 200 and "attachment" in x.headers["content-disposition"]
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(x.content))
    assert wb.sheetnames[:2] == ["Summary", "Monthly"] and "Factors" in wb.sheetnames
    assert wb["Monthly"]._charts and wb["Summary"]._charts
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r and r[0]}
    assert summary["Scope 1 (CO2)"] == pytest.approx(year["scope1_tco2"])
    floats = [c for row in wb["Monthly"].iter_rows() for c in row if isinstance(c.value, float)]
    assert floats and all(c.number_format == "#,##0.0#####" for c in floats)
    p = client.get(
        "/api/v1/reports/ghg-inventory",
        headers=w["viewer"],
        params={"site": w["site"], "year": 2023, "format": "pdf"},
    )
    assert p.status_code == 200 and p.content.startswith(b"%PDF")

    env = {
        **{k: v for k, v in os.environ.items() if k != "ECC_DATABASE_URL"},
        "ECC_DATABASE_URL": db_url,
        "ECC_DATA_DIR": str(tmp_path),
    }
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "shell.cli",
            "report",
            "ghg-inventory",
            "--site",
            w["site"],
            "--year",
            "2023",
            "--format",
            "json",
            "--format",
            "pdf",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    files = [Path(line) for line in out.stdout.split()]
    assert [f.suffix for f in files] == [".json", ".pdf"]
    cli = json.loads(files[0].read_text(encoding="utf-8"))
    assert cli["results"]["scope1_tco2"] == year["scope1_tco2"]
    assert cli["derivation_hash"] == year["derivation_hash"]


def test_process_meter_mapped_to_a_carbonate(client: TestClient, world: dict) -> None:
    """A weighbridge meter of limestone (carrier other, t) mapped to scope 1 process emissions:
    100 t CaCO3 × 0.43971 tCO2/t (IPCC 2006 Table 2.1) = 43.971 tCO2."""
    w = world
    site, code = f"CK-{w['uid']}", f"LIME-{w['uid']}"
    _post(client, w["admin"], "/api/v1/sites", {"code": site, "name": "Kiln"})
    _post(
        client,
        w["admin"],
        "/api/v1/meters",
        {
            "code": code,
            "name": "limestone",
            "site": site,
            "carrier": "other",
            "unit": "t",
            "kind": "delta",
        },
    )
    r = client.post(
        "/api/v1/readings",
        headers=w["admin"],
        json={
            "series": [
                {
                    "meter": code,
                    "ts": ["2023-06-10T10:00:00+08:00", "2023-06-10T11:00:00+08:00"],
                    "value": [60, 40],
                }
            ]
        },
    )
    assert r.json()["accepted"] == 2
    assert _emissions(client, {**w, "site": site})["by_source"] == []  # non-emitting default
    bad = client.put(
        f"/api/v1/meters/{code}/emission-source",
        headers=w["admin"],
        json={"source": "process", "fuel": "unobtainium"},
    )
    assert bad.status_code == 422 and "fuel" in bad.json()["error"]
    r = client.put(
        f"/api/v1/meters/{code}/emission-source",
        headers=w["admin"],
        json={"source": "process", "fuel": "CaCO3"},
    )
    assert r.status_code == 200 and r.json()["scope"] == 1
    e = _emissions(client, {**w, "site": site})
    assert e["scope1_tco2"] == pytest.approx(100 * 0.43971, rel=1e-12)
    assert e["energy_tce"] == 0.0 and e["data_quality"] == []


def test_report_numbers_keep_their_digits_and_get_separators() -> None:
    from carbon.report import number_text

    assert number_text(959636.71) == "959,636.71"
    assert number_text(216.218881) == "216.218881"
    assert number_text(0.000459) == "0.000459"
    assert number_text(1234.0) == "1,234.0"
    assert number_text(-20.6965) == "-20.6965"
    assert number_text(2023) == "2023"  # years and ids are not numbers to read


_STORED = (
    "SELECT (SELECT count(*) FROM carbon_assignment), "
    "(SELECT count(*) FROM carbon_assignment_state), (SELECT count(*) FROM carbon_derivation)"
)


def test_reading_figures_stores_nothing(client: TestClient, world: dict, engine) -> None:  # noqa: ANN001
    """Meters and mappings written through the API store their factor assignments; the GET
    endpoints then answer without storing anything (assignments or derivations)."""
    w, v = world, world["viewer"]
    with engine.connect() as conn:
        before = conn.execute(text(_STORED)).one()
    period = {"start": START, "end": END}
    e = _emissions(client, w)
    assert client.get(e["derivation_url"], headers=v).status_code == 200
    _get(client, v, "/api/v1/carbon/series", site=w["site"], resolution="1h", **period)
    _get(client, v, "/api/v1/carbon/series", meter=w["codes"]["GAS"], resolution="raw", **period)
    _get(client, v, "/api/v1/kpis/intensity", site=w["site"], period="month", date=DAY)
    _get(client, v, "/api/v1/reports/ghg-inventory", site=w["site"], year=2023)
    with engine.connect() as conn:
        assert conn.execute(text(_STORED)).one() == before
    # a meter created behind the API's back (a bulk load that forgot to store them) is still
    # answered, its assignments computed in the reader's own transaction and not kept
    with Session(engine) as s:
        registry.create_meter(
            s,
            registry.MeterIn(f"RAW-{w['site']}", "raw", w["site"], "electricity", "kWh", "delta"),
        )
        s.commit()
    r = client.get(
        "/api/v1/carbon/series",
        params={"meter": f"RAW-{w['site']}", "resolution": "1h", **period},
        headers=v,
    )
    assert r.status_code == 200 and r.json()["points"] == []
    with engine.connect() as conn:
        assert conn.execute(text(_STORED)).one() == before
