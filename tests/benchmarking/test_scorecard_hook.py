"""The zero-carbon scorecard reads processes at level 1 and the grade-1 share from
benchmarking; both stay "not measured" without a rated process or graded equipment."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.benchmarking.test_processes import KGCE, _plant


def _indicators(client: TestClient, h: dict, site: str) -> dict:
    r = client.get("/api/v1/zero-carbon/scorecard", params={"site": site, "year": 2025}, headers=h)
    assert r.status_code == 200, r.text
    return {i["code"]: i for i in r.json()["indicators"]}


def test_scorecard_measures_from_benchmarking(
    client: TestClient, admin_headers: dict, uid: str
) -> None:
    site = _plant(client, admin_headers, uid, KGCE / 99.0)  # 99 kgce/t: level 1
    before = _indicators(client, admin_headers, site)
    assert before["equipment_grade_1_share"]["status"] == "not measured"
    assert before["processes_at_level_1"]["value"] == pytest.approx(100.0)
    assert before["processes_at_level_1"]["evidence"]["ratings"] == {f"KILN-{uid}": "level_1"}
    for code, grade, kw in (("A", 1, 250), ("B", 3, 750)):
        r = client.post(
            "/api/v1/equipment",
            headers=admin_headers,
            json={
                "code": f"{code}-{uid}",
                "name": code,
                "site": site,
                "kind": "fan",
                "rated_kw": kw,
                "grade": grade,
            },
        )
        assert r.status_code == 201, r.text
    after = _indicators(client, admin_headers, site)
    assert after["equipment_grade_1_share"]["value"] == pytest.approx(25.0)
    assert after["equipment_grade_1_share"]["evidence"]["below_grade_1"] == [f"B-{uid}"]


def test_scorecard_without_processes(client: TestClient, admin_headers: dict, plant: dict) -> None:
    ind = _indicators(client, admin_headers, plant["site"])
    assert ind["processes_at_level_1"]["status"] == "not measured"
    assert ind["equipment_grade_1_share"]["status"] == "not measured"
