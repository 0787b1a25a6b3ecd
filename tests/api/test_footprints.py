"""Product footprints end to end on the real server, against a hand-worked product.

Line meter LINE meters 1,000 kWh on 2024-03-01 (local, +08:00) shared by two co-products:
A (declared unit kg, 600 kg made, output value 6,000 CNY) and B (pieces of 2 kg, 200 made =
400 kg, 2,000 CNY). A's bill of materials: 0.8 kg steel × 2.0 kgCO2e/kg + 0.1 kg resin ×
3.0 kgCO2e/kg = 1.9 kgCO2e per kg. Energy by mass: 1,000 kWh × 600 / (600 + 400) = 600 kWh
÷ 600 kg = 1 kWh/kg × 0.5777 kgCO2e/kWh (2024 national electricity carbon-footprint factor)
= 0.5777. Total 2.4777 kgCO2e per kg of A.
"""

from __future__ import annotations

import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal

import jsonschema
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.orm import Session

from carbon.derivation import content_hash
from footprints import calc, pact, service, suppliers
from tests.support.alarms import wait_for
from tests.support.pact import PACT_SUPPLIER_DOC
from tests.support.pdf import HOUSE_FONTS, embedded_fonts

START, END = "2024-03-01T00:00:00+08:00", "2024-03-02T00:00:00+08:00"
EF_2024 = 0.5777
RAW = 0.8 * 2.0 + 0.1 * 3.0  # 1.9
ENERGY_MASS = 1000 * 600 / (600 + 400) / 600 * EF_2024  # 0.5777
ENERGY_ECON = 1000 * 6000 / (6000 + 2000) / 600 * EF_2024  # 0.722125
TOL = 1e-6


def _ok(r, code: int = 200) -> dict:  # noqa: ANN001
    assert r.status_code == code, r.text
    return r.json()


@pytest.fixture(scope="module")
def world(client: TestClient, admin_headers: dict) -> dict:
    uid = uuid.uuid4().hex[:8]
    h = admin_headers
    site, line, a, b, sup = f"FP-{uid}", f"LINE-{uid}", f"A-{uid}", f"B-{uid}", f"SUP-{uid}"
    _ok(
        client.post("/api/v1/sites", json={"code": site, "name": "Footprint plant"}, headers=h), 201
    )
    meter = {
        "code": line,
        "name": "line",
        "site": site,
        "carrier": "electricity",
        "unit": "kWh",
        "kind": "delta",
        "interval_s": 3600,
    }
    _ok(client.post("/api/v1/meters", json=meter, headers=h), 201)
    gas = {**meter, "code": f"GAS-{uid}", "carrier": "natural_gas", "unit": "m3"}
    _ok(client.post("/api/v1/meters", json=gas, headers=h), 201)
    readings = [
        {"meter": line, "ts": f"2024-03-01T{hh:02d}:00:00+08:00", "value": 50}
        for hh in range(1, 21)
    ]  # 20 × 50 = 1,000 kWh inside (START, END]
    readings.append({"meter": line, "ts": "2024-03-02T05:00:00+08:00", "value": 999})  # outside
    _ok(client.post("/api/v1/readings", json={"readings": readings}, headers=h))
    _ok(
        client.post(
            "/api/v1/suppliers", json={"code": sup, "name": "Steel Co", "country": "CN"}, headers=h
        ),
        201,
    )
    _ok(
        client.post(
            "/api/v1/products",
            json={"code": a, "name": "Bracket", "unit": "kg", "site": site},
            headers=h,
        ),
        201,
    )
    _ok(
        client.post(
            "/api/v1/products",
            json={"code": b, "name": "Flange", "unit": "pcs", "mass_kg_per_unit": 2, "site": site},
            headers=h,
        ),
        201,
    )
    bom = {
        "valid_from": "2024-01-01",
        "items": [
            {
                "material": "steel",
                "quantity": 0.8,
                "unit": "kg",
                "supplier": sup,
                "factor_kgco2e_per_unit": 2.0,
                "factor_source": "test default",
            },
            {
                "material": "resin",
                "quantity": 0.1,
                "unit": "kg",
                "factor_kgco2e_per_unit": 3.0,
                "factor_source": "test default",
            },
        ],
    }
    _ok(client.put(f"/api/v1/products/{a}/bom", json=bom, headers=h), 201)
    for p in (a, b):
        _ok(
            client.put(
                f"/api/v1/products/{p}/meters",
                json={"meters": [line], "allocation": "mass"},
                headers=h,
            )
        )
    for p, qty, unit, cny in ((a, 600, "kg", "6000.00"), (b, 200, "pcs", "2000.00")):
        body = {
            "site": site,
            "product": p,
            "quantity": qty,
            "unit": unit,
            "start": START,
            "end": END,
            "output_value_cny": cny,
        }
        _ok(client.post("/api/v1/production", json=body, headers=h), 201)
    return {"site": site, "line": line, "a": a, "b": b, "sup": sup, "gas": gas["code"], "h": h}


