"""A site's own settings: ``contracted_demand_kw`` and ``wall_tiles`` (POST, PATCH, GET), the
4xx answers that name the field, the audit trail, and the demand alarm rule that watches the
site's contracted demand when it sets no ``high``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from alarms.config import AlarmConfig
from alarms.evaluate import RuleCache, evaluate_timed
from tests.support.accounts import make_user, sign_in

API = "/api/v1"
NOW = datetime(2026, 6, 1, 10, 7, tzinfo=UTC)  # 7 minutes into a 15-minute block


def _site(client: TestClient, headers: dict, code: str) -> dict:
    return next(s for s in client.get(f"{API}/sites", headers=headers).json() if s["code"] == code)


def test_site_settings_round_trip(client: TestClient, admin_headers: dict, uid: str) -> None:
    body = {
        "code": f"SS-{uid}",
        "name": "Plant",
        "contracted_demand_kw": 2500,
        "wall_tiles": ["load_now", "net_emissions_year", "collection_rate"],
    }
    r = client.post(f"{API}/sites", json=body, headers=admin_headers)
    assert r.status_code == 201, r.text
    assert r.json()["contracted_demand_kw"] == 2500.0
    assert r.json()["wall_tiles"] == ["load_now", "net_emissions_year", "collection_rate"]
    got = _site(client, admin_headers, body["code"])
    assert (got["contracted_demand_kw"], got["wall_tiles"]) == (2500.0, body["wall_tiles"])
    # PATCH changes only what it names
    r = client.patch(
        f"{API}/sites/{body['code']}", json={"contracted_demand_kw": 3150.5}, headers=admin_headers
    )
    assert r.status_code == 200, r.text
    got = _site(client, admin_headers, body["code"])
    assert (got["contracted_demand_kw"], got["wall_tiles"]) == (3150.5, body["wall_tiles"])
    r = client.patch(
        f"{API}/sites/{body['code']}", json={"wall_tiles": None}, headers=admin_headers
    )
    assert r.status_code == 200 and r.json()["wall_tiles"] is None
    assert r.json()["contracted_demand_kw"] == 3150.5
    # a site created without them has neither
    r = client.post(f"{API}/sites", json={"code": f"SN-{uid}", "name": "n"}, headers=admin_headers)
    assert (r.json()["contracted_demand_kw"], r.json()["wall_tiles"]) == (None, None)
    # the change is in the audit trail, with who made it
    trail = client.get(f"{API}/audit", params={"entity": "site"}, headers=admin_headers)
    assert trail.status_code == 200
    rows = [e for e in trail.json() if body["code"] in str(e)]
    assert any("3150.5" in str(e) for e in rows), rows[-3:]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"contracted_demand_kw": 0}, "contracted_demand_kw"),
        ({"contracted_demand_kw": -5}, "contracted_demand_kw"),
        ({"contracted_demand_kw": "lots"}, "contracted_demand_kw"),
        ({"contracted_demand_kw": 1e16}, "contracted_demand_kw"),
        ({"wall_tiles": ["load_now", "teleport"]}, "wall_tiles"),
        ({"wall_tiles": ["load_now", "load_now"]}, "wall_tiles"),
        ({"wall_tiles": "load_now"}, "wall_tiles"),
        ({"wall_tiles": ["load_now"] * 13}, "wall_tiles"),
        ({"timezone": "Asia/Shanghai"}, "timezone"),  # PATCH sets only the site's settings
    ],
)
def test_bad_settings_are_422_naming_the_field(
    client: TestClient, admin_headers: dict, uid: str, change: dict, field: str
) -> None:
    code = f"SB-{uid}"
    assert client.post(f"{API}/sites", json={"code": code, "name": "b"}, headers=admin_headers)
    r = client.patch(f"{API}/sites/{code}", json=change, headers=admin_headers)
    assert r.status_code == 422, r.text
    assert any(
        str(e["loc"][-1]).endswith(field) or field in e["loc"] for e in r.json()["detail"]
    ), r.text
    if field != "timezone":
        r = client.post(
            f"{API}/sites", json={"code": f"SC-{uid}", "name": "c", **change}, headers=admin_headers
        )
        assert r.status_code == 422, r.text


def test_who_may_change_a_sites_settings(
    client: TestClient,
    admin_headers: dict,
    engine,
    uid: str,  # noqa: ANN001
) -> None:
    code = f"SW-{uid}"
    client.post(f"{API}/sites", json={"code": code, "name": "w"}, headers=admin_headers)
    viewer = sign_in(client, make_user(engine, ["viewer"]))
    r = client.patch(f"{API}/sites/{code}", json={"contracted_demand_kw": 10}, headers=viewer)
    assert r.status_code == 403
    engineer = sign_in(client, make_user(engine, ["engineer"]))
    r = client.patch(f"{API}/sites/{code}", json={"contracted_demand_kw": 10}, headers=engineer)
    assert r.status_code == 200
    r = client.patch(f"{API}/sites/NO-{uid}", json={"contracted_demand_kw": 10}, headers=engineer)
    assert r.status_code == 404


def _alarm(client: TestClient, h: dict, rule_id: int) -> dict:
    rows = client.get(f"{API}/alarms", params={"rule": rule_id, "state": "all"}, headers=h).json()
    return {a["condition"]: a for a in rows}


def test_demand_rule_without_high_watches_the_sites_contract(
    client: TestClient,
    admin_headers: dict,
    engine,
    uid: str,  # noqa: ANN001
) -> None:
    """A workshop feeder drawing 10 kWh a minute (600 kW): over a contract of 500 kW, not
    over 800 kW; the contract is the site's and a change applies at the next evaluation."""
    site, feeder = f"DW-{uid}", f"DWF-{uid}"
    r = client.post(
        f"{API}/sites",
        json={"code": site, "name": "ws", "contracted_demand_kw": 800},
        headers=admin_headers,
    )
    assert r.status_code == 201
    client.post(
        f"{API}/meters",
        json={"code": feeder, "name": "f", "site": site, "carrier": "electricity",
              "unit": "kWh", "kind": "delta", "interval_s": 60},
        headers=admin_headers,
    )  # fmt: skip
    minutes = [NOW - timedelta(minutes=m) for m in range(0, 20)]
    r = client.post(
        f"{API}/readings",
        json={"readings": [{"meter": feeder, "ts": t.isoformat(), "value": 10} for t in minutes]},
        headers=admin_headers,
    )
    assert r.json()["accepted"] == 20
    on_site = client.post(
        f"{API}/alarm-rules",
        json={"name": f"site demand {uid}", "site": site, "type": "demand", "method": "block"},
        headers=admin_headers,
    )
    assert on_site.status_code == 201, on_site.text
    on_meter = client.post(
        f"{API}/alarm-rules",
        json={"name": f"feeder demand {uid}", "meter": feeder, "type": "demand"},
        headers=admin_headers,
    )
    assert on_meter.status_code == 201, on_meter.text
    ids = [on_site.json()["id"], on_meter.json()["id"]]
    cache, config = RuleCache(), AlarmConfig()

    def evaluate(now: datetime) -> None:
        with engine.begin() as conn:
            evaluate_timed(conn, config, cache, now=now, rule_ids=ids)

    # block 10:00–10:15: 7 readings × 10 kWh so far; the last 5 minutes 50 kWh = 600 kW, for
    # the 8 minutes to go 80 kWh: 150 kWh in 0.25 h = 600 kW projected
    evaluate(NOW)
    for rid in ids:
        high = _alarm(client, admin_headers, rid)["high"]
        assert high["state"] == "normal", high
        assert high["last_value"] == pytest.approx(600.0)
    r = client.patch(
        f"{API}/sites/{site}", json={"contracted_demand_kw": 500}, headers=admin_headers
    )
    assert r.status_code == 200
    # 30 s later: 70 kWh so far, 600 kW for the 7.5 minutes to go (75 kWh): 145 kWh → 580 kW
    evaluate(NOW + timedelta(seconds=30))
    for rid in ids:
        high = _alarm(client, admin_headers, rid)["high"]
        assert high["state"] == "active_unacknowledged", str(high)
        assert high["value"] == pytest.approx(580.0) and high["limit"] == 500.0


