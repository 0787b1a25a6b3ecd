"""Every site's own wall in Chromium: a workshop's energy flow starts at its own feeder and ends
in its own use (not "Grid" and "Unmetered & losses"), its contracted demand and its tiles are
its own (set on the Sites page as an engineer), and the tiles "net emissions this year",
"devices offline" and "automatic collection rate" show the API's figures in both languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard.i18n import fmt_num
from tests.support.browser import (
    API,
    ARTIFACTS,
    NEEDS_CHROMIUM,
    TZ,
    Page,
    choose,
)

pytestmark = NEEDS_CHROMIUM

TILES = ["load_now", "net_emissions_year", "devices_offline", "collection_rate"]


def _workshop(stack: dict) -> str:
    return "WB-" + stack["site"].split("-", 1)[1]


def _labels(p) -> list[str]:  # noqa: ANN001
    return p.evaluate(
        "() => document.querySelector('#wall-sankey .js-plotly-plot').data[0].node.label"
    )


def _tile_text(p, key: str) -> str:  # noqa: ANN001
    return p.inner_text(f"#tile-{key}").replace("\n", " ")


def _kpi_keys(p) -> list[str]:  # noqa: ANN001
    return p.evaluate(
        "() => [...document.querySelectorAll('#wall-kpis .tile')].map(e => e.id.slice(5))"
    )


@pytest.fixture(scope="module")
def collectors(stack: dict) -> dict:
    """A collector at workshop B: one device online (its feeder), one offline (its steam)."""
    c, uid = stack["codes"], stack["site"].split("-", 1)[1]
    now = datetime.now(UTC).timestamp()
    report = {
        "collector": f"gw-{uid}",
        "report_every_s": 30,
        "devices": [
            {"name": "pm-feeder", "protocol": "modbus_tcp", "online": True, "poll_s": 1,
             "points": [{"meter": c["FB"], "last_good": now, "reads": 10}]},
            {"name": "dtu-steam", "protocol": "mqtt", "online": False, "poll_s": 5,
             "points": [{"meter": c["ST"], "last_good": now - 600, "reads": 3}]},
        ],
    }  # fmt: skip
    r = stack["admin"].post(f"{API}/collectors/health", json=report)
    assert r.status_code == 200, r.text
    return report


def test_a_workshops_wall_is_its_own(page: Page, stack: dict) -> None:
    base, ws = stack["dash"].url, _workshop(stack)
    p = page.page
    p.goto(f"{base}/wall?site={ws}")
    p.wait_for_selector("#tile-load_now .tile-num", timeout=30_000)
    p.wait_for_selector("#wall-sankey g.sankey", timeout=30_000)
    labels = " | ".join(_labels(p))
    # the feeder FB is named; its energy ends in the workshop's own use, none is "unmetered"
    assert "FB meter" in labels and "Workshop B" in labels, labels
    assert "Grid" not in labels and "Unmetered" not in labels, labels
    # no contract of its own: the plant's 900 kW is not drawn on the workshop's wall
    load = _tile_text(p, "load_now")
    assert "contracted demand not set" in load and "900" not in load, load
    p.goto(f"{base}/wall?site={stack['site']}")
    p.wait_for_selector("#tile-load_now .tile-sub", timeout=30_000)
    assert "of 900 kW contracted" in _tile_text(p, "load_now")
    assert page.errors == []


def test_sites_page_sets_a_sites_contract_and_tiles(
    page: Page,
    stack: dict,
    collectors: dict,
) -> None:
    base, ws = stack["dash"].url, _workshop(stack)
    p = page.page
    p.goto(f"{base}/sites?site={ws}")  # the tree's "Site settings" link of workshop B
    p.wait_for_selector("#sites-pick", timeout=20_000)
    p.wait_for_load_state("networkidle")  # the form shows B's settings (none yet)
    try:
        assert "Workshop B" in p.inner_text("#sites-pick")
        assert p.input_value("#sites-contract") == ""
    except AssertionError:
        ARTIFACTS.mkdir(exist_ok=True)
        p.screenshot(path=str(ARTIFACTS / "sites-form-failed.png"), full_page=True)
        raise
    p.fill("#sites-contract", "50")
    search = {
        "load_now": "Site load",
        "net_emissions_year": "Net emissions",
        "devices_offline": "Devices offline",
        "collection_rate": "collection rate",
    }
    for key in TILES:
        choose(p, "#sites-tiles", search[key])
        p.keyboard.press("Escape")
    ARTIFACTS.mkdir(exist_ok=True)
    p.screenshot(path=str(ARTIFACTS / "sites-form-en.png"), full_page=True)
    p.click("#sites-save")
    p.wait_for_selector("#sites-msg.msg-ok", timeout=20_000)
    site = next(s for s in stack["viewer"].get(f"{API}/sites").json() if s["code"] == ws)
    assert site["contracted_demand_kw"] == 50.0 and site["wall_tiles"] == TILES
    # the change is attributed to the engineer who saved it
    trail = stack["admin"].get(f"{API}/audit", params={"entity": "site"}).json()
    assert any(ws in str(e) and "Engineer One" in str(e) for e in trail), trail[:2]

    p.goto(f"{base}/wall?site={ws}")
    p.wait_for_selector("#tile-collection_rate .tile-num", timeout=60_000)
    p.wait_for_function(
        "() => document.querySelectorAll('#wall-kpis .tile').length === 4", timeout=30_000
    )
    assert _kpi_keys(p) == TILES
    assert "of 50 kW contracted" in _tile_text(p, "load_now")
    # the figures are the API's
    api, now = stack["viewer"], datetime.now(UTC)
    rate = api.get(
        f"{API}/collection-rate",
        params={
            "site": ws,
            "start": (now - timedelta(hours=24)).isoformat(),
            "end": now.isoformat(),
        },
    ).json()
    assert (rate["basis"], rate["points_configured"], rate["points_reporting"]) == (
        "collector_points",
        2,
        2,
    )
    assert p.inner_text("#tile-collection_rate .tile-num") == "100.0"
    assert "2 of 2 points · last 24 h" in _tile_text(p, "collection_rate")
    assert p.inner_text("#tile-devices_offline .tile-num") == "1"
    offline = _tile_text(p, "devices_offline")
    assert "of 2 field devices" in offline and "dtu-steam" in offline, offline
    year = now.astimezone(ZoneInfo(TZ)).year
    off = api.get(f"{API}/offsets", params={"site": ws, "year": year})
    if off.status_code == 200:
        p.wait_for_selector("#tile-net_emissions_year .tile-sub", timeout=60_000)
        assert p.inner_text("#tile-net_emissions_year .tile-num") == fmt_num(
            float(off.json()["net_tco2"]), "", None
        )
        assert "tCO₂e" in _tile_text(p, "net_emissions_year")
    # ?tiles= of one screen still wins over the site's list
    p.goto(f"{base}/wall?site={ws}&tiles=energy_today,load_now")
    p.wait_for_function(
        "() => document.querySelectorAll('#wall-kpis .tile[id]').length === 2", timeout=30_000
    )
    assert _kpi_keys(p) == ["energy_today", "load_now"]
    assert page.errors == []


def test_the_new_tiles_in_chinese(browser, stack: dict, collectors: dict) -> None:  # noqa: ANN001
    ws = _workshop(stack)
    tiles = ",".join(TILES)
    zh = Page(browser, 1920, 1080, lang="zh", base=stack["dash"].url, session=stack["session"])
    try:
        zh.page.goto(f"{stack['dash'].url}/wall?site={ws}&tiles={tiles}")
        zh.page.wait_for_selector("#tile-collection_rate .tile-num", timeout=60_000)
        zh.page.wait_for_selector("#wall-sankey g.sankey", timeout=30_000)
        text = zh.page.inner_text("#wall-kpis")
        for title in ("本年净排放", "离线设备", "自动采集率"):
            assert title in text, text
        assert "共 2 台采集设备" in text and "近24小时" in text
        labels = " | ".join(_labels(zh.page))
        assert "B车间" in labels and "电网" not in labels and "未计量" not in labels, labels
        ARTIFACTS.mkdir(exist_ok=True)
        zh.page.screenshot(path=str(ARTIFACTS / "workshop-wall-zh.png"))
        assert zh.errors == []
    finally:
        zh.close()
