"""The zero-carbon page in Chromium: scorecard with traffic lights, net-emissions waterfall,
ledger, year switch, downloads, both languages (screenshots in ``artifacts/``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.browser import (
    API,
    ARTIFACTS,
    NEEDS_CHROMIUM,
    Page,
    playwright,
)

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def ledger(stack: dict) -> dict:
    year = (stack["end"] - timedelta(minutes=1)).year  # the year the seeded readings are in
    credit = {
        "kind": "ccer",
        "serial": f"CCER-UI-{stack['site']}",
        "quantity": 12,
        "unit": "tCO2e",
        "vintage": f"{year}-01-01",
        "site": stack["site"],
        "registry": "全国温室气体自愿减排注册登记系统",
    }
    r = stack["admin"].post(f"{API}/carbon-assets", json=credit)
    assert r.status_code == 201, r.text
    return {"year": year, "asset": r.json()}


def _ready(p, timeout_ms: int = 60_000) -> None:  # noqa: ANN001
    p.wait_for_selector("#zc-card table.data tbody tr", timeout=timeout_ms)
    p.wait_for_selector("#zc-waterfall g.barlayer .trace", timeout=timeout_ms)
    p.wait_for_selector("#zc-ledger table.data tbody tr", timeout=timeout_ms)


def test_scorecard_waterfall_ledger_and_year_switch(
    page: Page,
    stack: dict,
    ledger: dict,
) -> None:
    base = stack["dash"].url
    page.page.goto(f"{base}/zero-carbon?site={stack['site']}&year={ledger['year']}")
    _ready(page.page)
    rows = page.page.locator("#zc-card table.data tbody tr")
    assert rows.count() == 11
    lights = page.page.locator("#zc-card .zc-light").all_inner_texts()
    assert set(lights) <= {"met", "not met", "not measured", "no threshold"}
    assert "not measured" in lights  # benchmarking, equipment and footprints are not installed
    assert "tCO₂/tce" in page.page.inner_text("#zc-card")
    assert "CCER-UI-" in page.page.inner_text("#zc-ledger")
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "zero-carbon-en.png"), full_page=True)

    page.page.fill("#zc-year", "2001")
    page.page.press("#zc-year", "Enter")
    page.page.wait_for_function(
        "document.querySelector('#zc-card').innerText.includes('—')", timeout=60_000
    )
    assert page.errors == [], page.errors


def test_downloads_and_chinese(browser, stack: dict, ledger: dict) -> None:  # noqa: ANN001
    base = stack["dash"].url
    p = Page(browser, lang="zh", base=base, session=stack["session"])
    try:
        p.page.goto(f"{base}/zero-carbon?site={stack['site']}&year={ledger['year']}")
        _ready(p.page)
        assert "零碳指标" in p.page.inner_text("body")
        assert "未计量" in p.page.inner_text("#zc-card")
        p.page.screenshot(path=str(ARTIFACTS / "zero-carbon-zh.png"), full_page=True)
        for button, suffix, magic in (
            ("#zc-report-pdf", ".pdf", b"%PDF"),
            ("#zc-package", ".zip", b"PK"),
        ):
            with p.page.expect_download(timeout=60_000) as d:
                p.page.click(button)
            path = d.value.path()
            assert d.value.suggested_filename.endswith(suffix)
            with open(path, "rb") as f:
                assert f.read(4).startswith(magic)
        assert p.errors == [], p.errors
    except playwright.Error:
        p.page.screenshot(path=str(ARTIFACTS / "zero-carbon-failed.png"), full_page=True)
        raise
    finally:
        p.close()
