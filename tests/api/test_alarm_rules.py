"""The rule-type catalog (``GET /alarm-rules/types``) and trying a rule on stored history
(``POST /alarm-rules/try``) through the real API on the real PostgreSQL. Readings are at fixed
dates and the window's ``end`` is given: nothing depends on the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import get_args

from alarms import catalog
from models.alarms import RuleType
from tests.support.alarms import API, meter, minutes, post

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
END = "2026-01-06T00:00:00+00:00"


def test_the_catalog_lists_every_type_with_its_fields_in_both_languages(
    client, admin_headers
) -> None:  # noqa: ANN001
    r = client.get(f"{API}/alarm-rules/types", headers=admin_headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [t["type"] for t in body["types"]] == [t.value for t in RuleType]
    by_type = {t["type"]: t for t in body["types"]}
    assert [f["name"] for f in by_type["rate"]["fields"]] == [
        "meter", "high", "high_high", "low", "low_low", "deadband", "on_delay_s",
        "off_delay_s", "unit", "window_s",
    ]  # fmt: skip
    assert [f["name"] for f in by_type["budget"]["fields"]] == [
        "site", "high", "high_high", "deadband", "on_delay_s", "off_delay_s", "quantity",
        "period", "basis",
    ]  # fmt: skip
    quantity = next(f for f in by_type["budget"]["fields"] if f["name"] == "quantity")
    assert quantity["required"] and quantity["choices"] == [
        "electricity_kwh", "energy_tce", "co2_t", "cost_cny"
    ]  # fmt: skip
    window = next(f for f in by_type["rate"]["fields"] if f["name"] == "window_s")
    assert window["unit"] == "s" and window["required"]
    assert window["label"] == {"en": "Window", "zh": "时间窗"}
    for t in body["types"]:
        assert t["label"]["en"] and t["label"]["zh"] and t["help"]["zh"]
        for f in t["fields"]:
            assert f["label"]["en"] and f["label"]["zh"] and f["help"]["en"] and f["help"]["zh"]
    common = {f["name"]: f for f in body["common"]}
    assert set(common) >= {"name", "priority", "message", "enabled"}
    # the editor's further common fields, under the rule schema's names
    assert {n: common[n]["kind"] for n in ("schedule", "parent_rule", "webhook_url")} == {
        "schedule": "windows",
        "parent_rule": "rule",
        "webhook_url": "text",
    }
    for f in common.values():
        assert f["label"]["en"] and f["label"]["zh"] and f["help"]["en"] and f["help"]["zh"]
    assert [t["type"] for t in body["types"] if t["stream"]] == ["threshold", "rate", "idle"]
    assert len(body["types"]) == len(catalog.TYPES)


def test_the_catalogs_field_kinds_are_a_closed_documented_list(client, admin_headers) -> None:  # noqa: ANN001
    """The kinds are the API's contract (a client draws its form from them): the OpenAPI
    schema enumerates them, each is described, and ``parent_rule`` is a ``rule`` (another
    rule's id, chosen from the rules), no longer a bare ``integer``."""
    kinds = list(get_args(catalog.Kind))
    assert list(catalog.KINDS) == kinds  # every kind described, in the same order
    schema = client.get("/openapi.json").json()["components"]["schemas"]["FieldSpecOut"]
    kind = schema["properties"]["kind"]
    assert kind["enum"] == kinds and "rule" in kind["enum"]
    assert "rule: another alarm rule's id" in kind["description"]
    body = client.get(f"{API}/alarm-rules/types", headers=admin_headers).json()
    served = [f for t in body["types"] for f in t["fields"]] + body["common"]
    assert {f["kind"] for f in served} == set(kinds)  # each kind used, none other
    assert [f["name"] for f in served if f["kind"] == "rule"] == ["parent_rule"]


def _try(client, h, body: dict, **params):  # noqa: ANN001, ANN202
    return client.post(
        f"{API}/alarm-rules/try", json=body, params={"end": END, **params}, headers=h
    )


def _plant(client, h, uid: str) -> str:  # noqa: ANN001
    """A kW gauge, 1-minute readings from 08:00 on 5 January 2026: 1 kW, with excursions to
    5 kW at 08:10 (one reading), 08:20-08:22 (three), 08:40 (one), a dip to 2.5 kW at 08:41
    and 5 kW again at 08:42, and 0 kW at 08:50."""
    code = meter(client, h, f"TRY-{uid}")
    values = [1.0] * 60
    for i in (10, 20, 21, 22, 40, 42):
        values[i] = 5.0
    values[41] = 2.5
    values[50] = 0.0
    post(client, h, code, minutes(values, start=T0))
    return code


def test_trying_a_rule_counts_what_the_engine_would_have_raised(client, admin_headers, uid) -> None:  # noqa: ANN001
    code = _plant(client, admin_headers, uid)
    base = {"name": "try me", "type": "threshold", "meter": code}
    r = _try(client, admin_headers, {**base, "high": 3})
    assert r.status_code == 200, r.text
    out = r.json()
    # above 3 kW: 08:10, 08:20 (until 08:22), 08:40, 08:42 (2.5 kW at 08:41 is back below)
    assert out["alarms"] == 4
    assert [datetime.fromisoformat(t) for t in out["raised_at"]] == [
        T0 + timedelta(minutes=m) for m in (10, 20, 40, 42)
    ]
    assert out["window"]["readings"] == 60 and out["window"]["days"] == 7
    assert datetime.fromisoformat(out["window"]["end"]) == datetime.fromisoformat(END)
    # a deadband of 1 kW: 2.5 kW is not back inside by 1 kW, so 08:40-08:42 is one alarm
    r = _try(client, admin_headers, {**base, "high": 3, "deadband": 1})
    assert r.json()["alarms"] == 3
    # an on-delay of 120 s: only 08:20-08:22 holds two minutes (raised at 08:22)
    r = _try(client, admin_headers, {**base, "high": 3, "on_delay_s": 120})
    assert r.json()["alarms"] == 1
    assert datetime.fromisoformat(r.json()["raised_at"][0]) == T0 + timedelta(minutes=22)
    # a low limit as well: 0 kW at 08:50 (conditions count apart)
    r = _try(client, admin_headers, {**base, "high": 3, "low": 0.5})
    assert r.json()["alarms"] == 5
    last = r.json()["raised"][-1]
    assert (last["condition"], last["value"]) == ("low", 0.0)
    assert datetime.fromisoformat(last["at"]) == T0 + timedelta(minutes=50)
    # limits in W: 3000 W is the same 3 kW
    r = _try(client, admin_headers, {**base, "high": 3000, "unit": "W"})
    assert r.json()["alarms"] == 4
    # one day back from END sees nothing (the readings are 16 h before END, inside a day)
    r = _try(client, admin_headers, {**base, "high": 3}, days=0.5)
    assert r.json()["alarms"] == 0 and r.json()["window"]["readings"] == 0
    # nothing was saved
    listed = client.get(f"{API}/alarm-rules", params={"meter": code}, headers=admin_headers)
    assert listed.json() == []


def test_trying_a_rate_rule_uses_its_window(client, admin_headers, uid) -> None:  # noqa: ANN001
    code = _plant(client, admin_headers, uid)
    # change over 60 s above 3 kW: 08:10 (+4), 08:20 (+4), 08:40 (+4), 08:42 (+2.5: no)
    body = {"name": "r", "type": "rate", "meter": code, "high": 3, "window_s": 60}
    r = _try(client, admin_headers, body)
    assert r.status_code == 200, r.text
    assert r.json()["alarms"] == 3


def test_trying_names_what_is_wrong(client, admin_headers, uid) -> None:  # noqa: ANN001
    code = meter(client, admin_headers, f"TRY4-{uid}")
    cases = [
        ({"name": "s", "type": "stale", "meter": code}, {}, "type", "stale"),
        ({"name": "r", "type": "rate", "meter": code, "high": 1}, {}, "window_s", "window_s"),
        ({"name": "t", "type": "threshold", "meter": code}, {}, "high", "high"),
        ({"name": "t", "type": "threshold", "meter": "NOPE"}, {}, "meter", "unknown meter"),
        ({"name": "t", "type": "threshold", "meter": code, "high": 1}, {"days": 40}, "days", ""),
        ({"name": "t", "type": "threshold", "meter": code, "high": 1, "window_s": 5}, {},
         "window_s", "not used by a threshold rule"),
        ({"name": "t", "type": "threshold", "meter": code, "high": 1, "on_delay_s": 1e12}, {},
         "on_delay_s", "at most 31 days"),
        ({"name": "t", "type": "threshold", "meter": code, "high": 1},
         {"end": "0001-01-02T00:00:00+00:00"}, "end", "outside the supported period"),
    ]  # fmt: skip
    for body, params, field, words in cases:
        r = _try(client, admin_headers, body, **params)
        assert r.status_code == 422, (body, r.text)
        assert field in r.text and words in r.text, (body, r.text)
    viewer_try = client.post(
        f"{API}/alarm-rules/try",
        json={"name": "t", "type": "threshold", "meter": code, "high": 1},
    )
    assert viewer_try.status_code == 401