def _fp(client: TestClient, w: dict, product: str | None = None) -> dict:
    return _ok(
        client.get(
            "/api/v1/footprints",
            params={"product": product or w["a"], "start": START, "end": END},
            headers=w["h"],
        )
    )


def test_hand_worked_footprint(client: TestClient, world: dict) -> None:
    fp = _fp(client, world)
    assert fp["product"] == world["a"] and fp["declared_unit"] == "kg"
    assert fp["by_stage"]["raw_materials"] == pytest.approx(RAW, abs=TOL)
    assert fp["by_stage"]["energy"] == pytest.approx(ENERGY_MASS, abs=TOL)
    assert fp["by_stage"]["transport"] == fp["by_stage"]["process"] == 0
    assert fp["kgco2e_per_unit"] == pytest.approx(RAW + ENERGY_MASS, abs=TOL)  # 2.4777
    assert fp["energy"]["kwh_allocated"] == pytest.approx(600, abs=TOL)
    assert fp["electricity_factor"]["value"] == EF_2024
    assert "2024" in fp["electricity_factor"]["source"]
    assert [m["kgco2e_per_unit"] for m in fp["by_material"]] == pytest.approx([1.6, 0.3])
    assert fp["by_supplier"] == [
        {"supplier": world["sup"], "kgco2e_per_unit": pytest.approx(1.6)},
        {"supplier": None, "kgco2e_per_unit": pytest.approx(0.3)},
    ]
    # primary data: metered energy only (both factors are BOM defaults)
    assert fp["primary_data_share"] == pytest.approx(round(ENERGY_MASS / (RAW + ENERGY_MASS), 4))
    assert len(fp["derivation_hash"]) == 64
    again = _fp(client, world)
    assert again["derivation_hash"] == fp["derivation_hash"]
    assert again["version"] == fp["version"]


def test_derivation_recomputes(client: TestClient, world: dict) -> None:
    fp = _fp(client, world)
    body = _ok(
        client.get(f"/api/v1/carbon/derivations/{fp['derivation_hash']}", headers=world["h"])
    )
    assert content_hash(body["inputs"], body["formulas"]) == fp["derivation_hash"]
    assert calc.compute(body["inputs"]) == body["results"]
    assert float(body["results"]["kgco2e_per_unit"]) == pytest.approx(fp["kgco2e_per_unit"])


