"""Nothing a client sends breaks the API: each hostile input of issue 11 gets a 4xx naming the
field, stored numbers stay finite, a voided reading leaves every total, exports never execute."""

from __future__ import annotations

import io
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

R = "/api/v1/readings"
TS = "2026-01-02T00:01:00+08:00"


def _field(r) -> str:  # noqa: ANN001
    body = r.json()
    assert isinstance(body["detail"], list) and {"loc", "msg", "type"} <= set(body["detail"][0])
    return ".".join(str(p) for p in body["detail"][0]["loc"])


@pytest.mark.parametrize(
    ("media", "body", "field"),
    [
        ("application/json", b'{"readings":' + b"[" * 5000 + b"]" * 5000 + b"}", "body"),
        ("text/csv", b"meter,ts,value\nM,2026-01-01T00:00:00Z," + b"1" * 200_000, "body"),
        ("application/json", b'{"readings": [], "series": []}', "body"),
        ("application/json", b'{"readings": [{"meter": "M", "meter": "N"}]}', "body"),
        ("text/csv", b"meter,ts,value,meter\n", "header"),
        ("text/csv; charset=iso-8859-1", b"meter,ts,value\n", "content-type"),
        ("application/json", b'{"series": [{"meter": {"a": 1}, "ts": [], "value": []}]}', None),
    ],
)
def test_malformed_bodies_are_422_naming_the_field(
    client: TestClient, admin_headers: dict, media: str, body: bytes, field: str | None
) -> None:
    r = client.post(R, content=body, headers={**admin_headers, "content-type": media})
    assert r.status_code == 422, r.text
    assert _field(r) == (field or "series[0].meter")


@pytest.mark.parametrize(
    ("item", "error"),
    [
        ('{"meter": ["METER"], "ts": "TS", "value": 1}', "meter: must be a string"),
        ('{"meter": "METER", "unit": {"u": 1}, "ts": "TS", "value": 1}', "unit: must be"),
        ('{"meter": "METER\\u0000", "ts": "TS", "value": 1}', "meter: contains a NUL"),
        ('{"meter": "\\udc00", "ts": "TS", "value": 1}', "meter: is not valid Unicode"),
        ('{"meter": "METER", "ts": "0001-01-01T00:00:00+01:00", "value": 1}', "ts: "),
        ('{"meter": "METER", "ts": "TS", "value": 1' + "0" * 400 + "}", "value: out of range"),
        ('{"meter": "METER", "ts": "TS", "value": 1e308, "unit": "GWh"}', "value: 1e+308 is inf"),
    ],
)
def test_bad_items_are_rejected_naming_the_field(
    client: TestClient, admin_headers: dict, plant: dict, item: str, error: str
) -> None:
    body = '{"readings": [' + item.replace("METER", plant["delta"]).replace('"TS"', f'"{TS}"')
    r = client.post(
        R,
        content=(body + "]}").encode(),
        headers={**admin_headers, "content-type": "application/json"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 0
    assert r.json()["rejected"][0]["error"].startswith(error), r.text


def test_columnar_empty_stamps_and_double_offsets_are_rejected(
    client: TestClient, admin_headers: dict, plant: dict
) -> None:
    for stamp in ("", "2026-01-01T00:00:00-08:00Z"):
        body = {"series": [{"meter": plant["delta"], "ts": [stamp] * 20, "value": [1.0] * 20}]}
        r = client.post(R, json=body, headers=admin_headers)
        assert r.status_code == 200 and r.json()["accepted"] == 0, r.text
        assert all(x["error"].startswith("ts: ") for x in r.json()["rejected"])


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/api/v1/alarm-rules/99999999999", 404, "rule_id"),
        ("/api/v1/alarms/35189367886628315136/history", 404, "alarm_id"),
        ("/api/v1/alarms?rule=4294967296", 404, "rule"),
        ("/api/v1/meters?site=a%00b", 422, "query.site"),
        ("/api/v1/meters/a%00b", 422, "path.code"),
        ("/api/v1/alarms?limit=99999999999999999999", 422, "limit"),
        (
            "/api/v1/sites/S/totals?start=0001-01-01T00:00:00Z&end=9999-12-31T00:00:00Z",
            422,
            "start",
        ),
        ("/api/v1/kpis/intensity?site=S&period=day&date=9999-12-31", 422, "date"),
    ],
)
def test_ids_nul_and_absurd_dates(
    client: TestClient, admin_headers: dict, path: str, status: int, field: str
) -> None:
    r = client.get(path, headers=admin_headers)
    assert r.status_code == status, r.text
    assert _field(r) == field
    if field in ("start", "date"):
        assert "1900-01-01 … 2200-01-01" in r.json()["detail"][0]["msg"]


