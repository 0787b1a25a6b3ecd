"""The dashboard as a person sees it: Debian's Chromium driven by Playwright against the
real API (uvicorn on a free port, the session's test database) and the real dashboard
(``ecc dashboard`` on another free port, its own key a display token for the wall; pages
other than the wall are used by a signed-in engineer).

The plant: a site with a grid incomer, two workshop feeders, PV and export, gas with a
sub-meter, purchased steam; 26 hours of 1-minute readings ending a minute ago.
Screenshots of /wall at 1080p and 4K are written to ``artifacts/``.
"""

from __future__ import annotations

import csv
import io
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from dashboard import ids
from tests.support.accounts import PASSWORD, make_user
from tests.support.alarms import wait_for
from tests.support.browser import (
    API,
    ARTIFACTS,
    NEEDS_CHROMIUM,
    TZ,
    Page,
    choose,
    playwright,
)
from tests.support.live_server import LiveServer

pytestmark = NEEDS_CHROMIUM


def _wall_ready(page, timeout_ms: int = 20_000) -> None:  # noqa: ANN001
    page.wait_for_selector("#tile-energy_today .tile-num", timeout=timeout_ms)
    page.wait_for_selector("#wall-sankey g.sankey", timeout=timeout_ms)
    page.wait_for_selector("#wall-trend g.scatterlayer .trace", timeout=timeout_ms)


# -- every page ------------------------------------------------------------------------------


def test_every_page_loads_without_console_errors(page: Page, stack: dict) -> None:
    base, c = stack["dash"].url, stack["codes"]
    checks = [
        ("/", "#tile-energy_today .tile-num"),
        (f"/wall?site={stack['site']}", "#tile-load_now .tile-num"),
        (f"/engineer?meter={c['IN']}", "#eng-alarm-note"),
        (f"/manager?site={stack['site']}", "#mgr-kpi-table"),
        (f"/budgets?site={stack['site']}", f"#bud-row-{stack['site']}"),
        ("/sites", f"#{stack['site']}"),
        (f"/meters/{c['FA']}", ".dl"),
        ("/meters/NO-SUCH-METER", ".note.error"),
    ]
    for path, selector in checks:
        page.page.goto(base + path)
        try:
            page.page.wait_for_selector(selector, timeout=20_000)
            if path.startswith(("/engineer", "/meters/FA")):
                page.page.wait_for_selector(".drilldown g.cartesianlayer .trace", timeout=20_000)
        except playwright.Error:
            ARTIFACTS.mkdir(exist_ok=True)
            page.page.screenshot(path=str(ARTIFACTS / "failed-page.png"), full_page=True)
            raise AssertionError(f"{path}: {selector} not shown; errors {page.errors}") from None
        page.page.wait_for_timeout(300)  # let late callbacks report
        assert page.errors == [], f"{path}: {page.errors}"
    assert "unknown meter NO-SUCH-METER" in page.page.inner_text(".note.error")


# -- the wall ------------------------------------------------------------------------------


def _tile(page, key: str) -> tuple[str, str]:  # noqa: ANN001
    return (
        page.inner_text(f"#tile-{key} .tile-num"),
        page.inner_text(f"#tile-{key}").replace("\n", " "),
    )


def test_wall_tiles_show_the_api_numbers(page: Page, stack: dict) -> None:
    page.page.goto(f"{stack['dash'].url}/wall?site={stack['site']}")
    _wall_ready(page.page)
    api, c, site = stack["viewer"], stack["codes"], stack["site"]
    now = datetime.now(UTC)

    # load now: (grid + PV − export) energy over the 5 minutes before the latest reading
    raw = {
        k: api.get(
            f"{API}/meters/{c[k]}/series",
            params={
                "start": (now - timedelta(minutes=10)).isoformat(),
                "end": (now + timedelta(seconds=1)).isoformat(),
                "resolution": "raw",
            },
        ).json()["points"]
        for k in ("IN", "PV", "EX")
    }
    last = max(datetime.fromisoformat(p["ts"]) for pts in raw.values() for p in pts)
    assert last == stack["end"]
    kwh = sum(
        sign * (p["energy"] or 0.0)
        for k, sign in (("IN", 1), ("PV", 1), ("EX", -1))
        for p in raw[k]
        if last - timedelta(minutes=5) < datetime.fromisoformat(p["ts"]) <= last
    )
    assert _tile(page.page, "load_now")[0] == f"{kwh * 12:,.0f}"
    assert "of 900 kW contracted" in _tile(page.page, "load_now")[1]

    # energy today: grid + PV − export since local midnight
    local = now.astimezone(ZoneInfo(TZ))
    midnight = datetime.combine(local.date(), dtime(), ZoneInfo(TZ))
    totals = api.get(
        f"{API}/sites/{site}/totals", params={"start": midnight.isoformat(), "end": now.isoformat()}
    ).json()
    by_meter = {m["meter"]: m["total"] for m in totals["meters"]}
    consumption = by_meter[c["IN"]] + by_meter[c["PV"]] - by_meter[c["EX"]]
    # energy today is all carriers in tce; electricity alone in kWh, labelled as such
    assert f"Electricity {consumption:,.0f} kWh" in _tile(page.page, "energy_today")[1]

    paths = httpx.get(f"{stack['api'].url}/openapi.json").json()["paths"]
    if f"{API}/carbon/emissions" in paths:
        em = api.get(
            f"{API}/carbon/emissions",
            params={"site": site, "start": midnight.isoformat(), "end": now.isoformat()},
        ).json()
        assert _tile(page.page, "co2_today")[0] == f"{em['total_location_tco2e']:,.2f}"
        assert _tile(page.page, "energy_today")[0] == f"{em['energy_tce']:,.2f}"
        assert page.page.inner_text("#tile-energy_today").count("tce") == 1  # the unit
    else:
        assert _tile(page.page, "co2_today")[0] == "—"
        assert "not available" in _tile(page.page, "co2_today")[1]
    if f"{API}/kpis/intensity" in paths:
        k = api.get(
            f"{API}/kpis/intensity",
            params={"site": site, "period": "day", "date": local.date().isoformat()},
        ).json()
        for key, name in (
            ("renewable_share", "renewable_electricity_share"),
            ("green_share", "green_power_share"),
        ):
            assert _tile(page.page, key)[0] == f"{k[name] * 100:,.1f}"
    else:
        assert _tile(page.page, "renewable_share")[0] == "—"
    assert page.errors == []


