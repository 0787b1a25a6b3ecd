"""The products page in Chromium against the real API and dashboard: a product's footprint
per declared unit, the stage waterfall, Chinese labels and the report download."""

from __future__ import annotations

import uuid

import pytest

from tests.support.browser import (
    ARTIFACTS,
    NEEDS_CHROMIUM,
    Page,
    playwright,
)

pytestmark = NEEDS_CHROMIUM

API = "/api/v1"


@pytest.fixture(scope="module")
def product(stack: dict) -> str:
    admin, uid = stack["admin"], uuid.uuid4().hex[:8]
    code = f"PANEL-{uid}"
    r = admin.post(f"{API}/products", json={"code": code, "name": "Panel 面板", "unit": "kg"})
    assert r.status_code == 201, r.text
    bom = {
        "valid_from": "2024-01-01",
        "items": [
            {
                "material": "steel",
                "quantity": 0.8,
                "unit": "kg",
                "factor_kgco2e_per_unit": 2.0,
                "factor_source": "test",
            },
            {
                "material": "carton",
                "quantity": 0.1,
                "unit": "kg",
                "factor_kgco2e_per_unit": 1.2,
                "factor_source": "test",
                "stage": "packaging",
            },
        ],
    }
    r = admin.put(f"{API}/products/{code}/bom", json=bom)
    assert r.status_code == 201, r.text
    return code


def test_products_page_shows_the_footprint(page: Page, stack: dict, product: str) -> None:
    url = f"{stack['dash'].url}/products?product={product}&start=2024-03-01&end=2024-03-02"
    page.page.goto(url)
    try:
        page.page.wait_for_selector("#prod-kgco2e", timeout=20_000)
        page.page.wait_for_selector("#prod-waterfall g.barlayer .trace", timeout=20_000)
    except playwright.Error:
        ARTIFACTS.mkdir(exist_ok=True)
        page.page.screenshot(path=str(ARTIFACTS / "failed-products.png"), full_page=True)
        raise AssertionError(f"products page not drawn; errors {page.errors}") from None
    # 0.8 × 2.0 + 0.1 × 1.2 = 1.72 kgCO2e per kg
    assert page.page.inner_text("#prod-kgco2e").startswith("1.7200 kgCO₂e")
    ticks = page.page.locator("#prod-waterfall .xtick text").all_text_contents()
    assert ticks == ["Raw materials", "Transport", "Energy", "Process", "Packaging", "Total"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "products.png"), full_page=True)
    with page.page.expect_download(timeout=20_000) as dl:
        page.page.click("#prod-xlsx")
    assert dl.value.suggested_filename.endswith(".xlsx")
    page.page.click("#lang-toggle")
    page.page.wait_for_selector("h1:has-text('产品碳足迹')", timeout=10_000)
    page.page.wait_for_selector("#prod-kgco2e", timeout=20_000)
    assert "每kg" in page.page.inner_text("#prod-kgco2e")
    assert page.errors == []


def test_suppliers_page_shows_requests_and_factors(page: Page, stack: dict) -> None:
    admin, uid = stack["admin"], uuid.uuid4().hex[:8]
    sup = f"SUP-{uid}"
    assert admin.post(f"{API}/suppliers", json={"code": sup, "name": "Sheet Co"}).status_code == 201
    body = {"supplier": sup, "material": "steel"}
    assert admin.post(f"{API}/supplier-requests", json=body).status_code == 201
    factor = {"material": "steel", "supplier": sup, "value": 1.85, "unit": "kg", "source": "EPD"}
    assert admin.post(f"{API}/supplier-factors", json=factor).status_code == 201
    page.page.goto(f"{stack['dash'].url}/suppliers")
    page.page.wait_for_selector(f"#sup-table td:has-text('{sup}')", timeout=20_000)
    row = page.page.locator(f"#sup-table tr:has-text('{sup}')").inner_text()
    assert row.split("\t")[1:] == ["1", "0", "0", "0"]  # one request, still requested
    factors = page.page.inner_text("#sup-factors")
    assert "1.8500 / kg" in factors and "supplier-specific (primary)" in factors
    assert page.errors == []