def test_demand_rule_without_high_needs_a_site_contract(
    client: TestClient, admin_headers: dict, uid: str
) -> None:
    site = f"DN-{uid}"
    client.post(f"{API}/sites", json={"code": site, "name": "n"}, headers=admin_headers)
    r = client.post(
        f"{API}/alarm-rules",
        json={"name": f"no contract {uid}", "site": site, "type": "demand"},
        headers=admin_headers,
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] == "high"
    assert "contracted_demand_kw" in r.json()["detail"][0]["msg"]


def test_idle_rule_still_needs_high(client: TestClient, admin_headers: dict, uid: str) -> None:
    site = f"DI-{uid}"
    client.post(
        f"{API}/sites",
        json={"code": site, "name": "n", "contracted_demand_kw": 10},
        headers=admin_headers,
    )
    client.post(
        f"{API}/meters",
        json={"code": f"DIM-{uid}", "name": "m", "site": site, "carrier": "electricity",
              "unit": "kWh", "kind": "delta"},
        headers=admin_headers,
    )  # fmt: skip
    r = client.post(
        f"{API}/alarm-rules",
        json={"name": f"idle {uid}", "meter": f"DIM-{uid}", "type": "idle",
              "idle_periods": [{"days": [5, 6], "start": "00:00", "end": "00:00"}]},
        headers=admin_headers,
    )  # fmt: skip
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "high"
