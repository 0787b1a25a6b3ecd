"""The engineer's alarm console in Chromium, signed in as an engineer: every filter, an
alarm's detail with its history, actions that clear their selection and comment, the rule
editor generated from the rule-type catalog (every type's form, create, edit, disable,
delete with confirmation, a budget rule), trying a rule on history, the alarm-KPI page.
Screenshots at 1920×1080 in English and 中文 go to ``artifacts/`` (and ``ECC_SHOTS``)."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.accounts import PASSWORD, make_user
from tests.support.browser import (
    API,
    ARTIFACTS,
    NEEDS_CHROMIUM,
    TZ,
    Page,
    run_stack,
)
from tests.support.db import fresh_database

pytestmark = NEEDS_CHROMIUM

ROW = "#eng-alarm-table label"
T = 60_000  # ms: generous, the suite runs on a loaded two-core box


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The API and the dashboard on a database of this module's own: the alarm lists, the
    History filter and the rule list hold only the alarms and rules raised here (on the
    session database they hold thousands from other modules, and every page takes long)."""
    with (
        fresh_database("ecc_console") as (url, engine),
        run_stack(url, engine, tmp_path_factory.mktemp("console")) as st,
    ):
        yield {**st, "engine": engine}


def _rule(st: dict, **body) -> dict:  # noqa: ANN003
    r = st["admin"].post(f"{API}/alarm-rules", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _raise(st: dict, message: str, meter: str | None = None) -> int:
    """A threshold rule on a feeder and a reading above it: one active alarm (its id)."""
    code = meter or st["codes"]["FB"]
    rule = _rule(
        st,
        name=message,
        meter=code,
        type="threshold",
        high=0.001,
        priority="high",
        message=message,
    )
    ts = datetime.now(UTC).isoformat()
    r = st["admin"].post(
        f"{API}/readings", json={"readings": [{"meter": code, "ts": ts, "value": 9.0}]}
    )
    assert r.status_code == 200, r.text
    for _ in range(100):
        found = st["admin"].get(f"{API}/alarms", params={"rule": rule["id"]}).json()
        if found:
            return found[0]["id"]
        time.sleep(0.1)
    raise AssertionError("the alarm was not raised")


def _filter(p, name: str) -> None:  # noqa: ANN001
    p.click(f"#eng-alarm-state label:has-text('{name}')")


def _listed(p, message: str, present: bool = True) -> None:  # noqa: ANN001
    sel = f"{ROW}:has-text('{message}')"
    p.wait_for_selector(sel, state="visible" if present else "detached", timeout=T)


def _set(p, cid: object, value: object) -> None:  # noqa: ANN001
    """Set a Dash component's value as a person choosing it would (dropdowns)."""
    p.evaluate("([id, v]) => window.dash_clientside.set_props(id, {value: v})", [cid, value])


def _act_done(p, button: str) -> None:  # noqa: ANN001
    """Press an action with a comment typed and wait for *this* action's answer: the message
    may still read "done" from the previous one, so wait for the comment to be cleared too
    (the same callback clears both)."""
    assert p.input_value("#eng-comment") != ""
    p.click(button)
    p.wait_for_function(
        "document.querySelector('#eng-comment').value === ''", timeout=T, polling=100
    )
    p.wait_for_selector("#eng-action-message:has-text('done')", timeout=T)


HIST_FROM, HIST_TO = "#eng-hist-range", "#eng-hist-range-end-date"  # the range's two inputs


def _hist_end(p, day: str) -> None:  # noqa: ANN001
    """Type the history's last day as a person would (YYYY-MM-DD, Enter)."""
    p.fill(HIST_TO, day)
    p.press(HIST_TO, "Enter")
    p.press(HIST_TO, "Escape")  # the calendar closed: it covers the filters below


def _field(name: str) -> dict:
    return {"type": "eng-rf", "name": name}


def _ready(p) -> None:  # noqa: ANN001
    p.wait_for_selector("#eng-rule-form", state="visible", timeout=T)
    p.wait_for_selector(".rule-field", timeout=T)


def _new_rule_form(page: Page, st: dict, rtype: str, shown: str, name: str):  # noqa: ANN202
    """The engineer page with the editor set to a new rule of ``rtype`` (its form drawn when
    ``shown`` is) and named ``name``; the Playwright page."""
    p = page.page
    p.goto(f"{st['dash'].url}/engineer")
    _ready(p)
    _set(p, "eng-rule-type", rtype)
    p.wait_for_selector(shown, timeout=T)
    p.fill("#eng-rule-name", name)
    return p


def _rules_of(st: dict, name: str) -> list[dict]:
    return [r for r in st["admin"].get(f"{API}/alarm-rules").json() if r["name"] == name]


# -- filters, detail, actions --------------------------------------------------------------


def test_every_filter_shows_its_alarms(page: Page, stack: dict) -> None:
    uid = uuid.uuid4().hex[:6]
    admin = stack["admin"]
    words = {"unacked": "waiting", "acked": "seen", "shelved": "parked", "oos": "offline"}
    names = {k: f"{w} {uid}" for k, w in words.items()}
    ids = {k: _raise(stack, m) for k, m in names.items()}
    assert admin.post(f"{API}/alarms/{ids['acked']}/ack").status_code == 200
    r = admin.post(f"{API}/alarms/{ids['shelved']}/shelve", json={"duration_s": 7200})
    assert r.status_code == 200, r.text
    assert admin.post(f"{API}/alarms/{ids['oos']}/out-of-service").status_code == 200

    base, p = stack["dash"].url, page.page
    p.goto(f"{base}/engineer")
    _listed(p, names["unacked"])
    _listed(p, names["acked"])
    _listed(p, names["shelved"], present=False)  # active: neither shelved nor out of service
    _filter(p, "Unacknowledged")
    _listed(p, names["acked"], present=False)
    _listed(p, names["unacked"])
    _filter(p, "Shelved")
    _listed(p, names["shelved"])
    _listed(p, names["unacked"], present=False)
    shelved = p.inner_text(f"{ROW}:has-text('{names['shelved']}')")
    assert re.search(r"Shelved, (1 h 5\d|2 h 00) min left", shelved), shelved
    assert "9.00 kWh / 0.001 kWh" in shelved  # value and limit, with units
    _filter(p, "Out of service")
    _listed(p, names["oos"])
    _listed(p, names["shelved"], present=False)
    _filter(p, "All")
    for m in names.values():
        _listed(p, m)
    _filter(p, "History")
    p.wait_for_selector("#eng-hist-table table.data", timeout=T)
    table = p.inner_text("#eng-hist-table")
    for m in names.values():
        assert m in table
    assert "Acknowledged" in table and "Taken out of service" in table and "Shelved" in table
    assert "Normal → Active, unacknowledged" in table
    assert p.locator(ROW).count() == 0  # the history replaces the list
    # a range that ends before today shows nothing
    yesterday = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    _hist_end(p, yesterday)
    p.wait_for_selector("#eng-alarm-note:has-text('No alarm events')", timeout=T)
    # the shelved alarm can be found and unshelved
    _filter(p, "Shelved")
    p.click(f"{ROW}:has-text('{names['shelved']}') input")
    p.click("#eng-act-unshelve")
    p.wait_for_selector("#eng-action-message:has-text('done')", timeout=T)
    assert admin.get(f"{API}/alarms/{ids['shelved']}").json()["state"] != "shelved"
    _listed(p, names["shelved"], present=False)
    assert page.errors == []


def test_actions_run_as_the_person_and_clear_selection_and_comment(
    page: Page,
    stack: dict,
) -> None:
    uid = uuid.uuid4().hex[:6]
    first, second = f"ack me {uid}", f"shelve me {uid}"
    a1, a2 = _raise(stack, first), _raise(stack, second)
    base, p = stack["dash"].url, page.page
    p.goto(f"{base}/engineer")
    _listed(p, first)
    p.click(f"{ROW}:has-text('{first}') input")
    p.wait_for_selector("#eng-alarm-detail h3", timeout=T)
    assert first in p.inner_text("#eng-alarm-detail")
    assert "Raised" in p.inner_text("#eng-alarm-detail")
    p.fill("#eng-comment", "checked the feeder")
    _act_done(p, "#eng-act-comment")
    assert p.input_value("#eng-comment") == ""
    assert p.locator(f"{ROW} input:checked").count() == 0
    p.click(f"{ROW}:has-text('{first}') input")
    p.wait_for_selector("#eng-alarm-detail:has-text('checked the feeder')", timeout=T)
    p.fill("#eng-comment", "on it")
    _act_done(p, "#eng-act-ack")
    assert p.input_value("#eng-comment") == ""
    assert p.locator(f"{ROW} input:checked").count() == 0
    # the next action starts from nothing: shelving without a choice is refused
    p.click("#eng-act-shelve")
    p.wait_for_selector("#eng-action-message:has-text('select an alarm first')", timeout=T)
    p.click(f"{ROW}:has-text('{second}') input")
    p.fill("#eng-comment", "maintenance")
    _act_done(p, "#eng-act-shelve")
    assert p.input_value("#eng-comment") == ""
    assert p.locator(f"{ROW} input:checked").count() == 0
    admin = stack["admin"]
    one, two = admin.get(f"{API}/alarms/{a1}").json(), admin.get(f"{API}/alarms/{a2}").json()
    assert one["acked_by"] == "Engineer One" and two["state"] == "shelved"
    hist1 = admin.get(f"{API}/alarms/{a1}/history").json()
    assert [(e["action"], e["user"], e["comment"]) for e in hist1[1:]] == [
        ("comment", "Engineer One", "checked the feeder"),
        ("ack", "Engineer One", "on it"),
    ]
    hist2 = admin.get(f"{API}/alarms/{a2}/history").json()
    assert (hist2[-1]["action"], hist2[-1]["comment"]) == ("shelve", "maintenance")
    assert page.errors == []


# -- rule editor ---------------------------------------------------------------------------


def test_every_rule_types_form_shows_exactly_its_catalog_fields(
    page: Page,
    stack: dict,
) -> None:
    catalog = stack["admin"].get(f"{API}/alarm-rules/types").json()
    p = page.page
    p.goto(f"{stack['dash'].url}/engineer")
    _ready(p)
    p.click("#eng-rule-type")  # a person's choice, once; the rest set directly
    p.click(".dash-dropdown-option:has-text('Rate of change')")
    p.wait_for_selector(".rf-window_s", timeout=T)
    for spec in catalog["types"]:
        _set(p, "eng-rule-type", spec["type"])
        want = [f["name"] for f in spec["fields"]]
        p.wait_for_function(  # the form of this type, not the last one's (same length)
            "want => [...document.querySelectorAll('.rule-field')].map("
            "e => [...e.classList].find(c => c.startsWith('rf-')).slice(3)).join() === want",
            arg=",".join(want),
            timeout=T,
        )
        shown = p.eval_on_selector_all(
            ".rule-field",
            "els => els.map(e => [...e.classList].find(c => c.startsWith('rf-')).slice(3))",
        )
        assert shown == want, spec["type"]
        for f in spec["fields"]:
            box = p.inner_text(f".rf-{f['name']}")
            assert f["label"]["en"] in box and f["help"]["en"] in box, (spec["type"], f)
            if f["unit"] not in (None, "meter", "target"):
                assert p.inner_text(f".rf-{f['name']} .unit") == f["unit"]
    # 中文: the same form with Chinese labels and help
    zh = Page(p.context.browser, lang="zh", base=stack["dash"].url, session=stack["session"])
    try:
        zh.page.goto(f"{stack['dash'].url}/engineer")
        _ready(zh.page)
        _set(zh.page, "eng-rule-type", "budget")
        zh.page.wait_for_selector(".rf-quantity", timeout=T)
        assert "预算指标" in zh.page.inner_text(".rf-quantity")
        assert "达到预算的此百分比时报警" in zh.page.inner_text(".rf-high")
        assert zh.page.inner_text(".rf-high .unit") == "%"
        assert zh.errors == []
    finally:
        zh.close()
    assert page.errors == []


def test_create_edit_disable_and_delete_a_rule(page: Page, stack: dict) -> None:
    name = f"editor rule {uuid.uuid4().hex[:6]}"
    p = page.page
    p.goto(f"{stack['dash'].url}/engineer")
    _ready(p)
    p.fill("#eng-rule-name", name)
    _set(p, _field("meter"), stack["codes"]["FA"])
    p.wait_for_selector(".rf-high .unit:has-text('kWh')", timeout=T)  # the meter's unit
    p.fill(".rf-high input", "50")
    p.fill(".rf-on_delay_s input", "30")
    p.fill("#eng-rule-message", "feeder A high")
    p.click("#eng-rule-create")
    p.wait_for_selector("#eng-rule-result.msg-ok", timeout=T)
    [rule] = _rules_of(stack, name)
    assert (rule["high"], rule["on_delay_s"], rule["type"], rule["enabled"]) == (
        50,
        30,
        "threshold",
        True,
    )
    row = f"#eng-rule-row-{rule['id']}"
    p.wait_for_selector(f"{row}:has-text('high 50.0 kWh')", timeout=T)
    # edit: the form fills with the rule, the type cannot change
    p.click(f"{row} button:has-text('Edit')")
    p.wait_for_selector(f"#eng-rule-edit-title:has-text('{name}')", timeout=T)
    assert p.input_value(".rf-high input") == "50"
    p.fill(".rf-high input", "75")
    p.fill(".rf-low input", "1")
    p.click("#eng-rule-create")
    p.wait_for_selector("#eng-rule-result:has-text('rule saved')", timeout=T)
    [rule] = _rules_of(stack, name)
    assert (rule["high"], rule["low"], rule["version"]) == (75, 1, 2)
    p.wait_for_selector("#eng-rule-edit-title:has-text('New rule')", timeout=T)
    # disable, enable
    p.click(f"{row} button:has-text('Disable')")
    p.wait_for_selector(f"#eng-rules-msg:has-text('rule “{name}” disabled')", timeout=T)
    p.wait_for_selector(f"{row} td:text-is('disabled')", timeout=T)
    assert _rules_of(stack, name)[0]["enabled"] is False, p.inner_text("#eng-rules-msg")
    p.click(f"{row} button:has-text('Enable')")
    p.wait_for_selector(f"{row} button:has-text('Disable')", timeout=T)
    assert _rules_of(stack, name)[0]["enabled"] is True
    # delete asks first; cancel keeps the rule
    p.click(f"{row} button:has-text('Delete')")
    p.wait_for_selector(f"#eng-rule-confirm:has-text('{name}')", state="visible")
    p.click("#eng-rule-confirm-no")
    p.wait_for_selector("#eng-rule-confirm", state="hidden")
    assert _rules_of(stack, name)
    p.click(f"{row} button:has-text('Delete')")
    p.click("#eng-rule-confirm-yes")
    p.wait_for_selector(f"#eng-rules-msg:has-text('{name}')", timeout=T)
    p.wait_for_selector(row, state="detached", timeout=T)
    assert _rules_of(stack, name) == []
    assert page.errors == []


def test_a_budget_rule_from_the_editor(page: Page, stack: dict) -> None:
    name = f"budget rule {uuid.uuid4().hex[:6]}"
    p = _new_rule_form(page, stack, "budget", ".rf-quantity", name)
    _set(p, _field("site"), stack["site"])
    p.fill(".rf-high input", "90")
    _set(p, _field("quantity"), "electricity_kwh")  # the plant has only a cost budget
    p.click("#eng-rule-create")
    p.wait_for_selector("#eng-rule-result.msg-error", timeout=T)
    shown = p.inner_text("#eng-rule-result")
    assert "quantity" in shown and "electricity_kwh budget" in shown, shown
    # the whole form again (a slow machine may have redrawn it since), with the cost budget
    p.fill("#eng-rule-name", name)
    _set(p, _field("site"), stack["site"])
    p.fill(".rf-high input", "90")
    _set(p, _field("quantity"), "cost_cny")
    p.click("#eng-rule-create")
    p.wait_for_function(
        "() => !document.querySelector('#eng-rule-result').innerText.includes('electricity_kwh')",
        timeout=T,
    )
    shown = p.inner_text("#eng-rule-result")
    assert p.query_selector("#eng-rule-result.msg-ok") is not None, shown
    [rule] = _rules_of(stack, name)
    assert (rule["type"], rule["site"], rule["quantity"], rule["high"]) == (
        "budget",
        stack["site"],
        "cost_cny",
        90,
    )
    assert rule["period"] == "month" and rule["basis"] == "projected"  # the catalog defaults
    assert page.errors == []


def test_try_a_rule_on_the_last_seven_days(page: Page, stack: dict) -> None:
    """A kW gauge with a constructed hour two days ago: 1 kW with three excursions to 6 kW
    (one reading, three readings, one reading) — 3 alarms above 5 kW, 1 with a 120 s
    on-delay."""
    uid = uuid.uuid4().hex[:6]
    admin, code = stack["admin"], f"TRYUI-{uid}"
    r = admin.post(
        f"{API}/meters",
        json={
            "code": code,
            "name": "compressor",
            "site": stack["site"],
            "carrier": "electricity",
            "unit": "kW",
            "kind": "gauge",
            "interval_s": 60,
        },
    )
    assert r.status_code == 201, r.text
    t0 = stack["end"] - timedelta(days=2)
    values = [1.0] * 60
    for i in (10, 30, 31, 32, 50):
        values[i] = 6.0
    stamps = [(t0 + timedelta(minutes=i)).isoformat() for i in range(60)]
    r = admin.post(
        f"{API}/readings", json={"series": [{"meter": code, "ts": stamps, "value": values}]}
    )
    assert r.status_code == 200, r.text
    p = page.page
    p.goto(f"{stack['dash'].url}/engineer")
    _ready(p)
    p.fill("#eng-rule-name", f"try {uid}")
    _set(p, _field("meter"), code)
    p.wait_for_selector(".rf-high .unit:has-text('kW')", timeout=T)
    p.fill(".rf-high input", "5")
    p.click("#eng-rule-try")
    p.wait_for_selector("#eng-rule-try-result.msg-ok", timeout=T)
    shown = p.inner_text("#eng-rule-try-result")
    at = [
        (t0 + timedelta(minutes=m)).astimezone(ZoneInfo(TZ)).strftime("%Y-%m-%d %H:%M")
        for m in (10, 30, 50)
    ]
    assert shown == (
        f"would have raised 3 alarms in the last 7 days, at {', '.join(at)} (60 readings)"
    ), shown
    p.wait_for_selector("#eng-rule-try-graph g.barlayer .trace", timeout=T)
    p.fill(".rf-on_delay_s input", "120")
    p.click("#eng-rule-try")
    p.wait_for_selector("#eng-rule-try-result:has-text('would have raised 1 alarms')", timeout=T)
    assert _rules_of(stack, f"try {uid}") == []  # tried, not saved
    # a clock-driven type cannot be tried: the API's message names the type
    _set(p, "eng-rule-type", "stale")
    p.wait_for_selector(".rf-intervals", timeout=T)
    _set(p, _field("meter"), code)
    p.click("#eng-rule-try")
    p.wait_for_selector("#eng-rule-try-result.msg-error", timeout=T)
    assert "stale" in p.inner_text("#eng-rule-try-result")
    assert page.errors == []


# -- KPIs and screenshots ------------------------------------------------------------------


def test_alarm_kpi_page_renders_the_isa_figures(page: Page, stack: dict) -> None:
    message = f"kpi {uuid.uuid4().hex[:6]}"
    _raise(stack, message)
    m = stack["admin"].get(f"{API}/alarms/metrics").json()
    p = page.page
    p.goto(f"{stack['dash'].url}/alarm-kpis")
    p.wait_for_selector("#kpi-cards .kpi-card", timeout=T)
    cards = p.inner_text("#kpi-cards")
    for label in (
        "Alarms per operator per 10 min (average)",
        "Standing alarms",
        "Chattering alarms",
    ):
        assert label in cards
    standing = p.inner_text(".kpi-card:has-text('Standing alarms') .kpi-val")
    assert m["standing_alarms"] >= 1 and int(standing) >= 1
    # the table is the API's top 10 (most activations, then oldest): its first row is shown
    # (the alarm raised here may rank below ten older ones when other tests raised alarms)
    first = m["top_10"][0]["rule_name"]
    p.wait_for_selector(f"#kpi-top10 td:has-text('{first}')", timeout=T)
    assert any(r["rule_name"] == message for r in m["top_10"]) == (
        message in p.inner_text("#kpi-top10")
    )
    # the nav reaches it, grouped under Operate
    assert p.inner_text(".nav-group:has(a[href='/alarm-kpis']) .nav-group-name") == "OPERATE"
    assert page.errors == []


def _site_with_alarms(st: dict, code: str, name: str, n: int) -> str:
    """A top-level site with one meter and a threshold rule that activated ``n`` times in the
    last hour: the KPI page counts exactly ``n`` alarms raised there."""
    admin = st["admin"]
    r = admin.post(f"{API}/sites", json={"code": code, "name": name, "timezone": TZ})
    assert r.status_code == 201, r.text
    body = {"code": f"M-{code}", "name": "kiln fan", "site": code, "carrier": "electricity",
            "unit": "kW", "kind": "gauge", "interval_s": 60}  # fmt: skip
    r = admin.post(f"{API}/meters", json=body)
    assert r.status_code == 201, r.text
    rule = _rule(st, name=f"kiln {code}", meter=f"M-{code}", type="threshold", high=100)
    t0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)
    readings = [
        {"meter": f"M-{code}", "ts": (t0 + timedelta(minutes=i)).isoformat(), "value": v}
        for i, v in enumerate([150.0, 50.0] * n)
    ]
    r = admin.post(f"{API}/readings", json={"readings": readings})
    assert r.status_code == 200, r.text
    for _ in range(200):
        found = admin.get(f"{API}/alarms", params={"state": "all", "rule": rule["id"]}).json()
        if found and found[0]["activation_count"] == n:
            return code
        time.sleep(0.1)
    raise AssertionError(f"{code}: not {n} activations")