def test_pact_export_validates_and_reimports(client: TestClient, world: dict) -> None:
    fp = _fp(client, world)
    doc = _ok(
        client.get(
            "/api/v1/footprints/pact",
            params={"product": world["a"], "start": START, "end": END},
            headers=world["h"],
        )
    )
    jsonschema.Draft202012Validator(pact.schema()).validate(doc)
    assert doc["pcf"]["declaredUnit"] == "kilogram"
    assert float(doc["pcf"]["pCfExcludingBiogenic"]) == pytest.approx(fp["kgco2e_per_unit"])
    assert doc["pcf"]["referencePeriodStart"] == "2024-02-29T16:00:00Z"
    broken = {**doc, "pcf": {k: v for k, v in doc["pcf"].items() if k != "declaredUnit"}}
    assert any("declaredUnit" in e for e in pact.validation_errors(broken))
    r = client.post(
        "/api/v1/supplier-factors",
        json={"supplier": world["sup"], "pact": broken},
        headers=world["h"],
    )
    assert r.status_code == 422 and "pact" in r.text
    # a customer imports it as a supplier-specific factor: the same number per kg
    f = _ok(
        client.post(
            "/api/v1/supplier-factors",
            json={"supplier": world["sup"], "material": f"bracket-{world['a']}", "pact": doc},
            headers=world["h"],
        ),
        201,
    )
    assert f["value"] == pytest.approx(fp["kgco2e_per_unit"], abs=TOL)
    assert (f["unit"], f["data_type"], f["from_pact"]) == ("kg", "primary", True)
    up = _ok(
        client.post(
            "/api/v1/supplier-factors/pact",
            params={"supplier": world["sup"]},
            json=doc,
            headers=world["h"],
        ),
        201,
    )
    assert up["value"] == f["value"] and up["material"] == "Bracket"


def test_pieces_export_per_kilogram(client: TestClient, world: dict) -> None:
    bom = {
        "valid_from": "2024-01-01",
        "items": [
            {
                "material": "steel",
                "quantity": 2,
                "unit": "kg",
                "factor_kgco2e_per_unit": 2.0,
                "factor_source": "test default",
            }
        ],
    }
    _ok(client.put(f"/api/v1/products/{world['b']}/bom", json=bom, headers=world["h"]), 201)
    fp = _fp(client, world, world["b"])
    # 4.0 kg steel CO2e + 1000 × 400/1000 ÷ 200 pcs × 0.5777 = 4 + 1.1554 per piece
    assert fp["kgco2e_per_unit"] == pytest.approx(4 + 2 * EF_2024, abs=TOL)
    doc = _ok(
        client.get(
            "/api/v1/footprints/pact",
            params={"product": world["b"], "start": START, "end": END},
            headers=world["h"],
        )
    )
    assert doc["pcf"]["unitaryProductAmount"] == "2"
    assert float(doc["pcf"]["pCfExcludingBiogenic"]) == pytest.approx((4 + 2 * EF_2024) / 2)


def test_supplier_factor_overrides_and_new_version(client: TestClient, world: dict) -> None:
    h = world["h"]
    before = _fp(client, world)
    f = _ok(
        client.post(
            "/api/v1/supplier-factors",
            json={
                "material": "steel",
                "supplier": world["sup"],
                "value": 1.5,
                "unit": "kg",
                "source": "Steel Co EPD 2024",
                "valid_from": "2024-01-01",
                "valid_to": "2025-01-01",
            },
            headers=h,
        ),
        201,
    )
    after = _fp(client, world)
    steel = after["by_material"][0]
    assert (steel["factor_kgco2e_per_unit"], steel["data_type"]) == (1.5, "primary")
    assert after["kgco2e_per_unit"] == pytest.approx(0.8 * 1.5 + 0.3 + ENERGY_MASS, abs=TOL)
    assert after["version"] == before["version"] + 1
    assert after["derivation_hash"] != before["derivation_hash"]
    versions = _ok(
        client.get(
            "/api/v1/footprints/versions",
            params={"product": world["a"], "start": START, "end": END},
            headers=h,
        )
    )
    assert [v["derivation_hash"] for v in versions][-2:] == [
        before["derivation_hash"],
        after["derivation_hash"],
    ]
    # a data request moves to verified naming the factor received
    req = _ok(
        client.post(
            "/api/v1/supplier-requests",
            json={"supplier": world["sup"], "material": "steel"},
            headers=h,
        ),
        201,
    )
    bad = client.patch(
        f"/api/v1/supplier-requests/{req['id']}", json={"status": "verified"}, headers=h
    )
    assert bad.status_code == 409 and "status" in bad.text
    _ok(
        client.patch(
            f"/api/v1/supplier-requests/{req['id']}",
            json={"status": "received", "factor_id": f["id"]},
            headers=h,
        )
    )
    done = _ok(
        client.patch(
            f"/api/v1/supplier-requests/{req['id']}", json={"status": "verified"}, headers=h
        )
    )
    assert done["status"] == "verified" and len(done["history"]) == 3
    sups = _ok(client.get("/api/v1/suppliers", headers=h))
    assert next(s for s in sups if s["code"] == world["sup"])["requests"]["verified"] == 1