def test_non_finite_and_huge_numbers_are_refused(
    client: TestClient, admin_headers: dict, plant: dict
) -> None:
    h = {**admin_headers, "content-type": "application/json"}
    meter = (
        '{"code": "MX", "name": "x", "site": "SITE", "carrier": "electricity", "unit": "kWh", '
        '"kind": "delta", "multiplier": 1e400}'
    ).replace("SITE", plant["site"])
    r = client.post("/api/v1/meters", content=meter, headers=h)
    assert r.status_code == 422 and _field(r) == "body.multiplier", r.text
    r = client.post("/api/v1/meters", content=meter.replace("1e400", "1e12"), headers=h)
    assert r.status_code == 422 and _field(r) == "body.multiplier", r.text
    factor = (
        '{"carrier": "electricity", "value": 1e400, "unit": "tCO2/MWh", '
        '"valid_from": "2026-01-01", "source": "x", "region": "national"}'
    )
    r = client.post("/api/v1/factors", content=factor, headers=h)
    assert r.status_code == 422 and _field(r) == "body.value", r.text
    activity = {
        "site": plant["site"],
        "source": "stationary_combustion",
        "carrier": "diesel",
        "quantity": 1.0,
        "unit": "t",
        "start": "2026-01-01T00:00:00+08:00",
        "end": "2026-02-01T00:00:00+08:00",
    }
    r = client.post(
        "/api/v1/activity", content=json.dumps(activity).replace("1.0", "1e400"), headers=h
    )
    assert r.status_code == 422 and _field(r) == "body.quantity", r.text
    production = {
        "site": plant["site"],
        "product": "steel",
        "quantity": 1.0,
        "unit": "t",
        "start": "2026-01-01T00:00:00+08:00",
        "end": "2026-02-01T00:00:00+08:00",
    }
    for money in (3.2e16, "32000000000000000"):
        r = client.post(
            "/api/v1/production", json={**production, "output_value_cny": money}, headers=h
        )
        assert r.status_code == 422 and _field(r) == "body.output_value_cny", r.text
    r = client.post(
        "/api/v1/production", json={**production, "start": "0001-01-01T00:00:00Z"}, headers=h
    )
    assert r.status_code == 422 and _field(r) == "body.start", r.text


def test_plausibility_limits_reject_the_impossible(
    client: TestClient, admin_headers: dict, plant: dict, uid: str
) -> None:
    code = f"LIM-{uid}"
    r = client.post(
        "/api/v1/meters",
        headers=admin_headers,
        json={
            "code": code,
            "name": "limited",
            "site": plant["site"],
            "carrier": "electricity",
            "unit": "kWh",
            "kind": "delta",
            "interval_s": 60,
            "max_interval_quantity": 500.0,
        },
    )
    assert r.status_code == 201 and r.json()["max_interval_quantity"] == 500.0, r.text
    rows = [
        {"meter": code, "ts": "2026-01-02T00:01:00+08:00", "value": 499.0},
        {"meter": code, "ts": "2026-01-02T00:02:00+08:00", "value": 501.0},
        {"meter": code, "ts": "2026-01-02T00:03:00+08:00", "value": 0.5, "unit": "MWh"},
    ]
    r = client.post(R, json={"readings": rows}, headers=admin_headers)
    assert r.json()["accepted"] == 2, r.text
    [rej] = r.json()["rejected"]
    assert rej["index"] == 1 and "largest plausible" in rej["error"]


def test_void_leaves_every_total_and_keeps_the_reading(
    client: TestClient, admin_headers: dict, plant: dict, engine
) -> None:  # noqa: ANN001
    delta, counter = plant["delta"], plant["counter"]
    stamps = [f"2026-01-02T00:{m:02d}:00+08:00" for m in range(1, 6)]
    r = client.post(
        R,
        headers=admin_headers,
        json={
            "series": [
                {"meter": delta, "ts": stamps, "value": [1.0, 2.0, 1e9, 3.0, 4.0]},
                {"meter": counter, "ts": stamps, "value": [100.0, 101.0, 9e8, 103.0, 104.0]},
            ]
        },
    )
    assert r.json()["accepted"] == 10, r.text
    period = {"start": "2026-01-02T00:00:00+08:00", "end": "2026-01-02T01:00:00+08:00"}

    def total(meter: str) -> float:
        t = client.get(
            f"/api/v1/sites/{plant['site']}/totals", params=period, headers=admin_headers
        )
        return next(m["total"] for m in t.json()["meters"] if m["meter"] == meter)

    assert total(delta) == 1e9 + 10
    for meter in (delta, counter):
        r = client.post(
            "/api/v1/readings/void",
            headers=admin_headers,
            json={"meter": meter, "ts": stamps[2], "reason": "CT wiring fault"},
        )
        assert r.status_code == 201, r.text
        assert r.json()["reason"] == "CT wiring fault" and r.json()["voided_by"]
    assert total(delta) == 10.0
    assert total(counter) == 4.0  # 100 → 101 → (void) → 103 → 104
    for res in ("raw", "1h", "1d"):
        s = client.get(
            f"/api/v1/meters/{delta}/series",
            params={**period, "resolution": res},
            headers=admin_headers,
        ).json()
        assert sum(p["value"] for p in s["points"]) == 10.0, (res, s)
    with engine.connect() as conn:
        kept = conn.execute(
            text(
                "SELECT v.value, v.reason FROM reading_void v JOIN meter m ON m.id = v.meter_id "
                "WHERE m.code = :c"
            ),
            {"c": delta},
        ).all()
    assert [tuple(k) for k in kept] == [(1e9, "CT wiring fault")]
    listed = client.get("/api/v1/readings/void", params={"meter": delta}, headers=admin_headers)
    assert [(v["value"], v["reason"]) for v in listed.json()] == [(1e9, "CT wiring fault")]
    r = client.post(
        "/api/v1/readings/void",
        headers=admin_headers,
        json={"meter": delta, "ts": stamps[2], "reason": "again"},
    )
    assert r.status_code == 404 and _field(r) == "ts"