def _raised(p) -> str:  # noqa: ANN001
    return p.inner_text(".kpi-card:has(.kpi-name:text-is('Alarms raised')) .kpi-val")


def _person(st: dict, role: str, site: str | None = None) -> str:
    """A new person's session token."""
    login = make_user(st["engine"], [role], site=site, name=f"{role} {site or 'all'}")
    r = httpx.post(f"{st['api'].url}{API}/auth/login", json={"login": login, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def test_alarm_kpis_of_the_site_chosen_and_of_a_managers_own_site(
    browser,  # noqa: ANN001
    stack: dict,  # noqa: F811
) -> None:
    uid = uuid.uuid4().hex[:6]
    one = _site_with_alarms(stack, f"KA-{uid}", f"Kiln A{uid} 窑线A{uid}", 1)
    three = _site_with_alarms(stack, f"KB-{uid}", f"Kiln B{uid} 窑线B{uid}", 3)
    base = stack["dash"].url
    en = Page(browser, base=base, session=_person(stack, "engineer"))
    try:
        p = en.page
        p.goto(f"{base}/alarm-kpis")
        p.wait_for_selector("#kpi-scope:has-text('Alarms of every site you may see')", timeout=T)
        for code, label, n in ((one, f"Kiln A{uid}", "1"), (three, f"Kiln B{uid}", "3")):
            p.click("#kpi-site")
            p.click(f".dash-dropdown-option:has-text('{label}')")
            p.wait_for_selector(f"#kpi-scope:has-text('Alarms of {label} and the')", timeout=T)
            assert _raised(p) == n, code
            top = p.inner_text("#kpi-top10")
            assert f"kiln {code}" in top and f"kiln {one if code == three else three}" not in top
        assert en.errors == []
    finally:
        en.close()
    # a manager of one site, in Chinese: that site's alarms; the other site is not offered
    zh = Page(browser, lang="zh", base=base, session=_person(stack, "manager", three))
    try:
        z = zh.page
        z.goto(f"{base}/alarm-kpis?site={one}")  # not theirs: not chosen
        z.wait_for_selector("#kpi-scope:has-text('您可见的全部站点的报警')", timeout=T)
        assert z.inner_text(".kpi-card:has(.kpi-name:text-is('报警总数')) .kpi-val") == "3"
        z.click("#kpi-site")
        z.wait_for_selector(f".dash-dropdown-option:has-text('窑线B{uid}')", timeout=T)
        options = z.locator(".dash-dropdown-option").all_inner_texts()
        assert not any(f"窑线A{uid}" in o for o in options), options
        z.click(f".dash-dropdown-option:has-text('窑线B{uid}')")
        z.wait_for_selector(f"#kpi-scope:has-text('窑线B{uid}及其下属站点的报警')", timeout=T)
        assert z.inner_text(".kpi-card:has(.kpi-name:text-is('报警总数')) .kpi-val") == "3"
        assert zh.errors == []
    finally:
        zh.close()


def test_a_site_created_a_moment_ago_is_offered_on_the_next_page_load(
    page: Page,  # noqa: F811
    stack: dict,  # noqa: F811
) -> None:
    """The site picker of a person who had the page open: a site the API created since is
    offered on the next load (the site list was kept a minute; now asked again, with its
    ETag, on every load)."""
    uid = uuid.uuid4().hex[:6]
    p, url = page.page, f"{stack['dash'].url}/alarm-kpis"

    def offered() -> list[str]:
        p.goto(url)
        p.click("#kpi-site")
        p.wait_for_selector(".dash-dropdown-option", timeout=T)
        return p.locator(".dash-dropdown-option").all_inner_texts()

    assert not any(f"Furnace {uid}" in o for o in offered())
    r = stack["admin"].post(
        f"{API}/sites", json={"code": f"NEW-{uid}", "name": f"Furnace {uid}", "timezone": TZ}
    )
    assert r.status_code == 201, r.text
    deadline = time.monotonic() + 30  # the next load, or one after it on a slow box
    while not any(f"Furnace {uid}" in o for o in offered()):  # (was: a minute later)
        assert time.monotonic() < deadline, f"Furnace {uid} not offered"
        p.wait_for_timeout(1000)
    assert page.errors == []


def _shots_dir() -> Path:
    out = Path(os.environ.get("ECC_SHOTS", str(ARTIFACTS)))
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_console_screenshots(browser, stack: dict, lang: str) -> None:  # noqa: ANN001
    _raise(stack, f"screenshot {lang} {uuid.uuid4().hex[:4]}")
    base = stack["dash"].url
    p = Page(browser, width=1920, height=1080, lang=lang, base=base, session=stack["session"])
    try:
        p.page.goto(f"{base}/engineer")
        p.page.wait_for_selector(f"{ROW}", timeout=T)
        _ready(p.page)
        p.page.click(f"{ROW} >> nth=0")
        p.page.wait_for_selector("#eng-alarm-detail h3", timeout=T)
        p.page.wait_for_timeout(1300)  # past one blink
        out = _shots_dir()
        p.page.screenshot(path=str(out / f"console-{lang}.png"))
        p.page.fill("#eng-rule-name", "FA high")
        _set(p.page, _field("meter"), stack["codes"]["FA"])
        p.page.fill(".rf-high input", "9.9")
        p.page.fill(".rf-deadband input", "0.5")
        p.page.click("#eng-rule-try")
        p.page.wait_for_selector("#eng-rule-try-graph g.barlayer .trace", timeout=T)
        p.page.locator("#eng-rule-try-graph").scroll_into_view_if_needed()
        p.page.screenshot(path=str(out / f"rule-editor-{lang}.png"))
        # the common fields (schedule, parent rule, webhook) with values, as an engineer sees them
        wd = WEEKDAYS[lang]
        _window(p.page, 0, wd[:5], "08:00", "18:00")
        _window(p.page, 1, wd[5:6], "8:00", "12:00")  # a second window (Saturday mornings)
        p.page.fill(RC_WEBHOOK, "https://hooks.example.com/ecc/alarms")
        p.page.locator(".rc-webhook_url").scroll_into_view_if_needed()
        p.page.screenshot(path=str(out / f"rule-common-{lang}.png"))
        # a mistake is named in the person's language before anything is sent
        p.page.locator(f"{RC_SCHEDULE_ROW} >> nth=1").locator(".win-time input >> nth=1").fill(
            "7pm"
        )
        p.page.click("#eng-rule-try")
        said = {
            "en": "Armed in, window 2, end: expected a time HH:MM from 00:00 to 24:00, e.g. "
            "08:00 (got “7pm”)",
            "zh": "启用时段第 2 个时段的结束时间：应为 00:00 至 24:00 之间的 HH:MM 时间，"
            "如 08:00（输入为“7pm”）",
        }[lang]
        p.page.wait_for_selector(f"#eng-rule-try-result.msg-error:has-text('{said}')", timeout=T)
        p.page.screenshot(path=str(out / f"rule-schedule-error-{lang}.png"))
        parent_help = {
            "en": "The rule whose active alarm suppresses this one; empty: never suppressed",
            "zh": "其活动报警会抑制本规则的规则；留空则不抑制",
        }[lang]
        assert p.page.inner_text(".rc-parent_rule .help") == parent_help
        none = {"en": "none (never suppressed)", "zh": "无（不抑制）"}[lang]
        assert none in p.page.inner_text(".rc-parent_rule")  # an empty picker says what it means
        p.page.goto(f"{base}/alarm-kpis")
        p.page.wait_for_selector("#kpi-cards .kpi-card", timeout=T)
        p.page.screenshot(path=str(out / f"alarm-kpis-{lang}.png"))
        assert p.errors == []
    finally:
        p.close()


# -- the common fields: schedule, parent rule, webhook ---------------------------------------

RC_SCHEDULE_ROW = ".rc-schedule .win-row"
RC_WEBHOOK = ".rc-webhook_url input"
WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
}


def _window(p, row: int, days: tuple[str, ...], start: str, end: str) -> None:  # noqa: ANN001
    """Fill the schedule's ``row``-th window as a person would: tick exactly ``days``, type
    the times (the row appears once the one above it is used)."""
    box = p.locator(f"{RC_SCHEDULE_ROW} >> nth={row}")
    box.wait_for(state="visible", timeout=T)
    ticks = box.locator(".win-days label")
    assert ticks.count() == 7
    for k in range(7):
        tick = ticks.nth(k)
        tick.locator("input").set_checked(tick.inner_text().strip() in days)
    box.locator(".win-time input >> nth=0").fill(start)
    box.locator(".win-time input >> nth=1").fill(end)


def _window_shown(p, row: int) -> tuple[list[str], str, str]:  # noqa: ANN001
    """What the schedule's ``row``-th window shows: the days ticked, from, to."""
    box = p.locator(f"{RC_SCHEDULE_ROW} >> nth={row}")
    days = box.locator(".win-days label:has(input:checked)").all_inner_texts()
    times = box.locator(".win-time input")
    return [d.strip() for d in days], times.nth(0).input_value(), times.nth(1).input_value()


def _pick_parent(p, label: str) -> None:  # noqa: ANN001
    p.click(".rc-parent_rule .field-input > div")
    p.click(f".dash-dropdown-option:has-text('{label}')")


def _refused(p, text: str) -> None:  # noqa: ANN001
    p.wait_for_selector(f"#eng-rule-result.msg-error:has-text('{text}')", timeout=T)


def test_schedule_parent_and_webhook_from_the_editor(page: Page, stack: dict) -> None:  # noqa: F811
    uid = uuid.uuid4().hex[:6]
    parent = _rule(stack, name=f"parent {uid}", meter=stack["codes"]["FB"], type="threshold",
                   high=1e9)  # fmt: skip
    name = f"child {uid}"
    p = page.page
    p.goto(f"{stack['dash'].url}/engineer")
    _ready(p)
    assert "Armed in" in p.inner_text(".rc-schedule")
    assert "Parent rule" in p.inner_text(".rc-parent_rule")
    assert p.locator(f"{RC_SCHEDULE_ROW}:visible").count() == 1  # one window offered at first
    p.fill("#eng-rule-name", name)
    _set(p, _field("meter"), stack["codes"]["FA"])
    p.fill(".rf-high input", "50")
    # bad values: the form names the field, the window and the mistake; nothing is created
    weekdays, saturday = WEEKDAYS["en"][:5], WEEKDAYS["en"][5:6]
    _window(p, 0, weekdays, "25:00", "18:00")
    p.click("#eng-rule-create")
    _refused(p, "Armed in, window 1, start: expected a time HH:MM from 00:00 to 24:00")
    _window(p, 0, weekdays, "08:00", "18:00")
    _window(p, 1, (), "08:00", "12:00")  # the next row appeared: times but no day
    p.click("#eng-rule-create")
    _refused(p, "Armed in, window 2: tick at least one weekday")
    _window(p, 1, saturday, "8:00", "12:00")  # 8:00 is read as 08:00
    p.fill(RC_WEBHOOK, "ftp://127.0.0.1/hook")
    p.click("#eng-rule-create")
    _refused(p, "webhook_url: must be an http:// or https:// URL")  # the API's 422
    assert _rules_of(stack, name) == []
    # good values: created with them
    p.fill(RC_WEBHOOK, "http://127.0.0.1:9/hook")
    _pick_parent(p, f"parent {uid} (#{parent['id']})")
    p.click("#eng-rule-create")
    p.wait_for_selector("#eng-rule-result.msg-ok", timeout=T)
    [rule] = _rules_of(stack, name)
    schedule = [
        {"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00"},
        {"days": [5], "start": "08:00", "end": "12:00"},
    ]
    assert rule["schedule"] == schedule  # the stored form, as a JSON body would have sent it
    assert stack["admin"].get(f"{API}/alarm-rules/{rule['id']}").json()["schedule"] == schedule
    assert (rule["parent_rule"], rule["webhook_url"]) == (parent["id"], "http://127.0.0.1:9/hook")
    # the page loaded afresh, the rule edited: the controls show what was stored
    p.reload()
    _ready(p)
    row = f"#eng-rule-row-{rule['id']}"
    p.click(f"{row} button:has-text('Edit')")
    p.wait_for_selector(f"#eng-rule-edit-title:has-text('{name}')", timeout=T)
    p.wait_for_function(
        "sel => document.querySelector(sel).value === '08:00'",
        arg=".rc-schedule .win-time input",
        timeout=T,
    )
    assert _window_shown(p, 0) == (list(weekdays), "08:00", "18:00")
    assert _window_shown(p, 1) == (list(saturday), "08:00", "12:00")
    assert p.locator(f"{RC_SCHEDULE_ROW}:visible").count() == 3  # and room for one more
    assert p.input_value(RC_WEBHOOK) == "http://127.0.0.1:9/hook"
    assert f"#{parent['id']}" in p.inner_text(".rc-parent_rule")
    p.fill(RC_WEBHOOK, "mailto:someone")
    p.click("#eng-rule-create")
    _refused(p, "webhook_url: must be an http:// or https:// URL")
    # emptied: the first window only, from 22:00 past midnight to 06:00, every day
    _window(p, 0, WEEKDAYS["en"], "22:00", "06:00")
    _window(p, 1, (), "", "")
    p.fill(RC_WEBHOOK, "https://127.0.0.1:9/other")
    p.click("#eng-rule-create")
    p.wait_for_selector("#eng-rule-result:has-text('rule saved')", timeout=T)
    [rule] = _rules_of(stack, name)
    assert rule["schedule"] == [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "22:00", "end": "06:00"}]
    assert rule["webhook_url"] == "https://127.0.0.1:9/other"
    # every window emptied: no schedule (always armed)
    p.click(f"{row} button:has-text('Edit')")
    p.wait_for_function(
        "sel => document.querySelector(sel).value === '22:00'",
        arg=".rc-schedule .win-time input",
        timeout=T,
    )
    _window(p, 0, (), "", "")
    p.click("#eng-rule-create")
    p.wait_for_selector("#eng-rule-result:has-text('rule saved')", timeout=T)
    [rule] = _rules_of(stack, name)
    assert (rule["schedule"], rule["parent_rule"]) == (None, parent["id"])
    # the parent cannot be suppressed by its own child: 422 on parent_rule, shown
    p.click(f"#eng-rule-row-{parent['id']} button:has-text('Edit')")
    p.wait_for_selector(f"#eng-rule-edit-title:has-text('parent {uid}')", timeout=T)
    _pick_parent(p, f"{name} (#{rule['id']})")
    p.click("#eng-rule-create")
    _refused(p, "parent_rule: a rule cannot be suppressed by itself (cycle)")
    assert _rules_of(stack, f"parent {uid}")[0]["parent_rule"] is None
    assert page.errors == []