def test_economic_allocation(client: TestClient, world: dict) -> None:
    h = world["h"]
    _ok(
        client.put(
            f"/api/v1/products/{world['a']}/meters",
            json={"meters": [world["line"]], "allocation": "economic"},
            headers=h,
        )
    )
    try:
        fp = _fp(client, world)
        assert fp["by_stage"]["energy"] == pytest.approx(ENERGY_ECON, abs=TOL)  # 0.722125
        fb = _fp(client, world, world["b"])  # the co-product follows the shared meter's rule
        assert fb["energy"]["allocation"] == "economic"
        assert fb["energy"]["kwh_per_unit"] == pytest.approx(1000 * 2000 / 8000 / 200)
        whole = fp["energy"]["kwh_allocated"] + fb["energy"]["kwh_allocated"]
        assert whole == pytest.approx(1000, abs=TOL)  # 750 + 250: the meter's whole energy
    finally:
        _ok(
            client.put(
                f"/api/v1/products/{world['a']}/meters",
                json={"meters": [world["line"]], "allocation": "mass"},
                headers=h,
            )
        )


def test_supply_chain_scope3(client: TestClient, world: dict) -> None:
    sc = _ok(
        client.get(
            "/api/v1/footprints/supply-chain",
            params={"site": world["site"], "start": START, "end": END},
            headers=world["h"],
        )
    )
    rows = {r["product"]: r for r in sc["by_product"]}
    fa = _fp(client, world)  # whichever steel factor is in force when this runs
    raw_a = fa["by_stage"]["raw_materials"]
    assert rows[world["a"]]["category_1_tco2e"] == pytest.approx(raw_a * 600 / 1000, abs=1e-6)
    assert rows[world["b"]]["category_1_tco2e"] == pytest.approx(4.0 * 200 / 1000, abs=1e-6)
    assert sc["category_1_tco2e"] == pytest.approx(raw_a * 0.6 + 0.8, abs=1e-6)
    assert sc["category_4_tco2e"] == 0
    assert sc["top_materials"][0]["material"] == "steel"


def test_report_downloads(client: TestClient, world: dict) -> None:
    params = {"product": world["a"], "start": START, "end": END}
    r = client.get("/api/v1/footprints/report", params={**params, "lang": "zh"}, headers=world["h"])
    assert r.status_code == 200, r.text
    ws = load_workbook(io.BytesIO(r.content)).active
    cells = [c for row in ws.iter_rows(values_only=True) for c in row if c]
    assert "6 分阶段结果" in cells and "5 分配" in cells
    r = client.get(
        "/api/v1/footprints/report", params={**params, "format": "pdf"}, headers=world["h"]
    )
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert embedded_fonts(r.content) <= HOUSE_FONTS  # one font setup: core.pdf_fonts


FACTOR = {"material": "m", "value": 1, "unit": "kg", "source": "s"}
PRODUCT = {"code": "Y", "name": "y", "unit": "kg"}


