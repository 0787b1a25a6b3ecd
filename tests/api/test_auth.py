"""Sign-in, sessions, key lifecycle, the failed-authentication limit, the audit trail and the
site scope through the real API on the real PostgreSQL."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.app import create_app
from tests.support.accounts import PASSWORD, bearer, make_user, scoped_key, sign_in
from tests.support.alarms import meter, minutes, post, rule, settle

API = "/api/v1"


def test_sign_in_answers_token_expiry_and_who(client: TestClient, engine) -> None:  # noqa: ANN001
    login = make_user(engine, ["engineer"], name="Li Na")
    r = client.post(f"{API}/auth/login", json={"login": login, "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"token", "expires_at", "user"}
    assert body["user"] == {"login": login, "name": "Li Na", "roles": ["engineer"], "site": None}
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(hours=12) < expires - datetime.now(UTC) <= timedelta(hours=13)
    me = client.get(f"{API}/auth/me", headers=bearer(body["token"]))
    assert me.json() == {
        "login": login,
        "name": "Li Na",
        "roles": ["engineer"],
        "site": None,
        "kind": "session",
        "may": ["read", "write_readings", "configure"],
    }


def test_sign_out_ends_the_session(client: TestClient, engine) -> None:  # noqa: ANN001
    h = sign_in(client, make_user(engine, ["viewer"]))
    assert client.get(f"{API}/sites", headers=h).status_code == 200
    assert client.post(f"{API}/auth/logout", headers=h).status_code == 204
    assert client.get(f"{API}/sites", headers=h).status_code == 401


def test_wrong_password_is_401_then_locked_with_retry_after(client: TestClient, engine) -> None:  # noqa: ANN001
    login = make_user(engine, ["viewer"])
    for _ in range(5):  # ECC_LOGIN_LOCKOUT_AFTER
        r = client.post(f"{API}/auth/login", json={"login": login, "password": "wrong-wrong"})
        assert r.status_code == 401
    r = client.post(f"{API}/auth/login", json={"login": login, "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    unknown = client.post(f"{API}/auth/login", json={"login": "nobody-here", "password": "x"})
    assert unknown.status_code == 401  # the same answer as a wrong password


@pytest.mark.parametrize(
    ("body", "field"), [({"login": "a"}, "password"), ({"password": "a"}, "login")]
)
def test_bad_sign_in_body_names_the_field(client: TestClient, body: dict, field: str) -> None:
    r = client.post(f"{API}/auth/login", json=body)
    assert r.status_code == 422
    assert any(e["loc"][-1] == field for e in r.json()["detail"])


def test_revoked_key_is_refused_within_a_second(
    client: TestClient, admin_headers: dict, uid: str
) -> None:
    r = client.post(
        f"{API}/keys", json={"name": f"k-{uid}", "role": "viewer"}, headers=admin_headers
    )
    key = bearer(r.json()["secret"])
    assert client.get(f"{API}/sites", headers=key).status_code == 200  # now cached
    r = client.post(f"{API}/keys/k-{uid}/revoke", headers=admin_headers)
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    revoked = time.monotonic()
    while True:
        # timed when asked, not when answered: a slow answer on a loaded machine to a request
        # made in time is no late acceptance
        asked = time.monotonic()
        if client.get(f"{API}/sites", headers=key).status_code != 200:
            break
        assert asked - revoked < 1.2, "revoked key still accepted"
        time.sleep(0.05)
    listed = {k["name"]: k for k in client.get(f"{API}/keys", headers=admin_headers).json()}
    assert listed[f"k-{uid}"]["last_used_at"] is not None


def test_expired_key_is_refused(client: TestClient, engine) -> None:  # noqa: ANN001
    past = scoped_key(engine, "viewer", expires_at=datetime(2020, 1, 1, tzinfo=UTC))
    future = scoped_key(engine, "viewer", expires_at=datetime(2999, 1, 1, tzinfo=UTC))
    assert client.get(f"{API}/sites", headers=bearer(past)).status_code == 401
    assert client.get(f"{API}/sites", headers=bearer(future)).status_code == 200


def test_wrong_keys_are_not_cached(client: TestClient) -> None:
    cache = client.app.state.ecc.credentials.cache
    before = len(cache)
    for _ in range(200):
        junk = bearer("ecc_" + uuid.uuid4().hex * 200)  # 6.4 KB each
        assert client.get(f"{API}/sites", headers=junk).status_code == 401
    assert len(cache) <= before


def test_failed_authentication_is_limited_per_address(settings) -> None:  # noqa: ANN001
    limited = settings.model_copy(update={"auth_fail_limit": 3, "auth_fail_window_s": 60.0})
    with TestClient(create_app(limited)) as c:
        for _ in range(3):
            assert c.get(f"{API}/sites", headers=bearer("ecc_wrong")).status_code == 401
        r = c.get(f"{API}/sites", headers=bearer("ecc_wrong"))
        assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= 61
        r = c.post(f"{API}/auth/login", json={"login": "x", "password": "y"})
        assert r.status_code == 429


def test_behind_a_trusted_proxy_failures_count_per_browser(settings) -> None:  # noqa: ANN001
    """The dashboard forwards each browser's address: one browser's failures do not lock
    the dashboard out for everyone."""
    proxied = settings.model_copy(
        update={"auth_fail_limit": 2, "auth_fail_window_s": 60.0, "trusted_proxies": "testclient"}
    )
    with TestClient(create_app(proxied)) as c:
        a = {**bearer("ecc_wrong"), "X-Forwarded-For": "10.0.0.7"}
        b = {**bearer("ecc_wrong"), "X-Forwarded-For": "10.0.0.8"}
        assert [c.get(f"{API}/sites", headers=a).status_code for _ in range(3)] == [401, 401, 429]
        assert c.get(f"{API}/sites", headers=b).status_code == 401
    with TestClient(create_app(proxied.model_copy(update={"trusted_proxies": ""}))) as c:
        # from an untrusted peer the header is ignored: it cannot dodge the limit
        for i in range(3):
            h = {**bearer("ecc_wrong"), "X-Forwarded-For": f"10.0.1.{i}"}
            last = c.get(f"{API}/sites", headers=h).status_code
        assert last == 429


def test_every_write_is_on_the_record(client: TestClient, engine, uid: str) -> None:  # noqa: ANN001
    auditor = sign_in(client, make_user(engine, ["auditor"]))
    eng_login = make_user(engine, ["engineer"], name="Zhang San")
    eng = sign_in(client, eng_login)
    r = client.post(
        f"{API}/sites",
        json={"code": f"AUD-{uid}", "name": "Plant"},
        headers={**eng, "X-Request-ID": f"req-{uid}"},
    )
    assert r.status_code == 201 and r.headers["x-request-id"] == f"req-{uid}"
    code = meter(client, eng, f"AUDM-{uid}", site=f"AUD-{uid}")
    rid = rule(client, eng, name=f"r {uid}", meter=code, type="threshold", high=100)["id"]
    r = client.patch(f"{API}/alarm-rules/{rid}", json={"high": 120}, headers=eng)
    assert r.status_code == 200, r.text
    rows = client.get(f"{API}/audit", params={"entity": "site"}, headers=auditor).json()
    site_row = next(x for x in rows if x["entity_id"] == f"AUD-{uid}")
    assert site_row["actor"] == "Zhang San" and site_row["actor_login"] == eng_login
    assert site_row["action"] == "create" and site_row["request_id"] == f"req-{uid}"
    assert site_row["before"] is None and site_row["after"]["name"] == "Plant"
    rows = client.get(f"{API}/audit", params={"entity": "alarm_rule"}, headers=auditor).json()
    change = next(x for x in rows if x["entity_id"] == str(rid) and x["action"] == "update")
    assert change["before"]["high"] == 100 and change["after"]["high"] == 120
    csv = client.get(f"{API}/audit", params={"format": "csv", "entity": "meter"}, headers=auditor)
    assert csv.headers["content-type"].startswith("text/csv")
    assert code in csv.text and csv.text.splitlines()[0].startswith("id,at,actor")
    assert client.get(f"{API}/audit", headers=eng).status_code == 403  # engineers cannot read it
    assert (
        client.post(f"{API}/sites", json={"code": "x", "name": "x"}, headers=auditor).status_code
        == 403
    )


def test_secrets_never_reach_the_audit_trail(
    client: TestClient, admin_headers: dict, uid: str
) -> None:
    body = {"login": f"p{uid}", "roles": ["viewer"], "password": "a very long password"}
    assert client.post(f"{API}/users", json=body, headers=admin_headers).status_code == 201
    rows = client.get(
        f"{API}/audit", params={"entity": "app_user", "entity_id": f"p{uid}"}, headers=admin_headers
    ).json()
    assert rows and rows[0]["after"]["password_hash"] == "***"


def test_the_audit_trail_is_append_only(engine) -> None:  # noqa: ANN001
    with engine.connect() as conn:
        for sql in (
            "UPDATE audit_log SET actor = 'x'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text(sql))
            conn.rollback()


def test_alarm_actions_carry_the_persons_name(
    client: TestClient, engine, admin_headers, uid
) -> None:  # noqa: ANN001
    code = meter(client, admin_headers, f"ACK-{uid}")
    rid = rule(client, admin_headers, name=f"a {uid}", meter=code, type="threshold", high=100)["id"]
    post(client, admin_headers, code, minutes([50, 130]))
    settle(client)
    alarm = client.get(f"{API}/alarms", params={"rule": rid}, headers=admin_headers).json()[0]
    eng = sign_in(client, make_user(engine, ["engineer"], name="Chen Jing"))
    r = client.post(f"{API}/alarms/{alarm['id']}/ack", json={"comment": "seen"}, headers=eng)
    assert r.status_code == 200 and r.json()["acked_by"] == "Chen Jing"
    history = client.get(f"{API}/alarms/{alarm['id']}/history", headers=eng).json()
    assert history[-1]["user"] == "Chen Jing"
    rows = client.get(
        f"{API}/audit",
        params={"entity": "alarm", "entity_id": str(alarm["id"])},
        headers=admin_headers,
    ).json()
    assert rows[0]["action"] == "ack" and rows[0]["actor"] == "Chen Jing"
    assert rows[0]["before"]["acknowledged"] is False and rows[0]["after"]["acknowledged"] is True
    metrics = client.get(f"{API}/alarms/metrics", headers=eng).json()
    assert metrics["people_acting"] >= 1  # distinct people who acted on alarms in the window


@pytest.fixture
def two_plants(client: TestClient, admin_headers: dict, uid: str) -> dict[str, str]:
    """Plant A with a workshop below it, plant B; a meter with an active alarm in each."""
    out = {}
    for p in ("A", "B"):
        site = f"P{p}-{uid}"
        r = client.post(f"{API}/sites", json={"code": site, "name": site}, headers=admin_headers)
        assert r.status_code == 201
        out[p] = site
    ws = f"PA-WS-{uid}"
    r = client.post(
        f"{API}/sites", json={"code": ws, "name": ws, "parent": out["A"]}, headers=admin_headers
    )
    assert r.status_code == 201
    out["WS"] = ws
    for p, site in (("A", ws), ("B", out["B"])):
        code = meter(client, admin_headers, f"M{p}-{uid}", site=site)
        rid = rule(client, admin_headers, name=f"{p} {uid}", meter=code, type="threshold", high=1)[
            "id"
        ]
        post(client, admin_headers, code, minutes([5]))
        out[f"meter{p}"], out[f"rule{p}"] = code, str(rid)
    settle(client)
    for p in ("A", "B"):
        alarms = client.get(
            f"{API}/alarms", params={"rule": out[f"rule{p}"]}, headers=admin_headers
        ).json()
        out[f"alarm{p}"] = str(alarms[0]["id"])
    return out


def test_a_scoped_engineer_sees_and_changes_only_their_plant(
    client: TestClient,
    engine,
    two_plants: dict,  # noqa: ANN001
) -> None:
    t = two_plants
    h = sign_in(client, make_user(engine, ["engineer"], site=t["A"]))
    sites = {s["code"] for s in client.get(f"{API}/sites", headers=h).json()}
    assert sites == {t["A"], t["WS"]}
    meters = {m["code"] for m in client.get(f"{API}/meters", headers=h).json()}
    assert t["meterA"] in meters and t["meterB"] not in meters
    alarms = {str(a["id"]) for a in client.get(f"{API}/alarms", headers=h).json()}
    assert t["alarmA"] in alarms and t["alarmB"] not in alarms
    assert client.get(f"{API}/meters/{t['meterB']}", headers=h).status_code == 404
    assert client.get(f"{API}/meters/{t['meterA']}", headers=h).status_code == 200
    assert client.post(f"{API}/alarms/{t['alarmB']}/ack", headers=h).status_code == 404
    assert client.post(f"{API}/alarms/{t['alarmA']}/ack", headers=h).status_code == 200
    body = {
        "code": f"X-{t['B']}",
        "name": "x",
        "site": t["B"],
        "carrier": "electricity",
        "unit": "kWh",
        "kind": "delta",
    }
    assert client.post(f"{API}/meters", json=body, headers=h).status_code == 403
    assert (
        client.post(f"{API}/sites", json={"code": "root", "name": "r"}, headers=h).status_code
        == 403
    )
    ts = "2026-03-02T06:00:00+08:00"
    readings = [{"meter": t["meterB"], "ts": ts, "value": 1.0}]
    readings.append({"meter": t["meterA"], "ts": ts, "value": 1.0})
    r = client.post(f"{API}/readings", json={"readings": readings}, headers=h)
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    assert len(r.json()["rejected"]) == 1 and t["meterB"] in str(r.json()["rejected"])


def test_display_token_shows_one_site_and_cannot_act(
    client: TestClient, admin_headers: dict, two_plants: dict
) -> None:
    t = two_plants
    r = client.post(f"{API}/displays", json={"site": t["A"]}, headers=admin_headers)
    assert r.status_code == 201 and r.json()["secret"].startswith("ecd_")
    wall = bearer(r.json()["secret"])
    assert client.get(f"{API}/meters/{t['meterA']}", headers=wall).status_code == 200
    assert client.get(f"{API}/meters/{t['meterB']}", headers=wall).status_code == 404
    assert client.post(f"{API}/alarms/{t['alarmA']}/ack", headers=wall).status_code == 403
    me = client.get(f"{API}/auth/me", headers=wall).json()
    assert me["kind"] == "display" and me["roles"] == ["viewer"] and me["site"] == t["A"]
    assert me["may"] == ["read"]


def test_security_headers_and_local_docs(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'self'" in r.headers["content-security-policy"]
    assert r.headers["referrer-policy"] == "no-referrer"
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text.lower()
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