def test_idle_periods_of_an_idle_rule_by_the_same_controls(page: Page, stack: dict) -> None:  # noqa: F811
    """A type's own windows field (an idle rule's idle periods) is edited like the schedule."""
    name = f"idle {uuid.uuid4().hex[:6]}"
    p = _new_rule_form(page, stack, "idle", ".rf-idle_periods .win-row", name)
    _set(p, _field("meter"), stack["codes"]["FA"])
    p.fill(".rf-high input", "3")
    p.click("#eng-rule-create")  # no idle period yet: refused in words, nothing sent
    _refused(p, "Idle periods: required")
    assert _rules_of(stack, name) == []
    rows = ".rf-idle_periods .win-row"
    first = p.locator(f"{rows} >> nth=0")
    for k in range(5):  # Monday to Friday nights
        first.locator(".win-days label input").nth(k).check()
    first.locator(".win-time input >> nth=0").fill("22:00")
    first.locator(".win-time input >> nth=1").fill("06:00")
    second = p.locator(f"{rows} >> nth=1")
    for k in (5, 6):  # the weekend, all day
        second.locator(".win-days label input").nth(k).check()
    p.click("#eng-rule-create")
    p.wait_for_selector("#eng-rule-result.msg-ok", timeout=T)
    [rule] = _rules_of(stack, name)
    assert rule["idle_periods"] == [
        {"days": [0, 1, 2, 3, 4], "start": "22:00", "end": "06:00"},
        {"days": [5, 6], "start": "00:00", "end": "24:00"},
    ]
    p.click(f"#eng-rule-row-{rule['id']} button:has-text('Edit')")
    p.wait_for_selector(f"#eng-rule-edit-title:has-text('{name}')", timeout=T)
    p.wait_for_function(
        "sel => document.querySelector(sel).value === '22:00'",
        arg=f"{rows} .win-time input",
        timeout=T,
    )
    second_days = p.locator(f"{rows} >> nth=1").locator(".win-days label:has(input:checked)")
    assert second_days.all_inner_texts() == ["Sat", "Sun"]
    assert page.errors == []


