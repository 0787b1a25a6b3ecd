"""The benchmarking page in Chromium: a rated process with its traffic light and level source,
the balance table and Sankey, the recommendations list with a status change, the XLSX export,
both languages (screenshots in ``artifacts/``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.browser import (
    API,
    ARTIFACTS,
    NEEDS_CHROMIUM,
    Page,
    choose,
    playwright,
)

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def rated(stack: dict) -> dict:
    admin, site = stack["admin"], stack["site"]
    uid = site.split("-", 1)[1]
    start, end = stack["end"] - timedelta(hours=24), stack["end"]
    r = admin.post(
        f"{API}/production",
        json={
            "site": f"WA-{uid}",
            "product": "widget",
            "quantity": 50,
            "unit": "t",
            "start": start.isoformat(),
            "end": end.isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    r = admin.post(
        f"{API}/benchmarks",
        json={
            "code": f"UI-{uid}",
            "sector": "test",
            "product_or_process": "widget",
            "unit": "kgce/t",
            "level_1": 0.001,
            "level_2": 0.002,
            "level_3": 0.003,
            "source": "internal target 2026",
        },
    )
    assert r.status_code == 201, r.text
    r = admin.post(
        f"{API}/processes",
        json={
            "code": f"PROC-{uid}",
            "name": "Widget line",
            "site": f"WA-{uid}",
            "meters": [f"FA-{uid}", f"GA-{uid}"],
            "product": "widget",
            "benchmark": f"UI-{uid}",
        },
    )
    assert r.status_code == 201, r.text
    r = admin.post(
        f"{API}/recommendations/analyse",
        json={"site": site, "start": start.isoformat(), "end": end.isoformat()},
    )
    assert r.status_code == 200, r.text
    assert r.json(), "the seeded plant has a base load"
    return {"start": start.date().isoformat(), "end": (end + timedelta(days=1)).date().isoformat()}


def _ready(p, timeout_ms: int = 20_000) -> None:  # noqa: ANN001
    p.wait_for_selector("#bm-ratings table.data tbody tr", timeout=timeout_ms)
    p.wait_for_selector("#bm-balance table.data tbody tr", timeout=timeout_ms)
    p.wait_for_selector("#bm-sankey g.sankey", timeout=timeout_ms)
    p.wait_for_selector("#bm-recs table.data tbody tr", timeout=timeout_ms)


def test_page_shows_ratings_balance_and_recommendations(
    page: Page,
    stack: dict,
    rated: dict,
) -> None:
    base = stack["dash"].url
    page.page.goto(
        f"{base}/benchmarking?site={stack['site']}&start={rated['start']}&end={rated['end']}"
    )
    try:
        _ready(page.page)
    except Exception:  # noqa: BLE001
        raise AssertionError(page.page.inner_text("body")[:3000] + str(page.errors)) from None
    ratings = page.page.inner_text("#bm-ratings")
    assert "Widget line" not in ratings and "PROC-" in ratings
    assert "above level 3" in ratings and "single source" in ratings
    assert page.page.locator("#bm-ratings .zc-light-bad").count() == 1
    assert "Balance closes" in page.page.inner_text("#bm-balance")
    recs = page.page.inner_text("#bm-recs")
    assert "Base load" in recs and "open" in recs
    choose(page.page, "#bm-process", "PROC-")
    page.page.wait_for_selector("#bm-trend g.barlayer .trace", timeout=20_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "benchmarking-en.png"), full_page=True)
    rec_id = page.page.locator("#bm-recs tbody tr td").first.inner_text()
    page.page.fill("#bm-rec-id", rec_id)
    page.page.wait_for_selector("#bm-evidence g.scatterlayer .trace", timeout=20_000)
    assert page.page.locator("#bm-evidence g.scatterlayer .trace").count() == 2  # load, base
    page.page.click("#bm-rec-apply")  # default target status: accepted
    page.page.wait_for_function(
        "document.querySelector('#bm-recs').innerText.includes('accepted')", timeout=20_000
    )
    with page.page.expect_download(timeout=60_000) as d:
        page.page.click("#bm-xlsx-recs")
    assert d.value.suggested_filename.endswith(".xlsx")
    with open(d.value.path(), "rb") as f:
        assert f.read(2) == b"PK"
    assert page.errors == [], page.errors


def test_chinese(browser, stack: dict, rated: dict) -> None:  # noqa: ANN001
    base = stack["dash"].url
    p = Page(browser, lang="zh", base=base, session=stack["session"])
    try:
        p.page.goto(
            f"{base}/benchmarking?site={stack['site']}&start={rated['start']}&end={rated['end']}"
        )
        _ready(p.page)
        body = p.page.inner_text("body")
        assert "能效对标" in body and "能量平衡表" in body and "超过3级限额" in body
        recs = p.page.inner_text("#bm-recs")
        assert "夜间及周末基础负荷" in recs and "基础负荷" in recs
        assert "待处理" in recs or "已采纳" in recs  # open, or accepted by the English test
        p.page.screenshot(path=str(ARTIFACTS / "benchmarking-zh.png"), full_page=True)
        assert p.errors == [], p.errors
    except playwright.Error:
        p.page.screenshot(path=str(ARTIFACTS / "benchmarking-failed.png"), full_page=True)
        raise
    finally:
        p.close()
