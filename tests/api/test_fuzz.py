"""Schemathesis over the whole API with an admin key, against a real uvicorn server: no answer
may be a 5xx, and every answer must match the published OpenAPI document (status code, content
type, body schema). Every operation runs schemathesis' deterministic coverage cases (boundary
values of every field) and random ones: 12 for an operation that takes a request body, 6 for
one that takes only path and query parameters (a few values each, where more mostly repeat).
``ECC_FUZZ_EXAMPLES=N`` runs N and N // 2 instead, for a longer run by hand. One kept-alive HTTP
session for every case. Each test runs its operations as subtests of one pytest item, so each
has its own time limit, not the 300 s per test (on a loaded CI box the whole API once took
longer)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from tests.support.live_server import LiveServer, new_key

BODY_EXAMPLES = int(os.environ.get("ECC_FUZZ_EXAMPLES", "12"))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx, value):  # noqa: ANN001, ANN202
    rows = value if isinstance(value, list) else [value]
    return "\n".join(json.dumps(r) for r in rows).encode()


@pytest.fixture(scope="module")
def fuzz_server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {
        "ECC_ALARM_ENGINE": "false",
        "ECC_WRITE_WAIT_S": "10",
        "ECC_AUTH_FAIL_LIMIT": "1000000",  # one client sends every case: no per-address limit
        "ECC_LOGIN_LOCKOUT_AFTER": "1000000",
    }
    with LiveServer(db_url, Path(tmp_path_factory.mktemp("fuzz")), env=env) as srv:
        yield srv


@pytest.fixture(scope="module")
def fuzz_headers(engine) -> dict[str, str]:  # noqa: ANN001
    return {"Authorization": f"Bearer {new_key(engine, 'admin')[1]}"}


@pytest.fixture(scope="module")
def fuzz_http() -> Iterator[requests.Session]:
    """One HTTP session for every case: kept-alive connections, not a new one per request."""
    with requests.Session() as s:
        yield s


@pytest.fixture(scope="module")
def api_schema(fuzz_server: LiveServer):  # noqa: ANN201
    return schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


def _has_body(ctx) -> bool:  # noqa: ANN001
    """An operation that takes a request body, from its OpenAPI definition."""
    return "requestBody" in ctx.operation.definition.raw


def _check(case, headers: dict[str, str], http: requests.Session) -> None:  # noqa: ANN001
    case.call_and_validate(session=http, headers=headers, checks=CHECKS, timeout=30)


@schema.include(func=_has_body).parametrize()
@settings(
    max_examples=BODY_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.timeout(900)
def test_no_5xx_and_no_contract_violation(
    case,  # noqa: ANN001
    fuzz_headers: dict[str, str],
    fuzz_http: requests.Session,
) -> None:
    _check(case, fuzz_headers, fuzz_http)


@schema.exclude(func=_has_body).parametrize()
@settings(
    max_examples=max(1, BODY_EXAMPLES // 2),
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.timeout(900)
def test_no_5xx_and_no_contract_violation_without_a_body(
    case,  # noqa: ANN001
    fuzz_headers: dict[str, str],
    fuzz_http: requests.Session,
) -> None:
    _check(case, fuzz_headers, fuzz_http)