def test_history_range_reads_yyyy_mm_dd_in_either_language(browser, stack: dict) -> None:  # noqa: ANN001
    """In an en-US browser a date input shows 11/27/2026; the range shows the app's own
    YYYY-MM-DD in English and 中文, and a day typed so sets the range."""
    today = datetime.now(ZoneInfo(TZ)).date()
    for lang, history in (("en", "History"), ("zh", "历史")):
        p = Page(
            browser, lang=lang, base=stack["dash"].url, session=stack["session"], locale="en-US"
        )
        try:
            p.page.goto(f"{stack['dash'].url}/engineer")
            p.page.click(f"#eng-alarm-state label:has-text('{history}')")
            p.page.wait_for_selector(HIST_TO, state="visible", timeout=T)
            for sel, day in ((HIST_FROM, today - timedelta(days=7)), (HIST_TO, today)):
                shown = p.page.eval_on_selector(sel, "e => [e.type, e.value]")
                assert shown == ["text", day.isoformat()], (lang, sel, shown)  # as it reads
            _hist_end(p.page, (today - timedelta(days=5)).isoformat())
            none = {"en": "No alarm events", "zh": "该时段无报警记录"}[lang]
            p.page.wait_for_selector(f"#eng-alarm-note:has-text('{none}')", timeout=T)
            assert p.page.input_value(HIST_TO) == (today - timedelta(days=5)).isoformat()
            assert p.errors == []
        finally:
            p.close()