@pytest.mark.parametrize(
    ("method", "path", "body", "field", "status"),
    [
        ("post", "/api/v1/products", {"code": "X", "name": "x", "unit": "barrel"}, "unit", 422),
        (
            "put",
            "/api/v1/products/NOPE/bom",
            {"valid_from": "2024-01-01", "items": [{"material": "m", "quantity": 1, "unit": "kg"}]},
            "product",
            404,
        ),
        (
            "post",
            "/api/v1/supplier-factors",
            {"material": "m", "value": 1, "unit": "kg"},
            "source",
            422,
        ),
        ("post", "/api/v1/supplier-factors", {"pact": {"id": "x"}}, "supplier", 422),
        ("post", "/api/v1/supplier-factors", {"supplier": "S", "pact": [1]}, "pact", 422),
        ("post", "/api/v1/supplier-factors", {**FACTOR, "value": "1e30"}, "value", 422),
        ("post", "/api/v1/supplier-factors", {**FACTOR, "value": "NaN"}, "value", 422),
        ("post", "/api/v1/supplier-factors", {**FACTOR, "unit": "u" * 40}, "unit", 422),
        (
            "post",
            "/api/v1/products",
            {**PRODUCT, "mass_kg_per_unit": 1e20},
            "mass_kg_per_unit",
            422,
        ),
        ("post", "/api/v1/suppliers", {"code": "Z", "name": "z", "country": "CHN"}, "country", 422),
    ],
)
def test_bad_input_names_field(
    client: TestClient,
    admin_headers: dict,
    method: str,
    path: str,
    body: dict,
    field: str,
    status: int,
) -> None:
    r = getattr(client, method)(path, json=body, headers=admin_headers)
    assert r.status_code == status, r.text
    assert field in r.text


def test_bom_and_meter_validation(client: TestClient, world: dict) -> None:
    h = world["h"]
    bom = {
        "valid_from": "2024-01-01",
        "items": [{"material": "m", "quantity": 1, "unit": "kg", "factor_kgco2e_per_unit": 1}],
    }
    r = client.put(f"/api/v1/products/{world['a']}/bom", json=bom, headers=h)
    assert r.status_code == 422 and "items[0].factor_source" in r.text
    big = {**bom["items"][0], "factor_source": "s", "quantity": 1e20}
    r = client.put(f"/api/v1/products/{world['a']}/bom", json={**bom, "items": [big]}, headers=h)
    assert r.status_code == 422 and "items[0].quantity" in r.text
    leg = {
        "mass_kg": 1,
        "distance_km": 1,
        "mode": "teleport",
        "factor_kgco2e_per_tkm": 1,
        "factor_source": "s",
    }
    good = {**bom["items"][0], "factor_source": "s"}
    r = client.put(
        f"/api/v1/products/{world['a']}/bom",
        json={**bom, "items": [good], "transport": [leg]},
        headers=h,
    )
    assert r.status_code == 422 and "transport[0].mode" in r.text
    r = client.put(
        f"/api/v1/products/{world['a']}/meters", json={"meters": [world["gas"]]}, headers=h
    )
    assert r.status_code == 422 and "meters[0]" in r.text
    r = client.get(
        "/api/v1/footprints", params={"product": world["a"], "start": END, "end": START}, headers=h
    )
    assert r.status_code == 422 and "end" in r.text


def test_factor_import_csv(client: TestClient, world: dict) -> None:
    h = {**world["h"], "Content-Type": "text/csv"}
    csv_ok = (
        "material,value,unit,source,supplier,valid_from\n"
        f"copper,3.1,kg,user database v1,,2024-01-01\n"
        f"copper,2.4,kg,Steel Co declaration,{world['sup']},2024-01-01\n"
    )
    r = _ok(client.post("/api/v1/supplier-factors/import", content=csv_ok, headers=h), 201)
    assert r["imported"] == 2
    rows = _ok(
        client.get(
            "/api/v1/supplier-factors", params={"supplier": world["sup"]}, headers=world["h"]
        )
    )
    assert any(f["material"] == "copper" and f["data_type"] == "primary" for f in rows)
    bad = "material,value,unit,source\nzinc,3.1,kg,db\nzinc,lots,kg,db\n"
    r = client.post("/api/v1/supplier-factors/import", content=bad, headers=h)
    assert r.status_code == 422 and "rows[2].value" in r.text