def test_void_needs_admin(client: TestClient, plant: dict, engine) -> None:  # noqa: ANN001
    from tests.support.db import make_key

    h = {"Authorization": f"Bearer {make_key(engine, 'engineer')}"}
    r = client.post(
        "/api/v1/readings/void", headers=h, json={"meter": plant["delta"], "ts": TS, "reason": "x"}
    )
    assert r.status_code == 403


def test_exports_never_execute(client: TestClient, admin_headers: dict, uid: str) -> None:
    from openpyxl import load_workbook

    site = f"A<b & c {uid}"
    h = admin_headers
    assert client.post(
        "/api/v1/sites", json={"code": site, "name": "<b>x</b>", "region": "江苏"}, headers=h
    ).is_success
    meter = f'=HYPERLINK("http://evil","x")-{uid}'
    r = client.post(
        "/api/v1/meters",
        headers=h,
        json={
            "code": meter[:64],
            "name": "@SUM(1)",
            "site": site,
            "carrier": "electricity",
            "unit": "kWh",
            "kind": "delta",
            "interval_s": 3600,
        },
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/activity",
        headers=h,
        json={
            "site": site,
            "source": "stationary_combustion",
            "carrier": "diesel",
            "quantity": 1.0,
            "unit": "t",
            "start": "2023-03-01T00:00:00+08:00",
            "end": "2023-04-01T00:00:00+08:00",
            "evidence": "=cmd|' /C calc'!A0",
        },
    )
    assert r.status_code == 201, r.text
    params = {"site": site, "year": 2023}
    x = client.get("/api/v1/reports/ghg-inventory", params={**params, "format": "xlsx"}, headers=h)
    assert x.status_code == 200, x.text
    wb = load_workbook(io.BytesIO(x.content))
    texts = [
        c for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)
    ]
    assert all(c.data_type == "s" for c in texts)
    assert not any(c.value.startswith(("=", "+", "-", "@", "\t", "\r")) for c in texts)
    assert any(c.value == "'=cmd|' /C calc'!A0" for c in texts)
    p = client.get("/api/v1/reports/ghg-inventory", params={**params, "format": "pdf"}, headers=h)
    assert p.status_code == 200 and p.content.startswith(b"%PDF"), p.text


def test_openapi_documents_errors_with_the_real_shape(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert {"422", "503"} <= codes, (method, path)
            if path != "/healthz":
                assert {"401", "403", "404"} <= codes, (method, path)
    assert doc["components"]["schemas"]["ErrorItem"]["required"] == ["loc", "msg", "type"]


def test_healthz_says_what_is_up(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["database"] == "up"


def test_voided_reading_leaves_the_carbon_figures(
    client: TestClient, admin_headers: dict, uid: str
) -> None:
    h = admin_headers
    site, meter = f"VC-{uid}", f"VC-IN-{uid}"
    assert client.post(
        "/api/v1/sites", json={"code": site, "name": "v", "region": "江苏"}, headers=h
    ).is_success
    body = {"code": meter, "name": "in", "site": site, "carrier": "electricity"}
    body |= {"unit": "kWh", "kind": "delta", "interval_s": 3600}
    assert client.post("/api/v1/meters", json=body, headers=h).status_code == 201
    ts = [f"2023-06-10T{hh:02d}:00:00+08:00" for hh in (9, 10, 11)]
    r = client.post(
        R, json={"series": [{"meter": meter, "ts": ts, "value": [1000.0, 1e12, 1000.0]}]}, headers=h
    )
    assert r.json()["accepted"] == 3, r.text
    period = {
        "site": site,
        "start": "2023-06-01T00:00:00+08:00",
        "end": "2023-07-01T00:00:00+08:00",
    }

    def scope2() -> float:
        e = client.get("/api/v1/carbon/emissions", params=period, headers=h)
        assert e.status_code == 200, e.text
        return e.json()["scope2_location_tco2"]

    assert scope2() > 1e8
    r = client.post(
        "/api/v1/readings/void",
        json={"meter": meter, "ts": ts[1], "reason": "decimal point lost"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert scope2() == pytest.approx(2.0 * 0.5827)  # 2 MWh × Jiangsu 2023 grid factor
    inv = client.get(
        "/api/v1/reports/ghg-inventory", params={"site": site, "year": 2023}, headers=h
    ).json()
    assert inv["results"]["scope2_location_tco2"] == pytest.approx(2.0 * 0.5827)
