"""The site-watching timed rule types ``node_loss`` and ``ets_deadline``, evaluated on the
scheduler path (``evaluate_timed`` at an injected ``now``), against values worked by hand.

node_loss, on the constructed tree of ``tests/support/site_tree.py`` (one hour of readings,
2025-01-06 00:00–01:00 +08:00; worked out in ``tests/benchmarking/test_energy_balance.py``):

    FA 257 kWh, its child FA1 126: loss rate (257 − 126) ÷ 257 = 50.97 %   (high 50: fires)
    TX 420 kWh, children FA 257 + FB 143: 20 ÷ 420 = 4.76 %               (high 5: normal)
    site: consumption 545, end uses 269, no transformer registered here (TX's 20 kWh is
          unmetered, not a metered loss): unmetered 276 ÷ 545 = 50.64 %   (high 40: fires)

ets_deadline: verified 1,000 tCO2 for 2023, due 2024-12-31, 900 allowances surrendered →
shortfall 100 t. With ``days_before`` 30 it arms on 2024-12-01 (Shanghai date): normal at
2024-11-30 23:50 +08:00 (value 0), active at 2024-12-01 00:05 +08:00 (value 100), back to
normal once 100 more allowances are surrendered (shortfall 0).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from alarms.config import AlarmConfig
from alarms.evaluate import RuleCache, evaluate_timed
from core.settings import Settings
from tests.support import site_tree

API = "/api/v1"
CST = timezone(timedelta(hours=8))


def _rule(client: TestClient, h: dict, body: dict, code: int = 201) -> dict:
    r = client.post(f"{API}/alarm-rules", headers=h, json=body)
    assert r.status_code == code, r.text
    return r.json()


def _run(
    engine, settings: Settings, client: TestClient, h: dict, rule: dict, now: datetime
) -> dict:  # noqa: ANN001
    with engine.begin() as conn:
        evaluate_timed(
            conn, AlarmConfig.from_settings(settings), RuleCache(), now=now, rule_ids=[rule["id"]]
        )
    r = client.get(f"{API}/alarms", headers=h, params={"state": "all", "rule": rule["id"]})
    assert r.status_code == 200, r.text
    return {a["condition"]: a for a in r.json()}["high"]


def test_node_loss_rules_fire_on_the_hand_worked_balance(
    client: TestClient,
    admin_headers: dict,
    engine,
    settings: Settings,
    uid: str,  # noqa: ANN001
) -> None:
    codes = site_tree.build(client, admin_headers, uid)
    base = {"type": "node_loss", "site": codes["P"], "priority": "high"}
    fa = _rule(
        client,
        admin_headers,
        {**base, "name": f"FA loss {uid}", "node": codes["FA"], "period": "1h", "high": 50},
    )
    tx = _rule(
        client,
        admin_headers,
        {**base, "name": f"TX loss {uid}", "node": codes["TX"], "period": "1h", "high": 5},
    )
    site = _rule(client, admin_headers, {**base, "name": f"site unmetered {uid}", "high": 40})
    assert (site["carrier"], site["period"], site.get("node")) == ("electricity", "1d", None)
    assert fa["node"] == codes["FA"] and fa["unit"] is None

    now = datetime(2025, 1, 6, 1, 5, tzinfo=CST)  # window ends at the quarter hour 01:00
    a = _run(engine, settings, client, admin_headers, fa, now)
    assert a["state"] == "active_unacknowledged" and a["value"] == pytest.approx(131 / 257 * 100)
    b = _run(engine, settings, client, admin_headers, tx, now)
    assert b["state"] == "normal" and b["last_value"] == pytest.approx(20 / 420 * 100)
    c = _run(engine, settings, client, admin_headers, site, now)
    assert c["state"] == "active_unacknowledged" and c["value"] == pytest.approx(276 / 545 * 100)
    # at 00:40 the 1 h window (23:30–00:30) holds two intervals: FA 125, FA1 61 → 51.2 %
    early = _rule(
        client,
        admin_headers,
        {**base, "name": f"FA early {uid}", "node": codes["FA"], "period": "1h", "high": 51.5},
    )
    e = _run(
        engine, settings, client, admin_headers, early, datetime(2025, 1, 6, 0, 40, tzinfo=CST)
    )
    assert e["state"] == "normal" and e["last_value"] == pytest.approx((125 - 61) / 125 * 100)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"high": None}, "high"),
        ({"high": 150}, "high"),
        ({"low": 1}, "low"),
        ({"unit": "kWh"}, "unit"),
        ({"period": "1y"}, "period"),
        ({"carrier": "grid_export"}, "carrier"),
        ({"node": "NO-SUCH-METER"}, "node"),
        ({"node": "__gas__"}, "node"),  # a gas meter in an electricity balance
        ({"node": "__far__"}, "node"),  # a meter of another site
        ({"site": None, "meter": "__gas__"}, "site"),
        ({"year": 2024}, "year"),  # an ets_deadline field
    ],
)
def test_node_loss_rules_name_their_wrong_fields(
    client: TestClient, admin_headers: dict, uid: str, change: dict, field: str
) -> None:
    codes = site_tree.build(client, admin_headers, uid)
    body = {
        "name": f"bad loss {uid}",
        "type": "node_loss",
        "site": codes["P"],
        "high": 10,
        **change,
    }
    for k, v in list(body.items()):
        if v == "__gas__":
            body[k] = codes["GAS"]
        elif v == "__far__":
            body[k] = codes["FAR"]
    r = client.post(f"{API}/alarm-rules", headers=admin_headers, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][-1] == field, r.text


def _ets_site(client: TestClient, h: dict, uid: str) -> str:
    site = f"ETS-{uid}"
    r = client.post(
        f"{API}/sites", headers=h, json={"code": site, "name": site, "timezone": "Asia/Shanghai"}
    )
    assert r.status_code == 201, r.text
    r = client.post(
        f"{API}/ets/verified-emissions",
        headers=h,
        json={"site": site, "year": 2023, "verified_tco2": 1000, "surrender_due": "2024-12-31"},
    )
    assert r.status_code == 201, r.text
    _surrender(client, h, site, 900)
    return site


def _surrender(client: TestClient, h: dict, site: str, t: float) -> None:
    body = {"kind": "allowance", "quantity": t, "unit": "t", "vintage": "2023-01-01", "site": site}
    r = client.post(f"{API}/carbon-assets", headers=h, json=body)
    assert r.status_code == 201, r.text
    r = client.post(
        f"{API}/carbon-assets/{r.json()['id']}/retire",
        headers=h,
        json={
            "quantity": t,
            "purpose": "ets_compliance",
            "period_start": "2023-01-01T00:00:00+08:00",
            "period_end": "2024-01-01T00:00:00+08:00",
        },
    )
    assert r.status_code == 201, r.text


def test_ets_deadline_fires_days_before_the_deadline_while_short(
    client: TestClient,
    admin_headers: dict,
    engine,
    settings: Settings,
    uid: str,  # noqa: ANN001
) -> None:
    site = _ets_site(client, admin_headers, uid)
    r = client.get(
        f"{API}/ets/position", headers=admin_headers, params={"site": site, "year": 2023}
    )
    assert float(r.json()["shortfall_t"]) == 100
    rule = _rule(
        client,
        admin_headers,
        {"name": f"ETS 2023 {uid}", "type": "ets_deadline", "site": site, "year": 2023, "high": 0},
    )
    assert (rule["year"], rule["days_before"]) == (2023, 30)
    a = _run(
        engine, settings, client, admin_headers, rule, datetime(2024, 11, 30, 23, 50, tzinfo=CST)
    )
    assert a["state"] == "normal" and a["last_value"] == 0
    a = _run(engine, settings, client, admin_headers, rule, datetime(2024, 12, 1, 0, 5, tzinfo=CST))
    assert a["state"] == "active_unacknowledged" and a["value"] == 100
    activated = datetime.fromisoformat(a["activated_at"]).astimezone(CST)
    assert activated == datetime(2024, 12, 1, 0, 5, tzinfo=CST)
    _surrender(client, admin_headers, site, 100)
    a = _run(
        engine, settings, client, admin_headers, rule, datetime(2024, 12, 1, 0, 25, tzinfo=CST)
    )
    assert a["state"] == "returned_unacknowledged" and a["last_value"] == 0


def test_ets_deadline_without_verification_is_not_evaluated(
    client: TestClient,
    admin_headers: dict,
    engine,
    settings: Settings,
    uid: str,  # noqa: ANN001
) -> None:
    site = _ets_site(client, admin_headers, uid)
    rule = _rule(
        client,
        admin_headers,
        {
            "name": f"ETS 2024 {uid}",
            "type": "ets_deadline",
            "site": site,
            "year": 2024,
            "high": 0,
            "days_before": 400,
        },
        code=422,
    )
    assert rule["detail"][0]["loc"][-1] == "days_before"
    rule = _rule(
        client,
        admin_headers,
        {"name": f"ETS 2024 {uid}", "type": "ets_deadline", "site": site, "year": 2024, "high": 0},
    )
    a = _run(engine, settings, client, admin_headers, rule, datetime(2025, 12, 31, tzinfo=CST))
    assert a["state"] == "normal" and a["last_value"] is None
    for change, field in (
        ({"year": None}, "year"),
        ({"high": -1}, "high"),
        ({"unit": "%"}, "unit"),
    ):
        body = {
            "name": f"bad ets {uid}",
            "type": "ets_deadline",
            "site": site,
            "year": 2023,
            "high": 0,
            **change,
        }
        r = client.post(f"{API}/alarm-rules", headers=admin_headers, json=body)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == field, r.text