def test_cost_and_budget_tiles_and_the_budget_page(page: Page, stack: dict) -> None:
    api, site = stack["viewer"], stack["site"]
    page.page.goto(f"{stack['dash'].url}/wall?site={site}")
    _wall_ready(page.page)
    page.page.wait_for_selector("#tile-budget_month .tile-sub", timeout=20_000)

    def expected() -> tuple[str, str]:
        now = datetime.now(UTC)
        midnight = datetime.combine(now.astimezone(ZoneInfo(TZ)).date(), dtime(), ZoneInfo(TZ))
        edge = datetime.fromtimestamp(now.timestamp() // 900 * 900, UTC)
        cost = api.get(
            f"{API}/costs",
            params={"site": site, "start": midnight.isoformat(), "end": edge.isoformat()},
        ).json()
        month = now.astimezone(ZoneInfo(TZ)).strftime("%Y-%m")
        status = api.get(
            f"{API}/budgets/status",
            params={"site": site, "quantity": "cost_cny", "period": month},
        ).json()
        return f"{cost['total_cny']:,.0f}", f"{status['actual_pct']:,.0f}"

    # The API's figures move at each quarter hour (the budget's month-to-date cost runs to the
    # last one), so the tiles must equal what the API says just before or just after they are
    # read; a loaded box may need several of the wall's 5 s refreshes to catch up with a turn.
    for _attempt in range(8):
        before = expected()
        got = (_tile(page.page, "cost_today")[0], _tile(page.page, "budget_month")[0])
        after = expected()
        if got in (before, after):
            break
        page.page.wait_for_timeout(5_000)
    assert got in (before, after)
    assert "% used" in _tile(page.page, "budget_month")[1]
    assert "projected" in _tile(page.page, "budget_month")[1]
    assert "CNY/kWh" in _tile(page.page, "cost_today")[1]
    page.page.goto(f"{stack['dash'].url}/budgets?site={site}")
    page.page.wait_for_selector(f"#bud-row-{site}", timeout=20_000)
    page.page.wait_for_selector("#bud-burn g.scatterlayer .trace", timeout=20_000)
    rows = page.page.inner_text("#bud-table-rows")
    assert "Workshop A" in rows and "Workshop B" not in rows  # B has no budget
    assert page.page.query_selector(f"#bud-row-{site} .light") is not None
    # a screen of its own choice of tiles
    page.page.goto(f"{stack['dash'].url}/wall?site={site}&tiles=cost_today,energy_today")
    page.page.wait_for_selector("#tile-energy_today .tile-num", timeout=20_000)
    tiles = page.page.eval_on_selector_all("#wall-kpis .tile", "els => els.map(e => e.id)")
    assert tiles == ["tile-cost_today", "tile-energy_today"]
    # the manager's key figures carry the period's cost
    page.page.goto(f"{stack['dash'].url}/manager?site={site}")
    page.page.wait_for_selector("#mgr-kpi-table")
    page.page.wait_for_function(
        "document.querySelector('#mgr-kpi-table').innerText.includes('CNY')", timeout=20_000
    )
    row = next(
        line for line in page.page.inner_text("#mgr-kpi-table").splitlines() if "Cost" in line
    )
    value = row.split("\t")[1]
    assert value.endswith(" CNY") and value[0].isdigit(), row
    assert page.errors == []


def _layout_problems(page) -> list[str]:  # noqa: ANN001
    """Scrollbars, boxes outside the screen, overlapping tiles, text cut off (a tile's lines
    under its number may wrap onto a second line, never be cut)."""
    return page.evaluate("""() => {
        const out = [];
        const W = window.innerWidth, H = window.innerHeight;
        const d = document.documentElement;
        if (d.scrollWidth > W || d.scrollHeight > H)
            out.push(`scroll ${d.scrollWidth}x${d.scrollHeight}`);
        const boxes = [...document.querySelectorAll('.wall-head, .wall-alarms, .tile, .panel')];
        for (const el of boxes) {
            const r = el.getBoundingClientRect();
            if (r.left < 0 || r.top < 0 || r.right > W + 0.5 || r.bottom > H + 0.5)
                out.push(`outside: ${el.className} ${JSON.stringify(r)}`);
        }
        const tiles = [...document.querySelectorAll('.tile')].map(e => e.getBoundingClientRect());
        for (let i = 0; i < tiles.length; i++) for (let j = i + 1; j < tiles.length; j++) {
            const a = tiles[i], b = tiles[j];
            if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
                out.push(`tiles ${i} and ${j} overlap`);
        }
        const texts = '.tile-value, .tile-title, .wall-title, .wall-clock, .panel-title';
        for (const el of document.querySelectorAll(texts)) {
            if (el.scrollWidth > el.clientWidth + 1)
                out.push(`cut off: ${el.className} '${el.innerText}'`);
        }
        for (const el of document.querySelectorAll('.tile')) {
            if (el.scrollHeight > el.clientHeight + 1) out.push(`tile cut off: ${el.innerText}`);
        }
        for (const el of document.querySelectorAll('.tile-trend, .tile-sub, .tile-note')) {
            if (el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1)
                out.push(`line cut off: ${el.className} '${el.innerText}'`);
        }
        return out;
    }""")


@pytest.mark.parametrize(
    ("width", "height", "name"), [(1920, 1080, "wall-1080p.png"), (3840, 2160, "wall-2160p.png")]
)
def test_wall_fits_the_screen_and_is_saved(
    browser,
    stack: dict,
    width: int,
    height: int,  # noqa: ANN001
    name: str,
) -> None:
    p = Page(browser, width, height)
    try:
        p.page.goto(f"{stack['dash'].url}/wall?site={stack['site']}")
        _wall_ready(p.page)
        p.page.wait_for_timeout(500)
        ARTIFACTS.mkdir(exist_ok=True)
        p.page.screenshot(path=str(ARTIFACTS / name))
        assert _layout_problems(p.page) == []
        # the figures were drawn for this screen: fonts grow with its height
        size = p.page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector("
            "'#wall-trend .xtick text')).fontSize)"
        )
        assert size == pytest.approx(round(13 * 1.2 * height / 1080), abs=1)
        assert p.errors == []
    finally:
        p.close()


def test_kiosk_mode_hides_menus_and_rotates_views(page: Page, stack: dict) -> None:
    page.page.goto(f"{stack['dash'].url}/wall?site={stack['site']}&kiosk=1&rotate=1")
    _wall_ready(page.page)
    assert not page.page.is_visible(".wall-menu")
    page.page.wait_for_selector("#wall-main.view-flow", timeout=10_000)
    page.page.wait_for_selector("#wall-main.view-load", timeout=10_000)
    assert not page.page.is_visible("#wall-sankey")  # the load view shows the trend alone
    assert page.errors == []


def test_wall_refreshes_without_reloading_and_survives_an_api_restart(
    page: Page, stack: dict
) -> None:
    page.page.goto(f"{stack['dash'].url}/wall?site={stack['site']}")
    _wall_ready(page.page)
    page.page.evaluate("window.__same_document = true")
    fresh = page.page.inner_text("#wall-freshness")
    assert fresh.startswith("last reading") and fresh.endswith("ago")
    api: LiveServer = stack["api"]
    api.stop()
    try:
        page.page.wait_for_selector("#wall-status:has-text('reconnecting')", timeout=20_000)
        assert page.page.get_attribute("#wall-freshness", "class") == "wall-fresh stale"
        assert page.page.inner_text("#tile-energy_today .tile-num") != "—"  # last values kept
    finally:
        api.start()
    page.page.wait_for_function(
        "document.querySelector('#wall-status').innerText === ''", timeout=20_000
    )
    assert page.page.evaluate("window.__same_document") is True  # no full reload
    page.errors = [e for e in page.errors if "Failed to load resource" not in e]
    assert page.errors == []


def test_language_switch_and_chinese_numbers(browser, stack: dict) -> None:  # noqa: ANN001
    p = Page(browser, base=stack["dash"].url, session=stack["session"])
    try:
        p.page.goto(f"{stack['dash'].url}/manager?site={stack['site']}")
        p.page.wait_for_selector("#mgr-kpi-table")
        assert p.page.inner_text("h1") == "Energy & carbon performance"
        p.page.click("#lang-toggle")
        p.page.wait_for_selector("h1:has-text('能碳绩效')", timeout=10_000)
        p.page.wait_for_selector("#mgr-kpi-table")
        table = p.page.inner_text("#mgr-kpi-table")
        assert "指标" in table and " kWh" in table
        p.page.goto(f"{stack['dash'].url}/wall?site={stack['site']}")
        _wall_ready(p.page)
        assert p.page.inner_text("#tile-energy_today .tile-title") == "今日能耗"
        sub = p.page.inner_text("#tile-energy_today .tile-sub")
        assert sub.startswith("其中电力") and "," in sub  # 1,234 kWh separators
        assert p.errors == []
    finally:
        p.close()


def test_manager_page_names_its_site_and_a_workshop_s_consumers(page: Page, stack: dict) -> None:
    """Opened without a site the manager page shows the plant and says so in the selector; a
    workshop whose feeder has no sub-meters lists that feeder as its top consumer; the
    comparison line says what month-on-month compares; the export holds the page's figures."""
    site = stack["site"]
    page.page.goto(f"{stack['dash'].url}/manager")
    page.page.wait_for_selector("#mgr-kpi-table", timeout=20_000)
    # the selector names the site on screen (the first plant of the tree; other tests' plants
    # may come first in a shared database), never empty
    sites = stack["admin"].get(f"{API}/sites").json()
    roots = [s["name"] for s in sites if not s.get("parent")]
    assert any(n.startswith("Test plant") for n in roots), roots
    page.page.wait_for_function(
        "names => names.some(n => document.querySelector('#mgr-site').innerText.includes("
        "n.split(' ').slice(0, 2).join(' ')))",
        arg=roots,
        timeout=20_000,
    )
    workshop = site.replace("P-", "WA-")
    page.page.goto(f"{stack['dash'].url}/manager?site={workshop}&period=day")
    page.page.wait_for_selector("#mgr-top g.cartesianlayer .trace", timeout=20_000)
    top = page.page.inner_text("#mgr-top")
    assert "FA meter" in top and "kWh" in top and "no readings" not in top
    paths = httpx.get(f"{stack['api'].url}/openapi.json").json()["paths"]
    if f"{API}/kpis/intensity" in paths:
        page.page.wait_for_function(
            "document.querySelector('#mgr-compared').innerText.includes('vs')", timeout=20_000
        )
        assert "same elapsed time" in page.page.inner_text("#mgr-compared")
    with page.page.expect_download(timeout=20_000) as dl:
        page.page.click("#mgr-csv")
    raw = Path(dl.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: spreadsheets read 中文 right
    text = raw.decode("utf-8-sig")
    head = text.splitlines()[0]
    assert head == (
        f"section,item,period_start ({TZ}),value,unit,mom_change_%,yoy_change_%,compared"
    )
    assert "Top consumers (electricity),FA meter" in text
    assert "Key figures,Electricity" in text
    local = datetime.now(UTC).astimezone(ZoneInfo(TZ))
    assert local.strftime("%z") in text  # local times with their offset
    assert page.errors == []


def test_meter_drilldown_zooms_finer_and_exports_csv(page: Page, stack: dict) -> None:
    code = stack["codes"]["FA"]
    page.page.goto(f"{stack['dash'].url}/meters/{code}")
    page.page.wait_for_selector(".drilldown g.cartesianlayer .trace", timeout=20_000)
    page.page.click("label:has-text('Last 7 days')")
    page.page.wait_for_selector(".note:has-text('· 15m ·')", timeout=10_000)
    # zooming into two hours refetches them in 1-minute buckets
    end = stack["end"].astimezone(ZoneInfo(TZ)).replace(tzinfo=None)
    page.page.evaluate(
        "([a, b]) => Plotly.relayout(document.querySelector('.drilldown .js-plotly-plot'), "
        "{'xaxis.range[0]': a, 'xaxis.range[1]': b})",
        [(end - timedelta(hours=2)).isoformat(sep=" "), end.isoformat(sep=" ")],
    )
    page.page.wait_for_selector(".note:has-text('· 1m ·')", timeout=10_000)
    assert page.page.inner_text(".drilldown .note").startswith("120 points")
    asked = datetime.now(UTC)  # the page's "last 24 h" ends when it asks, between these two
    page.page.click("label:has-text('Last 24 h')")  # a control change ends the zoom
    page.page.click("label:has-text('15m')")
    page.page.wait_for_selector(".note:has-text('15m')", timeout=10_000)
    with page.page.expect_download() as info:
        page.page.click("button:has-text('Export CSV')")
    answered = datetime.now(UTC)
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert info.value.suggested_filename.startswith(f"{code}_15m_")
    when = f"period_start ({TZ})"
    assert list(rows[0]) == [
        when,
        "energy_kWh_per_bucket",
        "mean_power_kW",
        "readings",
        "complete",
    ]  # local time with the zone, units in the headers
    # the meter's readings as the API holds them when the page asked: the seeded day, and any
    # reading another test of the module posted since (the acknowledging test's, at its "now")
    quarter, day = timedelta(minutes=15), timedelta(hours=24)
    stamps = [
        datetime.fromisoformat(p["ts"])
        for p in stack["viewer"]
        .get(
            f"{API}/meters/{code}/series",
            params={
                "start": (asked - day - quarter).isoformat(),
                "end": (answered + timedelta(seconds=1)).isoformat(),
                "resolution": "raw",
            },
        )
        .json()["points"]
    ]
    last = max(stamps)
    assert last >= stack["end"]  # the seeded day is there, up to its last minute at least
    # 24 h of 15-minute buckets up to the one holding the meter's last reading
    starts = [datetime.strptime(r[when], "%Y-%m-%d %H:%M:%S %z") for r in rows]
    assert all(b - a == quarter for a, b in zip(starts, starts[1:], strict=False))
    # a reading closes the minute up to its stamp: it counts in the bucket (start, start + 15m]
    held = datetime.fromtimestamp(math.ceil(last.timestamp() / 900) * 900 - 900, UTC)
    assert starts[-1] == held
    assert asked - day - quarter <= starts[0] <= answered - day + quarter
    # the last bucket holds the readings after its start up to the meter's last one
    assert rows[-1]["readings"] == str(sum(held < t <= held + quarter for t in stamps))
    if last == stack["end"]:  # nothing posted since the seeding: one reading a minute
        assert rows[-1]["readings"] == str((stack["end"] - held) // timedelta(minutes=1))
    full = [r for r in rows if r["readings"] == "15"]
    assert full and all(float(r["energy_kWh_per_bucket"]) > 0 for r in full)
    for r in full:  # 15 minutes of kWh at their mean power; 6 significant digits at most
        kwh = float(r["energy_kWh_per_bucket"])
        assert float(r["mean_power_kW"]) == pytest.approx(kwh * 4, rel=1e-5)
        assert len(r["energy_kWh_per_bucket"].replace(".", "").lstrip("0")) <= 6
    first = datetime.strptime(rows[0][when], "%Y-%m-%d %H:%M:%S %z")
    assert first.utcoffset() == datetime.now(ZoneInfo(TZ)).utcoffset()
    assert all(r["complete"] == "True" for r in rows[:-1])  # only the last may be partial
    # complete once it ended before the window's end: pinned to the plant's last reading and
    # the two instants around the page's request, not to the time of day the suite runs at
    if held + quarter <= asked:
        assert rows[-1]["complete"] == "True"
    elif held + quarter > answered:
        assert rows[-1]["complete"] == "False"  # the bucket in progress
    else:  # the bucket ended while the page asked: either answer is right
        assert rows[-1]["complete"] in ("True", "False")
    assert "kWh — energy per bucket" in page.page.inner_text(".drilldown .note")
    assert page.errors == []


def test_acknowledging_an_alarm_changes_it_in_the_api(page: Page, stack: dict) -> None:
    """Rule editor (the API's validation message), the wall's blinking banner, and the
    console's acknowledge reaching the API."""
    paths = httpx.get(f"{stack['api'].url}/openapi.json").json()["paths"]
    if f"{API}/alarms" not in paths or f"{API}/alarm-rules" not in paths:
        pytest.skip("the alarm service (issue 5) is not in this API yet")
    base, admin, code = stack["dash"].url, stack["admin"], stack["codes"]["FA"]
    message = f"feeder {code} above limit"

    page.page.goto(f"{base}/engineer")
    page.page.wait_for_selector("#eng-rule-form", state="visible", timeout=20_000)
    page.page.fill("#eng-rule-name", "inverted limits")
    page.page.fill(".rf-high input", "1")
    page.page.fill(".rf-low input", "5")
    page.page.click("#eng-rule-create")
    page.page.wait_for_selector("#eng-rule-result.msg-error", timeout=10_000)
    r = admin.post(
        f"{API}/alarm-rules",
        json={
            "name": "inverted limits",
            "type": "threshold",
            "priority": "medium",
            "high": 1,
            "low": 5,
        },
    )
    assert r.status_code == 422
    shown = page.page.inner_text("#eng-rule-result")
    assert shown and shown in r.text  # the API's own words, naming the field

    r = admin.post(
        f"{API}/alarm-rules",
        json={
            "name": "FA high",
            "meter": code,
            "type": "threshold",
            "high": 0.001,
            "priority": "high",
            "message": message,
        },
    )
    assert r.status_code in (200, 201), r.text
    admin.post(
        f"{API}/readings",
        json={"readings": [{"meter": code, "ts": datetime.now(UTC).isoformat(), "value": 50.0}]},
    )

    page.page.goto(f"{base}/wall?site={stack['site']}")
    page.page.wait_for_selector(f".alarm-chip.blink.p-high:has-text('{message}')", timeout=30_000)

    page.page.goto(f"{base}/engineer")
    row = f"#eng-alarm-table label:has-text('{message}')"
    page.page.wait_for_selector(row, timeout=30_000)
    page.page.click(f"{row} input")
    page.page.fill("#eng-comment", "checked on site")
    page.page.click("#eng-act-ack")
    page.page.wait_for_selector("#eng-action-message:has-text('done')", timeout=10_000)
    mine = [
        a
        for a in admin.get(f"{API}/alarms", params={"state": "all"}).json()
        if a.get("meter") == code
    ]
    assert mine and all(a["acknowledged"] for a in mine)
    history = admin.get(f"{API}/alarms/{mine[0]['id']}/history").json()
    assert any(e.get("comment") == "checked on site" for e in history)

    page.page.goto(f"{base}/wall?site={stack['site']}")
    page.page.wait_for_selector(f".alarm-chip:not(.blink):has-text('{message}')", timeout=20_000)
    assert page.errors == []


# -- people sign in --------------------------------------------------------------------------


def _sign_in_with_the_form(p: Page, base: str, login: str) -> None:
    p.page.goto(f"{base}/engineer")
    p.page.wait_for_url("**/login?next=**", timeout=10_000)
    p.page.fill("input[name=login]", login)
    p.page.fill("input[name=password]", PASSWORD)
    p.page.click("#login-submit")
    p.page.wait_for_url("**/engineer", timeout=10_000)


def test_pages_need_a_person_who_signs_in_and_out(
    browser,
    stack: dict,
    engine,  # noqa: ANN001
) -> None:
    base = stack["dash"].url
    login = make_user(engine, ["viewer"], name="Viewer Wu")
    p = Page(browser)
    try:
        p.page.goto(f"{base}/manager")
        p.page.wait_for_url("**/login?next=/manager", timeout=10_000)
        p.page.fill("input[name=login]", login)
        p.page.fill("input[name=password]", "not the password")
        p.page.click("#login-submit")
        p.page.wait_for_selector("#login-error", timeout=10_000)
        _sign_in_with_the_form(p, base, login)
        p.page.wait_for_selector("#who:has-text('Viewer Wu')", timeout=20_000)
        cookie = next(c for c in p.ctx.cookies() if c["name"] == "ecc_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        p.page.click("#sign-out")
        p.page.wait_for_url("**/login", timeout=10_000)
        p.page.goto(f"{base}/engineer")
        p.page.wait_for_url("**/login?next=/engineer", timeout=10_000)
    finally:
        p.close()


def _header_line(p: Page) -> tuple[dict, dict, bool]:
    """The signed-in text's and the Sign-out button's boxes, and whether the text is cut."""
    who = p.page.locator("#who").bounding_box()
    out = p.page.locator("#sign-out").bounding_box()
    assert who is not None and out is not None
    cut = p.page.eval_on_selector("#who", "e => e.scrollWidth > e.clientWidth")
    return who, out, cut


@pytest.mark.parametrize(
    ("lang", "text"), [("en", "Signed in: Engineer One"), ("zh", "当前用户：Engineer One")]
)
def test_the_signed_in_name_and_sign_out_share_one_line_in_the_header(
    browser,  # noqa: ANN001
    stack: dict,
    lang: str,
    text: str,
) -> None:
    """At 1920×1080 the top bar shows "Signed in: …" whole and beside the Sign-out button, not
    above it; at 1280×800 the name may be cut with an ellipsis but still sits left of the
    button on its line. Screenshots go to ``ECC_SHOTS`` when it is set."""
    base = stack["dash"].url
    p = Page(browser, width=1920, height=1080, lang=lang, base=base, session=stack["session"])
    try:
        p.page.goto(f"{base}/manager?site={stack['site']}")
        p.page.wait_for_selector("#mgr-kpi-table", timeout=20_000)
        assert p.page.inner_text("#who") == text
        for width, height in ((1920, 1080), (1280, 800)):
            p.resize(width, height, shot=f"header-{lang}")
            who, out, cut = _header_line(p)
            middle = abs((who["y"] + who["height"] / 2) - (out["y"] + out["height"] / 2))
            assert middle <= 3, f"{width}: the name is not on the button's line ({who}, {out})"
            assert who["x"] + who["width"] <= out["x"], f"{width}: the name runs under the button"
            if width == 1920:
                assert not cut, "1920: the name is cut"
        assert p.errors == []
    finally:
        p.close()


# Every box in the top bar, read in the page: the header's height, each item's vertical
# centre and box, and whether its text is cut (drawn wider than its box).
HEADER_BOXES = """() => {
  const box = e => { const r = e.getBoundingClientRect();
    return {text: e.innerText.trim(), x: r.x, y: r.y, w: r.width, h: r.height,
            mid: r.y + r.height / 2, cut: e.scrollWidth > e.clientWidth + 1}; };
  const bar = document.querySelector('header.topbar'), cs = getComputedStyle(bar);
  const chrome = ['paddingTop', 'paddingBottom', 'borderTopWidth', 'borderBottomWidth']
    .reduce((sum, k) => sum + parseFloat(cs[k]), 0);
  return {height: bar.getBoundingClientRect().height, chrome,
          items: [...bar.querySelectorAll(
            '.brand, .nav-group-name, .nav-link, #lang-toggle, #who, #sign-out')].map(box)};
}"""


def _session(stack: dict, engine, roles: list[str], name: str, site: str | None = None) -> str:  # noqa: ANN001
    """A new person's session token, signed in through the API."""
    login = make_user(engine, roles, site=site, name=name)
    r = httpx.post(
        f"{stack['api'].url}{API}/auth/login", json={"login": login, "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    return r.json()["token"]


def _admin_session(stack: dict, engine) -> str:  # noqa: ANN001
    """A signed-in admin's session token (an admin is shown every nav group)."""
    return _session(stack, engine, ["admin"], "Admin Zhao")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_header_is_one_row_at_1920x1080_for_an_admin(
    browser,  # noqa: ANN001
    stack: dict,
    engine,  # noqa: ANN001
    lang: str,
) -> None:
    """A control room's wall screen (1920×1080) reads the top bar on one line: the brand, every
    nav group's name and link, the language switch, "Signed in: …" and Sign out have their
    vertical centres within 3 px of one another, the bar is one row high (its tallest item, the
    30 px buttons, and its padding and border: 51 px; two rows were 61) and no text is cut, the
    links' text still 15 px. At 1280×800 the bar may wrap, but no two items overlap and every
    one is inside the screen; the name alone may end in an ellipsis. Screenshots go to
    ``ECC_SHOTS`` when it is set."""
    base = stack["dash"].url
    session = _admin_session(stack, engine)
    p = Page(browser, width=1920, height=1080, lang=lang, base=base, session=session)
    try:
        p.page.goto(f"{base}/manager?site={stack['site']}")
        p.page.wait_for_selector("#mgr-kpi-table", timeout=20_000)
        p.page.wait_for_selector("#who:has-text('Admin Zhao')", timeout=20_000)
        for width, height in ((1920, 1080), (1280, 800)):
            p.resize(width, height, shot=f"header-admin-{lang}")
            bar = p.page.evaluate(HEADER_BOXES)
            items = bar["items"]
            assert len([i for i in items if i["text"]]) == len(items) == 20, items
            # legible at 5 m: the links' text never shrinks below 15 px
            sizes = p.page.eval_on_selector_all(
                "header.topbar .nav-link",
                "es => es.map(e => parseFloat(getComputedStyle(e).fontSize))",
            )
            assert min(sizes) >= 15, sizes
            for i in items:
                assert i["x"] >= 0 and i["x"] + i["w"] <= width + 0.5, f"{width}: off screen {i}"
                if i["text"].startswith(("Signed in", "当前用户")) and width < 1920:
                    continue  # the name may end in an ellipsis on a laptop
                assert not i["cut"], f"{width}: cut {i}"
            for n, a in enumerate(items):
                for b in items[n + 1 :]:
                    overlap_x = a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
                    overlap_y = a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]
                    assert not (overlap_x and overlap_y), f"{width}: {a} overlaps {b}"
            if width == 1920:
                mids = [i["mid"] for i in items]
                assert max(mids) - min(mids) <= 3, (
                    f"1920: not one row, centres {[(i['text'], round(i['mid'])) for i in items]}"
                )
                row = max(i["h"] for i in items) + bar["chrome"]  # its tallest, padding, border
                assert bar["height"] <= row + 1, f"1920: the header is {bar['height']} px high"
        assert p.errors == []
    finally:
        p.close()


# The top bar's nav as shown: each group's heading and the paths of its links.
NAV = """() => [...document.querySelectorAll('header.topbar nav .nav-group')].map(g => ({
  name: g.querySelector('.nav-group-name').innerText.trim(),
  links: [...g.querySelectorAll('.nav-link')].map(a => a.getAttribute('href'))}))"""
EVERY_OTHER_LINK = [
    *("/wall", "/engineer", "/alarm-kpis", "/forecasts"),
    *("/manager", "/budgets", "/benchmarking", "/zero-carbon", "/products", "/suppliers"),
]


@pytest.mark.parametrize(
    ("roles", "site", "admin_links"),
    [
        (["admin"], None, ["/sites", "/people", "/audit"]),
        (["auditor"], None, ["/sites", "/audit"]),
        (["engineer"], None, ["/sites"]),
        (["viewer"], None, ["/sites"]),
        (["manager"], None, ["/sites"]),
        # an admin of one site may read its audit trail but not manage the estate's people
        (["admin"], "site", ["/sites", "/audit"]),
    ],
    ids=["admin", "auditor", "engineer", "viewer", "manager", "site-admin"],
)
def test_the_nav_shows_only_the_pages_the_person_may_open(
    browser,  # noqa: ANN001
    stack: dict,
    engine,  # noqa: ANN001
    roles: list[str],
    site: str | None,
    admin_links: list[str],
) -> None:
    """Everyone who reads sees OPERATE and MANAGE whole and the site tree (read-only for those
    who may not configure); People only for an admin of the whole estate, the audit trail only
    for admins and auditors (the API's role sets, as ``/auth/me`` reports them)."""
    base = stack["dash"].url
    session = _session(stack, engine, roles, "Nav Person", stack["site"] if site else None)
    p = Page(browser, width=1920, height=1080, lang="en", base=base, session=session)
    try:
        p.page.goto(f"{base}/manager?site={stack['site']}")
        p.page.wait_for_selector("#who:has-text('Nav Person')", timeout=20_000)
        nav = p.page.evaluate(NAV)
        assert [g["name"] for g in nav] == ["OPERATE", "MANAGE", "ADMIN"], nav
        assert [x for g in nav[:2] for x in g["links"]] == EVERY_OTHER_LINK
        assert nav[2]["links"] == admin_links
        if roles == ["engineer"]:
            p.shoot("header-engineer-1920x1080.png")
        assert p.errors == []
    finally:
        p.close()


# The nav as the document holds it (the wall hides the top bar, so text is read as written,
# not as drawn): each group's heading and the paths of its links; the wall menu's links.
NAV_HELD = """() => [...document.querySelectorAll('header.topbar nav .nav-group')].map(g => ({
  name: g.querySelector('.nav-group-name').textContent.trim(),
  links: [...g.querySelectorAll('.nav-link')].map(a => a.getAttribute('href'))}))"""
WALL_MENU = """() => [...document.querySelectorAll('.wall-nav a')].map(a => ({
  href: a.getAttribute('href'), text: a.innerText.trim()}))"""


@pytest.mark.parametrize(
    ("lang", "operate", "engineer", "sign_in"),
    [("en", "Operate", "Engineer", "Sign in"), ("zh", "运行", "运行工程师", "登录")],
)
def test_signed_out_the_nav_offers_only_the_wall_and_sign_in(
    browser,  # noqa: ANN001
    stack: dict,
    lang: str,
    operate: str,
    engineer: str,
    sign_in: str,
) -> None:
    """A wall screen nobody is signed in to: the top bar holds OPERATE with the wall alone and
    Sign in, and the wall's own menu Sign in instead of Engineer, Manager and Sites (each of
    which only led to the sign-in form); signed in, both offer those pages again. Screenshots
    of the signed-out wall at 1920×1080 go to ``ECC_SHOTS`` when it is set."""
    base, site = stack["dash"].url, stack["site"]
    out = Page(browser, width=1920, height=1080, lang=lang, base=base)
    try:
        out.page.goto(f"{base}/wall?site={site}")
        _wall_ready(out.page)
        assert out.page.evaluate(NAV_HELD) == [{"name": operate, "links": ["/wall"]}]
        assert out.page.text_content(f"header.topbar #{ids.SIGN_IN}") == sign_in
        menu = out.page.evaluate(WALL_MENU)
        assert menu == [{"href": "/login", "text": sign_in}], menu
        assert out.page.is_visible(f"#{ids.WALL_SIGN_IN}")
        out.shoot(f"nav-signed-out-{lang}-1920x1080.png")
        assert out.errors == []
    finally:
        out.close()
    signed = Page(browser, width=1920, height=1080, lang=lang, base=base, session=stack["session"])
    try:
        signed.page.goto(f"{base}/wall?site={site}")
        _wall_ready(signed.page)
        nav = signed.page.evaluate(NAV_HELD)
        assert [x for g in nav[:2] for x in g["links"]] == EVERY_OTHER_LINK, nav
        assert nav[2]["links"] == ["/sites"]  # an engineer
        assert signed.page.query_selector(f"#{ids.SIGN_IN}, #{ids.WALL_SIGN_IN}") is None
        menu = signed.page.evaluate(WALL_MENU)
        assert [m["href"] for m in menu] == ["/engineer", "/manager", "/sites"], menu
        assert menu[0]["text"] == engineer
        assert signed.errors == []
    finally:
        signed.close()


@pytest.mark.parametrize(("path", "lang"), [("/people", "en"), ("/audit", "zh")])
def test_a_page_typed_by_someone_who_may_not_open_it_says_so(
    browser,  # noqa: ANN001
    stack: dict,
    engine,  # noqa: ANN001
    path: str,
    lang: str,
) -> None:
    """An engineer who types /people or /audit is told, in their language, that it is not
    permitted (not the API's English words, not the people form or the audit filters)."""
    base = stack["dash"].url
    session = _session(stack, engine, ["engineer"], "Curious Engineer")
    p = Page(browser, lang=lang, base=base, session=session)
    try:
        p.page.goto(base + path)
        text = {"en": "not permitted for your role or site", "zh": "您的角色或站点无此权限"}[lang]
        p.page.wait_for_selector(f"main .msg-error:has-text('{text}')", timeout=20_000)
        assert "may not do this" not in p.page.inner_text("main")
        assert p.page.query_selector("#people-create, #audit-entity, #audit-csv") is None
        assert p.errors == []
    finally:
        p.close()


# Whether the site settings form can be used: its note, Save, the contract and the tiles.
SITES_FORM = """() => ({
  note: document.querySelector('#sites-readonly')?.innerText.trim() ?? null,
  save: document.querySelector('#sites-save')?.disabled ?? null,
  contract: document.querySelector('#sites-contract').disabled,
  tiles: document.querySelector('#sites-tiles').disabled,
  pick: !document.querySelector('#sites-pick').disabled})"""


@pytest.mark.parametrize(
    ("roles", "lang", "editable"),
    [(["viewer"], "en", False), (["viewer"], "zh", False), (["engineer"], "en", True)],
    ids=["viewer-en", "viewer-zh", "engineer-en"],
)
def test_the_sites_settings_are_read_only_for_whoever_may_not_configure(
    browser,  # noqa: ANN001
    stack: dict,
    engine,  # noqa: ANN001
    roles: list[str],
    lang: str,
    editable: bool,
) -> None:
    """A viewer (no ``configure`` in ``/auth/me``'s ``may``) is told in their language that the
    settings are read-only, and can neither type in them nor press Save (still choosing which
    site to read); an engineer keeps the form as it was. 1920×1080 screenshots in ``artifacts/``."""
    base = stack["dash"].url
    session = _session(stack, engine, roles, "Sites Person")
    p = Page(browser, width=1920, height=1080, lang=lang, base=base, session=session)
    try:
        p.page.goto(f"{base}/sites?site={stack['site']}")
        p.page.wait_for_selector("#sites-pick", timeout=20_000)
        p.page.wait_for_selector(f"#{stack['site']}", timeout=20_000)
        p.page.wait_for_load_state("networkidle")
        form = p.page.evaluate(SITES_FORM)
        ARTIFACTS.mkdir(exist_ok=True)
        p.page.screenshot(path=str(ARTIFACTS / f"sites-{roles[0]}-{lang}-1920x1080.png"))
        if editable:
            assert form == {
                "note": None,
                "save": False,
                "contract": False,
                "tiles": False,
                "pick": True,
            }, form
        else:
            note = {
                "en": "Read-only: your role may not change site settings",
                "zh": "只读：您的角色无权修改站点设置",
            }[lang]
            assert form["note"] == note, form
            assert form["save"] in (True, None), form  # disabled, or not there at all
            assert form["contract"] and form["tiles"] and form["pick"], form
            assert p.page.input_value("#sites-contract") == "900"  # the settings, shown
        assert p.errors == []
    finally:
        p.close()


def _raise_alarm(stack: dict, message: str, priority: str = "high") -> None:
    """A threshold rule on feeder B and a reading above it: an active alarm on the plant."""
    admin, code = stack["admin"], stack["codes"]["FB"]
    r = admin.post(
        f"{API}/alarm-rules",
        json={
            "name": message,
            "meter": code,
            "type": "threshold",
            "high": 0.001,
            "priority": priority,
            "message": message,
        },
    )
    assert r.status_code == 201, r.text
    ts = datetime.now(UTC).isoformat()
    r = admin.post(f"{API}/readings", json={"readings": [{"meter": code, "ts": ts, "value": 9.0}]})
    assert r.status_code == 200, r.text


ALL_STATES = {"state": "all"}


def _alarms_with(message: str, get: Callable[[], httpx.Response], timeout_s: float = 20) -> list:
    """The alarms ``get`` lists with ``message``, asked again until there is one: the alarm
    evaluator raises it a moment after the reading (longer on a loaded CI box)."""
    try:
        return wait_for(
            lambda: [a for a in get().json() if a["message"] == message], timeout_s, step_s=0.2
        )
    except AssertionError:
        raise AssertionError(f"no alarm {message!r} listed within {timeout_s} s") from None


def test_two_people_acknowledge_and_the_history_names_each(
    browser,
    stack: dict,
    engine,  # noqa: ANN001
) -> None:
    base, uid = stack["dash"].url, uuid.uuid4().hex[:6]
    people = [("Operator Alpha", f"alpha {uid}"), ("Operator Beta", f"beta {uid}")]
    for _, message in people:
        _raise_alarm(stack, message)
    pages = []
    try:
        for name, _ in people:
            p = Page(browser)
            pages.append(p)
            _sign_in_with_the_form(p, base, make_user(engine, ["engineer"], name=name))
        for p, (name, message) in zip(pages, people, strict=True):
            row = f"#eng-alarm-table label:has-text('{message}')"
            p.page.wait_for_selector(row, timeout=30_000)
            p.page.click(f"{row} input")
            p.page.fill("#eng-comment", f"{name} on it")
            p.page.click("#eng-act-ack")
            p.page.wait_for_selector("#eng-action-message:has-text('done')", timeout=10_000)
            assert p.errors == []
    finally:
        for p in pages:
            p.close()
    alarms = stack["admin"].get(f"{API}/alarms", params={"state": "all"}).json()
    for name, message in people:
        alarm = next(a for a in alarms if a["message"] == message)
        assert alarm["acked_by"] == name
        history = stack["admin"].get(f"{API}/alarms/{alarm['id']}/history").json()
        assert [e["user"] for e in history if e["action"] == "ack"] == [name]
        audit = (
            stack["admin"]
            .get(f"{API}/audit", params={"entity": "alarm", "entity_id": str(alarm["id"])})
            .json()
        )
        assert audit[0]["actor"] == name and audit[0]["actor_kind"] == "session"


def test_the_wall_runs_on_its_display_token_which_cannot_act(
    browser,
    stack: dict,  # noqa: ANN001
) -> None:
    base = stack["dash"].url
    # an alarm of its own (low: it leaves the wall banner's four chips to the other tests')
    _raise_alarm(stack, message := f"wall {uuid.uuid4().hex[:6]}", priority="low")
    p = Page(browser)  # nobody signed in: a kiosk
    try:
        p.page.goto(f"{base}/wall?site={stack['site']}&kiosk=1")
        _wall_ready(p.page)
        assert p.errors == []
    finally:
        p.close()
    api = stack["api"].url
    wall = {"Authorization": f"Bearer {stack['display']}"}
    # the display token sees its site's alarms (the evaluator raises it a moment after the post)
    mine = _alarms_with(
        message, lambda: httpx.get(f"{api}{API}/alarms", params=ALL_STATES, headers=wall)
    )
    r = httpx.post(f"{api}{API}/alarms/{mine[0]['id']}/ack", headers=wall)
    assert r.status_code == 403
    assert not stack["admin"].get(f"{API}/alarms/{mine[0]['id']}").json()["acknowledged"]
    r = httpx.post(f"{api}{API}/alarm-rules", json={"name": "x"}, headers=wall)
    assert r.status_code == 403


def _act_callback(alarm_id: int) -> dict:
    """What the engineer console's acknowledge button posts to Dash."""
    return {
        "output": "eng-action-message.children",
        "outputs": {"id": "eng-action-message", "property": "children"},
        "inputs": [{"id": "eng-act-ack", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["eng-act-ack.n_clicks"],
        "state": [
            {"id": "eng-alarm-table", "property": "value", "value": [alarm_id]},
            {"id": "eng-comment", "property": "value", "value": "forged"},
            {"id": "eng-shelve-minutes", "property": "value", "value": None},
        ],
    }


def test_a_dashboard_action_without_a_session_or_from_another_site_is_refused(
    stack: dict,
) -> None:
    base = stack["dash"].url
    _raise_alarm(stack, msg := f"forged {uuid.uuid4().hex[:6]}")
    alarm = _alarms_with(msg, lambda: stack["admin"].get(f"{API}/alarms", params=ALL_STATES))[0]
    body = _act_callback(alarm["id"])
    r = httpx.post(f"{base}/_dash-update-component", json=body)
    assert r.status_code == 401
    cookies = {"ecc_session": stack["session"]}
    r = httpx.post(
        f"{base}/_dash-update-component",
        json=body,
        cookies=cookies,
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403
    r = httpx.post(f"{base}/logout", cookies=cookies, data={"csrf": "guess"})
    assert r.status_code == 403  # no double-submit token: the session is not ended
    after = stack["admin"].get(f"{API}/alarms/{alarm['id']}").json()
    assert not after["acknowledged"]
    page = httpx.get(f"{base}/login")
    assert "frame-ancestors 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert 'name="login"' in page.text and 'name="password"' in page.text


def test_an_admin_disables_a_person_and_reads_it_in_the_audit_trail(
    browser,
    stack: dict,
    engine,  # noqa: ANN001
) -> None:
    base = stack["dash"].url
    victim = make_user(engine, ["viewer"], name="Leaving Person")
    p = Page(browser)
    try:
        _sign_in_with_the_form(p, base, make_user(engine, ["admin"], name="Admin Zhao"))
        p.page.goto(f"{base}/people")
        toggle = f"tr:has-text('{victim}') button"
        p.page.wait_for_selector(toggle, timeout=20_000)
        p.page.click(toggle)
        p.page.wait_for_selector(f"#people-message:has-text('{victim}')", timeout=10_000)
        p.page.goto(f"{base}/audit?entity=app_user")
        row = f"#audit-table tr:has-text('{victim}'):has-text('Admin Zhao')"
        p.page.wait_for_selector(row, timeout=20_000)
        assert "enabled: true → false" in p.page.inner_text(row)
        choose(p.page, "#audit-entity", "meter")  # another entity: the person's row leaves
        p.page.wait_for_selector(row, state="detached", timeout=20_000)
        assert "meter" in p.page.inner_text("#audit-table tbody")
        assert p.errors == []
    finally:
        p.close()
    r = httpx.post(
        f"{stack['api'].url}{API}/auth/login", json={"login": victim, "password": PASSWORD}
    )
    assert r.status_code == 401