# -- the history over a range: at most the newest 200 events, a past range left alone --------


def _tick_status(p) -> int:  # noqa: ANN001
    """The status of the alarm list's next refresh (204: nothing redrawn)."""

    def refresh(r) -> bool:  # noqa: ANN001
        body = r.request.post_data or ""
        return (
            "_dash-update-component" in r.url
            and '"changedPropIds":["eng-alarm-tick.n_intervals"]' in body
            and "eng-hist-table" in body
        )

    with p.expect_response(refresh, timeout=T) as found:
        pass
    return found.value.status


def test_list_and_history_redraw_only_on_change_and_history_shows_the_newest_200(
    page: Page,  # noqa: F811
    stack: dict,  # noqa: F811
) -> None:
    busy = f"busy {uuid.uuid4().hex[:6]}"
    alarm = _raise(stack, busy)

    def comment(i: int) -> None:
        r = stack["admin"].post(f"{API}/alarms/{alarm}/comment", json={"comment": f"note {i}"})
        assert r.status_code == 200, r.text

    p = page.page
    p.set_viewport_size({"width": 1920, "height": 1080})  # a control-room screen, for the shot
    p.goto(f"{stack['dash'].url}/engineer")
    p.wait_for_selector(f"#eng-alarm-table label:has-text('{busy}')", timeout=T)
    assert _tick_status(p) == 204  # the alarm list unchanged: its rows are not replaced
    for i in range(201):
        comment(i)
    _filter(p, "History")
    p.wait_for_selector(
        "#eng-alarm-note:has-text('Newest 200 of more than 200 events shown — narrow the range')",
        timeout=T,
    )
    p.screenshot(path=str(_shots_dir() / "history-capped-en.png"))
    assert p.locator("#eng-alarm-note #eng-hist-capped.status-bad").count() == 1  # a warning
    assert p.locator("#eng-hist-table tbody tr").count() == 200
    table = p.inner_text("#eng-hist-table")
    assert "“note 200”" in table and "“note 0”" not in table  # the newest
    # the refresh draws the table again only when it changed
    comment(201)
    p.wait_for_selector("#eng-hist-table td:has-text('“note 201”')", timeout=T)
    assert p.locator("#eng-hist-table tbody tr").count() == 200
    assert _tick_status(p) == 204  # nothing new: not drawn again
    # a range that ended before today is never drawn again
    past = (datetime.now(ZoneInfo(TZ)) - timedelta(days=3)).date().isoformat()
    _hist_end(p, past)
    p.wait_for_selector("#eng-alarm-note:has-text('No alarm events')", timeout=T)
    assert _tick_status(p) == 204
    # 中文: the note in Chinese
    zh = Page(
        p.context.browser,
        width=1920,
        height=1080,
        lang="zh",
        base=stack["dash"].url,
        session=stack["session"],
    )
    try:
        zh.page.goto(f"{stack['dash'].url}/engineer")
        zh.page.click("#eng-alarm-state label:has-text('历史')")
        zh.page.wait_for_selector("#eng-alarm-note:has-text('仅显示最新 200 条')", timeout=T)
        zh.page.screenshot(path=str(_shots_dir() / "history-capped-zh.png"))
        assert zh.page.locator("#eng-hist-capped.status-bad").count() == 1
        assert zh.errors == []
    finally:
        zh.close()
    assert page.errors == []
