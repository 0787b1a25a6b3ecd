"""A cement clinker process (coal and electricity meters, output entered): unit consumption
hand-worked with the shipped GB/T 2589 coefficients and rated against GB 16780-2021
clinker levels 100/107/117 kgce/t on each side of each level.

Hand-worked (one hour from 2025-03-03 00:00 +08:00):
    electricity 60 000 kWh × 0.1229 kgce/kWh =  7 374 kgce
    coal        130 t = 130 000 kg × 0.7143  = 92 859 kgce
    total                                    100 233 kgce = 100.233 tce
    unit consumption = 100 233 kgce ÷ output (t clinker)
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from benchmarking import library, processes
from core.errors import Invalid

CST = timezone(timedelta(hours=8))
T0 = datetime(2025, 3, 3, 0, 0, tzinfo=CST)
T1 = T0 + timedelta(hours=1)
KGCE = 60_000 * 0.1229 + 130_000 * 0.7143
CLINKER = "GB16780-2021/2"


def test_hand_worked_total() -> None:
    assert round(KGCE, 6) == 100_233.0


def test_clinker_row_is_shipped_with_source_and_verification() -> None:
    row = next(r for r in library.shipped() if r["id"] == CLINKER)
    assert (row["level_1"], row["level_2"], row["level_3"]) == (100, 107, 117)
    assert row["standard"] == "GB 16780-2021" and row["unit"] == "kgce/t"
    assert row["verification"] == "verified_2_sources" and row["single_source"] is False
    cement = next(r for r in library.shipped() if r["id"] == "GB16780-2021/1")
    assert cement["single_source"] is True


LEVELS = {"level_1": 100.0, "level_2": 107.0, "level_3": 117.0}


@pytest.mark.parametrize(
    ("value", "rating"),
    [
        (99.99, "level_1"),
        (100.0, "level_1"),
        (100.01, "level_2"),
        (107.0, "level_2"),
        (107.01, "level_3"),
        (117.0, "level_3"),
        (117.01, "above_level_3"),
        (None, "no_levels"),
    ],
)
def test_rating_on_each_side_of_each_level(value: float | None, rating: str) -> None:
    assert processes.rate(value, LEVELS) == rating


def test_cement_clinker_ratio_correction() -> None:
    row = next(r for r in library.shipped() if r["id"] == "GB16780-2021/1")  # 80/87/94 at 75 %
    levels, notes = processes.corrected_levels(row, {"clinker_ratio_pct": 80})
    assert levels["level_1"] == pytest.approx(80 + 1.10 * 5)
    assert levels["level_2"] == pytest.approx(87 + 1.15 * 5)
    assert levels["level_3"] == pytest.approx(94 + 1.20 * 5)
    assert notes[0]["applied"] is True
    _, none = processes.corrected_levels(row, {})
    assert none[0]["applied"] is False


def test_clinker_altitude_correction_on_level_3_only() -> None:
    """GB 16780-2021 clinker 100/107/117 kgce/t; a plant at 2,000 m with the standard's factor
    entered as 1.05: level 3 = 117 × 1.05 = 122.85, levels 1 and 2 unchanged; 120 kgce/t is
    then level 3 (it was above level 3)."""
    row = next(r for r in library.shipped() if r["id"] == "GB16780-2021/2")
    levels, notes = processes.corrected_levels(row, {"altitude_m": 2000, "altitude_factor": 1.05})
    assert (levels["level_1"], levels["level_2"]) == (100, 107)
    assert levels["level_3"] == pytest.approx(122.85)
    assert notes == [
        {
            "correction": "altitude",
            "altitude_m": 2000.0,
            "applied": True,
            "altitude_factor": 1.05,
            "formula": "level_3 × altitude_factor (above 1500 m; factor entered by the user)",
        }
    ]
    assert processes.rate(120, levels) == "level_3"
    assert processes.rate(120, processes.corrected_levels(row, {})[0]) == "above_level_3"
    # at 1,500 m (not above) and without a factor: level 3 stays 117, the note says why
    low, low_notes = processes.corrected_levels(row, {"altitude_m": 1500, "altitude_factor": 1.05})
    assert low["level_3"] == 117 and low_notes[0]["applied"] is False
    bare, bare_notes = processes.corrected_levels(row, {"altitude_m": 2000})
    assert bare["level_3"] == 117 and "altitude_factor not given" in bare_notes[0]["why"]


@pytest.mark.parametrize(
    ("corrections", "field"),
    [
        ({"altitude_factor": 1.05}, "corrections.altitude_m"),
        ({"altitude_m": 2000, "altitude_factor": 0.9}, "corrections.altitude_factor"),
        ({"altitude_m": 20000}, "corrections.altitude_m"),
    ],
)
def test_altitude_corrections_are_checked(corrections: dict, field: str) -> None:
    with pytest.raises(Invalid) as err:
        processes._check_corrections(corrections)
    assert err.value.field == field


def _plant(client: TestClient, h: dict, uid: str, output_t: float) -> str:
    site = f"CEM-{uid}"
    assert (
        client.post("/api/v1/sites", json={"code": site, "name": "Kiln"}, headers=h).status_code
        == 201
    )
    for code, carrier, unit in ((f"EL-{uid}", "electricity", "kWh"), (f"COAL-{uid}", "coal", "t")):
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
    readings = [
        {"meter": m, "ts": (T0 + timedelta(minutes=15 * (i + 1))).isoformat(), "value": v}
        for m, v in ((f"EL-{uid}", 15_000), (f"COAL-{uid}", 32.5))
        for i in range(4)
    ]
    r = client.post("/api/v1/readings", json={"readings": readings}, headers=h)
    assert r.status_code == 200 and r.json()["accepted"] == 8, r.text
    r = client.post(
        "/api/v1/production",
        headers=h,
        json={
            "site": site,
            "product": "clinker",
            "quantity": output_t,
            "unit": "t",
            "start": T0.isoformat(),
            "end": T1.isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/processes",
        headers=h,
        json={
            "code": f"KILN-{uid}",
            "name": "Clinker burning",
            "site": site,
            "meters": [f"EL-{uid}", f"COAL-{uid}"],
            "product": "clinker",
            "unit": "t",
            "benchmark": CLINKER,
        },
    )
    assert r.status_code == 201, r.text
    return site


@pytest.mark.parametrize(
    ("target_kgce_per_t", "rating", "light"),
    [
        (99.9, "level_1", "green"),
        (100.1, "level_2", "amber"),
        (106.9, "level_2", "amber"),
        (107.1, "level_3", "amber"),
        (116.9, "level_3", "amber"),
        (117.1, "above_level_3", "red"),
    ],
)
def test_clinker_process_end_to_end(
    client: TestClient,
    admin_headers: dict,
    uid: str,
    target_kgce_per_t: float,
    rating: str,
    light: str,
) -> None:
    output_t = KGCE / target_kgce_per_t
    site = _plant(client, admin_headers, uid, output_t)
    r = client.get(
        "/api/v1/benchmarking",
        params={"site": site, "start": T0.isoformat(), "end": T1.isoformat()},
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    (p,) = r.json()["processes"]
    assert p["process"] == f"KILN-{uid}" and p["product"] == "clinker" and p["unit"] == "t"
    assert p["output"] == pytest.approx(output_t)
    assert p["energy_tce"] == pytest.approx(100.233)
    assert p["unit_consumption_kgce"] == pytest.approx(target_kgce_per_t)
    assert p["unit_consumption_unit"] == "kgce/t"
    assert p["levels"]["level_1"] == 100 and p["levels"]["level_3"] == 117
    assert set(p["levels"]) == {"level_1", "level_2", "level_3", "benchmark", "baseline"}
    assert p["rating"] == rating and p["light"] == light
    assert p["source"].startswith("adgo07") and p["verification"] == "verified_2_sources"
    kwh = next(c for c in p["per_carrier"] if c["carrier"] == "electricity")
    assert kwh["per_unit"] == pytest.approx(60_000 / output_t)


def test_process_validation(client: TestClient, admin_headers: dict, plant: dict) -> None:
    body = {
        "code": "X",
        "name": "x",
        "site": plant["site"],
        "meters": [plant["gauge"]],
        "product": "p",
        "unit": "t",
    }
    r = client.post("/api/v1/processes", json=body, headers=admin_headers)
    assert r.status_code == 422 and "meters" in r.text
    body["meters"] = [plant["delta"]]
    body["benchmark"] = "nope"
    r = client.post("/api/v1/processes", json=body, headers=admin_headers)
    assert r.status_code == 404 and "benchmark" in r.text


def test_library_and_own_benchmark(client: TestClient, admin_headers: dict, uid: str) -> None:
    r = client.get("/api/v1/benchmarks/library", params={"sector": "cement"}, headers=admin_headers)
    assert r.status_code == 200
    ids = [x["id"] for x in r.json()["rows"]]
    assert CLINKER in ids and all("cement" in x["sector"] for x in r.json()["rows"])
    body = {
        "code": f"GROUP-{uid}",
        "sector": "建材 cement",
        "product_or_process": "clinker",
        "unit": "kgce/t",
        "level_1": 98,
        "source": "group best plant 2024",
    }
    r = client.post("/api/v1/benchmarks", json=body, headers=admin_headers)
    assert r.status_code == 201, r.text
    assert r.json()["single_source"] is True and r.json()["kind"] == "own"
    r = client.post("/api/v1/benchmarks", json={**body, "source": " "}, headers=admin_headers)
    assert r.status_code == 422 and "source" in r.text
