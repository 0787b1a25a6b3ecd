"""Helpers shared by the alarm tests: meters, rules, readings through the real API."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

API = "/api/v1"
BASE = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3)


def meter(
    c: TestClient,
    h: dict,
    code: str,
    *,
    kind: str = "gauge",
    unit: str = "kW",
    interval_s: int = 60,
    site: str | None = None,
    parent: str | None = None,
    carrier: str = "electricity",
) -> str:
    site = site or f"{code}-SITE"
    r = c.post(f"{API}/sites", json={"code": site, "name": site}, headers=h)
    assert r.status_code in (201, 409), r.text
    r = c.post(
        f"{API}/meters",
        headers=h,
        json={
            "code": code,
            "name": code,
            "site": site,
            "carrier": carrier,
            "unit": unit,
            "kind": kind,
            "interval_s": interval_s,
            "parent": parent,
        },
    )
    assert r.status_code == 201, r.text
    return code


def rule(c: TestClient, h: dict, **body) -> dict:
    r = c.post(f"{API}/alarm-rules", json=body, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def post(c: TestClient, h: dict, code: str, points: Iterable[tuple[datetime, float]]) -> dict:
    r = c.post(
        f"{API}/readings",
        headers=h,
        json={"readings": [{"meter": code, "ts": ts.isoformat(), "value": v} for ts, v in points]},
    )
    assert r.status_code == 200, r.text
    return r.json()


def minutes(
    values: list[float], start: datetime = BASE, step_s: int = 60
) -> list[tuple[datetime, float]]:
    return [(start + timedelta(seconds=i * step_s), v) for i, v in enumerate(values)]


def settle(c: TestClient) -> None:
    engine = c.app.state.alarms
    assert engine.flush(20), "alarm evaluator did not catch up"
    assert engine.last_error is None, engine.last_error


def alarms_of(c: TestClient, h: dict, rule_id: int) -> dict[str, dict]:
    r = c.get(f"{API}/alarms", params={"state": "all", "rule": rule_id}, headers=h)
    assert r.status_code == 200, r.text
    return {a["condition"]: a for a in r.json()}


def history(c: TestClient, h: dict, alarm_id: int) -> list[dict]:
    r = c.get(f"{API}/alarms/{alarm_id}/history", headers=h)
    assert r.status_code == 200, r.text
    events = r.json()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    for prev, cur in zip(events, events[1:], strict=False):
        assert cur["from_state"] == prev["to_state"]
    return events


def wait_for(check: Callable[[], object], timeout_s: float = 10.0, step_s: float = 0.05):  # noqa: ANN201
    deadline = time.monotonic() + timeout_s
    while True:
        out = check()
        if out:
            return out
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(step_s)
