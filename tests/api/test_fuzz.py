"""Schemathesis over the whole API with an admin key, against a real uvicorn server: no answer
may be a 5xx, and every answer must match the published OpenAPI document (status code, content
type, body schema). Bounded: 25 examples per operation, about two minutes on two cores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from tests.support.live_server import LiveServer, new_key

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
def api_schema(fuzz_server: LiveServer):  # noqa: ANN201
    return schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_5xx_and_no_contract_violation(case, fuzz_headers: dict[str, str]) -> None:  # noqa: ANN001
    case.call_and_validate(headers=fuzz_headers, checks=CHECKS, timeout=30)