def test_import_a_supplier_pact_document(client: TestClient, world: dict) -> None:
    body = {"supplier": world["sup"], "pact": PACT_SUPPLIER_DOC, "evidence": "mail 2024-04-02"}
    f = _ok(client.post("/api/v1/supplier-factors", json=body, headers=world["h"]), 201)
    assert (f["material"], f["value"], f["unit"]) == ("CR sheet 0.8", 1.85, "kg")
    assert (f["valid_from"], f["valid_to"]) == ("2024-04-01", "2026-04-01")
    assert (f["verification"], f["primary_data_share"]) == ("assured", 0.625)
    assert "91715e5e-fd0b-4d1c-8fab-76290c46e6ed" in f["source"]


def test_concurrent_writers_get_successive_versions(world: dict, engine) -> None:  # noqa: ANN001
    """Two transactions see different inputs (each its own uncommitted steel factor) and
    both store a new version: the second waits for the first and takes the next number."""
    start, end = datetime.fromisoformat(START), datetime.fromisoformat(END)

    def steel(session: Session, value: str) -> None:
        factor = suppliers.FactorIn(
            material="steel",
            value=Decimal(value),
            unit="kg",
            source=f"race {value}",
            supplier=world["sup"],
            valid_from=date(2024, 1, 1),
        )
        suppliers.add_factor(session, factor, "test")

    def waiting_on_a_lock(pid: int) -> bool:
        with engine.connect() as conn:
            return (
                conn.execute(
                    text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :p"),
                    {"p": pid},
                ).scalar()
                == "Lock"
            )

    with Session(engine) as s1, Session(engine) as s2, ThreadPoolExecutor(1) as pool:
        steel(s1, "1.4")
        first = service.footprint(s1, world["a"], start, end)  # holds the product's lock
        steel(s2, "1.3")
        pid2 = s2.execute(text("SELECT pg_backend_pid()")).scalar_one()
        second = pool.submit(service.footprint, s2, world["a"], start, end)
        # not a fixed sleep, which a loaded machine may spend before the thread even runs:
        # the second writer's backend is seen blocked on the product's lock, and stays so
        wait_for(lambda: second.done() or waiting_on_a_lock(pid2), timeout_s=30)
        assert not second.done()  # waits for the first writer
        assert waiting_on_a_lock(pid2)
        s1.commit()
        result = second.result(timeout=30)
        s2.commit()
    assert result["version"] == first["version"] + 1
    assert result["derivation_hash"] != first["derivation_hash"]


@pytest.mark.parametrize(
    ("day", "value", "note"),
    [
        ("2023-06-01", 0.6205, "data year of the period"),
        ("2024-06-01", 0.5777, "data year of the period"),
        ("2026-06-01", 0.5777, "newest published data year before the period"),
        ("2021-06-01", 0.6205, "earliest published data year"),
    ],
)
def test_electricity_footprint_factor_by_data_year(
    engine,
    world: dict,
    day: str,
    value: float,
    note: str,  # noqa: ANN001
) -> None:
    with Session(engine) as s:
        product = service.products.get_product(s, world["a"])
        ef = service.electricity_factor(s, product, date.fromisoformat(day))
    assert float(ef["value"]) == value
    assert note in ef["source"] and "carbon" in ef["kind"]


def test_zero_carbon_scorecard_reads_pcf_coverage(client: TestClient, world: dict) -> None:
    h = world["h"]
    _fp(client, world)
    _fp(client, world, world["b"])  # both co-products have a footprint inside 2024
    body = {
        "code": f"C-{world['a']}",
        "name": "No footprint yet",
        "unit": "kg",
        "site": world["site"],
    }
    _ok(client.post("/api/v1/products", json=body, headers=h), 201)
    card = _ok(
        client.get(
            "/api/v1/zero-carbon/scorecard", params={"site": world["site"], "year": 2024}, headers=h
        )
    )
    pcf = next(i for i in card["indicators"] if i["code"] == "pcf_coverage")
    assert pcf["value"] == pytest.approx(100 * 2 / 3, abs=1e-3)
    assert pcf["evidence"]["products_with_footprint"] == sorted([world["a"], world["b"]])
    funcs = next(i for i in card["indicators"] if i["code"] == "platform_functions")
    available = {f["code"] for f in funcs["evidence"]["functions"] if f["available"]}
    assert {"product_footprint", "supply_chain"} <= available
