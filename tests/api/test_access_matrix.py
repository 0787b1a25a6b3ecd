"""The access matrix, generated from the OpenAPI document: every operation × every role ×
inside/outside a site scope × no credentials, an expired key, a revoked key.

The *policy* below says who may do what by kind of operation (it is the specification); the
*routes* come from the running app, so a new route is checked the day it appears, and a route
no rule covers fails the test.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accounts import keys
from tests.support.accounts import bearer, make_user, scoped_key, sign_in
from tests.support.alarms import meter, minutes, post, rule, settle

API = "/api/v1"
READ = {"viewer", "engineer", "manager", "admin", "auditor"}
ROLES = sorted(r.value for r in keys.Role)
PUBLIC = {("POST", "/api/v1/auth/login"), ("GET", "/healthz")}
ANY_CALLER = {("POST", "/api/v1/auth/logout"), ("GET", "/api/v1/auth/me")}
ESTATE = ("/api/v1/users", "/api/v1/keys", "/api/v1/displays")
DATA_ENTRY = (
    "/api/v1/tariffs",  # incl. /tariffs/{code}/event-days
    "/api/v1/sites/{code}/tariff",
    "/api/v1/prices",
    "/api/v1/bills",
    "/api/v1/budgets",
    "/api/v1/carbon-assets",
    "/api/v1/reductions",
    "/api/v1/recommendations/{rec_id}",
)
ESTATE_WRITES = (
    "/api/v1/factors",
    "/api/v1/carbon/recalculations",
    "/api/v1/tariffs/{code}/event-days",
    "/api/v1/tariffs/{code}/event-days/{day}",
)
ASSET_USE = (
    "/api/v1/carbon-assets/{asset_id}/",
    "/api/v1/ets/verified-emissions",
    "/api/v1/zero-carbon/thresholds",
)

ALARM_WORK = {
    ("POST", "/api/v1/alarm-rules/try"),
    ("POST", "/api/v1/alarms/{alarm_id}/comment"),
}
# GET /api/v1/alarm-rules/types and /api/v1/alarms/events are reads (READ)


def allowed(method: str, path: str) -> set[str]:
    """Who may call an operation (the policy of the README's API contract)."""
    if (method, path) in ANY_CALLER:
        return set(ROLES)
    if path.startswith(ESTATE):
        return {"admin"}
    if path == "/api/v1/audit":
        return {"admin", "auditor"}
    if method == "GET":
        return READ
    if path in ("/api/v1/readings", "/api/v1/collectors/health"):  # what collectors send
        return {"ingest", "engineer", "admin"}
    if path == "/api/v1/exogenous":  # weather feeds (ingest keys) and plans (people)
        return {"ingest", "engineer", "manager", "admin"}
    if path in ("/api/v1/factors", "/api/v1/carbon/recalculations", "/api/v1/readings/void"):
        return {"admin"}
    if path in ("/api/v1/activity", "/api/v1/production", "/api/v1/green-certificates"):
        return {"engineer", "manager", "admin"}
    if (method, path) in ALARM_WORK:  # trying a rule, commenting an alarm: the console's work
        return {"engineer", "admin"}
    if path.startswith(ASSET_USE):  # retiring, surrendering, selling, compliance, thresholds
        return {"manager", "admin"}
    if path.startswith(DATA_ENTRY):  # tariffs, prices, bills, budgets, the ledger, reductions
        return {"engineer", "manager", "admin"}
    return {"engineer", "admin"}  # configuration and alarm actions


def operations(client: TestClient) -> list[tuple[str, str, dict]]:
    ops = []
    for path, item in client.app.openapi()["paths"].items():
        for method, op in item.items():
            ops.append((method.upper(), path, op))
    # deletions last: an allowed one may remove what the others address
    return sorted(ops, key=lambda o: (o[0] == "DELETE", o[1], o[0]))


def dummy(schema: dict) -> object:
    schema = schema.get("anyOf", [schema])[0]
    if schema.get("format") == "date-time":
        return "2026-01-01T00:00:00+00:00"
    if schema.get("format") == "date":
        return "2026-01-01"
    if "enum" in schema:
        return schema["enum"][0]
    return {"integer": 1, "number": 1, "boolean": "true"}.get(schema.get("type"), "x")


def request_for(op: dict, path: str, subject: dict[str, object]) -> tuple[str, dict]:
    url = path
    for name in re.findall(r"{(\w+)}", path):
        url = url.replace(f"{{{name}}}", str(subject.get(name, 999_999_999)))
    params = {}
    for p in op.get("parameters", []):
        if p["in"] != "query":
            continue
        if p["name"] in subject:
            params[p["name"]] = subject[p["name"]]
        elif p.get("required"):
            params[p["name"]] = dummy(p.get("schema", {}))
    return url, params


def call(client: TestClient, method: str, url: str, params: dict, headers: dict, body: dict):  # noqa: ANN201
    kw = {"json": body} if method in ("POST", "PUT", "PATCH") else {}
    return client.request(method, url, params=params, headers=headers, **kw)


@pytest.fixture(scope="module")
def callers(client: TestClient, engine, admin_headers: dict) -> dict[str, dict]:  # noqa: ANN001
    out = {role: bearer(scoped_key(engine, role)) for role in ROLES}
    out["none"] = {}
    out["garbage"] = bearer("ecc_00000000_not-a-key")
    out["expired"] = bearer(
        scoped_key(engine, "admin", expires_at=datetime(2020, 1, 1, tzinfo=UTC))
    )
    revoked_name = f"revoked-{id(out)}"
    with Session(engine) as s:
        secret = keys.create_key(s, "admin", revoked_name)
        keys.revoke_key(s, revoked_name, datetime(2026, 1, 1, tzinfo=UTC))
        s.commit()
    out["revoked"] = bearer(secret)
    return out


def test_every_operation_for_every_role_and_no_or_dead_credentials(
    client: TestClient, callers: dict[str, dict]
) -> None:
    problems, checked = [], 0
    for method, path, op in operations(client):
        url, params = request_for(op, path, {})
        checked += 1
        for who, headers in callers.items():
            r = call(client, method, url, params, headers, {})
            public = (method, path) in PUBLIC
            if who in ("none", "garbage", "expired", "revoked"):
                ok = r.status_code != 401 if public else r.status_code == 401
            elif public or who in allowed(method, path):
                ok = r.status_code not in (401, 403)
            else:
                ok = r.status_code == 403
            if not ok:
                problems.append(f"{method} {path} as {who}: {r.status_code} {r.text[:120]}")
    assert problems == []
    assert checked >= 45  # the app's whole contract, not a sample


@pytest.fixture(scope="module")
def estate(client: TestClient, admin_headers: dict) -> dict[str, dict[str, object]]:
    """Two plants, each with a meter, a rule and an active alarm: what the matrix addresses."""
    import uuid

    uid = uuid.uuid4().hex[:6]
    out: dict[str, dict[str, object]] = {}
    for p in ("A", "B"):
        site = f"MX{p}-{uid}"
        code = meter(client, admin_headers, f"MXM{p}-{uid}", site=site)
        rid = rule(
            client, admin_headers, name=f"mx {p} {uid}", meter=code, type="threshold", high=1
        )
        post(client, admin_headers, code, minutes([5]))
        settle(client)
        alarm = client.get(f"{API}/alarms", params={"rule": rid["id"]}, headers=admin_headers)
        out[p] = {
            "site": site,
            "meter": code,
            "rule_id": rid["id"],
            "alarm_id": alarm.json()[0]["id"],
            "code": None,  # per path: a site's or a meter's code
        }
    return out


def _subject(path: str, s: dict[str, object]) -> dict[str, object]:
    subject = dict(s)
    subject["code"] = s["site"] if path.startswith("/api/v1/sites/") else s["meter"]
    return subject


def _names_a_subject(path: str, op: dict) -> bool:
    query = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
    return bool(re.search(r"{(code|alarm_id|rule_id)}", path) or query & {"site", "meter"})


@pytest.mark.parametrize("kind", ["engineer session", "admin key", "viewer key", "display"])
def test_a_scoped_credential_reaches_inside_and_never_outside(
    client: TestClient,
    engine,
    estate: dict,
    kind: str,  # noqa: ANN001
) -> None:
    site = estate["A"]["site"]
    if kind == "engineer session":
        headers, role = sign_in(client, make_user(engine, ["engineer"], site=site)), "engineer"
    elif kind == "display":
        r = client.post(
            f"{API}/displays", json={"site": site}, headers=bearer(scoped_key(engine, "admin"))
        )
        headers, role = bearer(r.json()["secret"]), "viewer"
    else:
        role = kind.split()[0]
        headers = bearer(scoped_key(engine, role, site=site))
    problems, checked = [], 0
    for method, path, op in operations(client):
        if (method, path) in PUBLIC | ANY_CALLER or role not in allowed(method, path):
            continue
        if (
            path.startswith(ESTATE)
            or path in ESTATE_WRITES  # every site on the tariff, the whole library …
            and method != "GET"
        ):
            r = call(client, method, path, {}, headers, {})
            if r.status_code != 403:
                problems.append(f"{method} {path} estate-wide: {r.status_code}")
            continue
        if not _names_a_subject(path, op) and method == "GET":
            continue
        for where, s in (("outside", estate["B"]), ("inside", estate["A"])):
            subject = _subject(path, s)
            url, params = request_for(op, path, subject)
            body = {"site": s["site"], "meter": s["meter"], "parent": s["site"]}
            if path == "/api/v1/readings":  # checked reading by reading: the outside one fails
                reading = {"meter": s["meter"], "ts": "2026-03-02T06:00:00+08:00", "value": 1}
                r = call(client, method, url, params, headers, {"readings": [reading]})
                stored = r.json()["accepted"] + r.json()["duplicates"] if r.is_success else 0
                if stored != (1 if where == "inside" else 0):
                    problems.append(f"{method} {path} {where}: {r.status_code} {r.text[:100]}")
                checked += 1
                continue
            r = call(client, method, url, params, headers, body)
            checked += 1
            if where == "outside" and r.status_code not in (403, 404):
                problems.append(f"{method} {path} outside: {r.status_code} {r.text[:100]}")
            if (
                where == "inside"
                and r.status_code in (401, 403)
                or (where == "inside" and r.status_code == 404 and "here" in r.text)
            ):
                problems.append(f"{method} {path} inside: {r.status_code} {r.text[:100]}")
    assert problems == []
    assert checked >= (20 if role == "viewer" else 40)
