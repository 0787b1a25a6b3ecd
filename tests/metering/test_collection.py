"""The automatic collection rate, hand-counted: one rule (``metering.collection``) behind the
API's ``/collection-rate`` (``collectors.center``) and the scorecard's ``auto_collection_rate``.

A plant P with a workshop W: meters P1, P2 (gauge) in P and W1, W2 in W. Readings in
(00:00, 01:00]: P1 at 00:15, W1 at 01:00 (the end is inside), W2 at 00:00 (the start is not).
Without collectors every meter is a point: P → 2 of 4 (P1, W1), W → 1 of 2 (W1). Then a
collector reports points W1, W2 (W2 twice, on two devices) and X-UNKNOWN (no such meter):
W → 1 of 2 still (collector points W1, W2), P → 1 of 2 (collector points only: P1, P2 are not
collector points once the subtree has a collector).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from assets import scorecard
from collectors import center
from core.errors import Invalid, NotFound
from metering import collection

T0 = datetime(2026, 5, 1, tzinfo=UTC)
T1 = datetime(2026, 5, 1, 1, tzinfo=UTC)
API = "/api/v1"


def _site(client: TestClient, h: dict, code: str, parent: str | None = None) -> None:
    r = client.post(f"{API}/sites", json={"code": code, "name": code, "parent": parent}, headers=h)
    assert r.status_code == 201, r.text


def _meter(client: TestClient, h: dict, code: str, site: str, kind: str = "delta") -> None:
    unit = "kW" if kind == "gauge" else "kWh"
    body = {"code": code, "name": code, "site": site, "carrier": "electricity", "unit": unit}
    r = client.post(f"{API}/meters", json={**body, "kind": kind, "interval_s": 900}, headers=h)
    assert r.status_code == 201, r.text


@pytest.fixture
def plant(client: TestClient, admin_headers: dict, uid: str) -> dict[str, str]:
    c = {k: f"{k}-{uid}" for k in ("P", "W", "P1", "P2", "W1", "W2")}
    _site(client, admin_headers, c["P"])
    _site(client, admin_headers, c["W"], c["P"])
    _meter(client, admin_headers, c["P1"], c["P"])
    _meter(client, admin_headers, c["P2"], c["P"], "gauge")
    _meter(client, admin_headers, c["W1"], c["W"])
    _meter(client, admin_headers, c["W2"], c["W"])
    rows = [
        (c["P1"], "2026-05-01T00:15:00+00:00"),
        (c["W1"], "2026-05-01T01:00:00+00:00"),
        (c["W2"], "2026-05-01T00:00:00+00:00"),
    ]
    r = client.post(
        f"{API}/readings",
        json={"readings": [{"meter": m, "ts": ts, "value": 1.0} for m, ts in rows]},
        headers=admin_headers,
    )
    assert r.json()["accepted"] == 3, r.text
    return c


def test_without_collectors_every_meter_is_a_point(session: Session, plant: dict) -> None:
    p = collection.collection_rate(session, plant["P"], T0, T1)
    assert (p.basis, p.configured, p.reporting, p.rate) == ("meters", 4, 2, 0.5)
    assert p.not_reporting == sorted([plant["P2"], plant["W2"]])
    w = collection.collection_rate(session, plant["W"], T0, T1)
    assert (w.configured, w.reporting, w.rate, w.not_reporting) == (2, 1, 0.5, [plant["W2"]])


def test_collector_points_replace_meters_and_count_once(
    client: TestClient, admin_headers: dict, session: Session, plant: dict, uid: str
) -> None:
    def point(code: str) -> dict:
        return {"meter": code, "reads": 1}

    report = {
        "collector": f"gw-{uid}",
        "report_every_s": 30,
        "devices": [
            {"name": "a", "protocol": "modbus_tcp", "online": True, "poll_s": 1,
             "points": [point(plant["W1"]), point(plant["W2"]), point(f"X-UNKNOWN-{uid}")]},
            {"name": "b", "protocol": "modbus_tcp", "online": True, "poll_s": 1,
             "points": [point(plant["W2"])]},
        ],
    }  # fmt: skip
    r = client.post(f"{API}/collectors/health", json=report, headers=admin_headers)
    assert r.status_code == 200, r.text
    p = collection.collection_rate(session, plant["P"], T0, T1)
    assert (p.basis, p.configured, p.reporting, p.rate) == ("collector_points", 2, 1, 0.5)
    assert p.not_reporting == [plant["W2"]]
    # the API and the scorecard give the same figure (one rule)
    api = center.collection_rate(session, plant["P"], T0, T1)
    assert (api["points_configured"], api["points_reporting"], api["rate"]) == (2, 1, 0.5)
    q = {"site": plant["P"], "start": T0.isoformat(), "end": T1.isoformat()}
    body = client.get(f"{API}/collection-rate", params=q, headers=admin_headers).json()
    assert (body["basis"], body["points_configured"], body["points_reporting"]) == (
        "collector_points",
        2,
        1,
    )


def test_the_scorecard_indicator_is_the_same_rule(session: Session, plant: dict) -> None:
    card = scorecard.scorecard(session, plant["P"], 2026, served_paths=[])
    ind = next(i for i in card["indicators"] if i["code"] == "auto_collection_rate")
    whole_year = collection.collection_rate(
        session,
        plant["P"],
        datetime(2025, 12, 31, 16, tzinfo=UTC),
        datetime(2026, 12, 31, 16, tzinfo=UTC),
    )
    # the year (Asia/Shanghai) holds all three readings: P1, W1, W2 report, P2 (gauge) not
    assert (whole_year.configured, whole_year.reporting) == (4, 3)
    assert ind["value"] == pytest.approx(75.0)
    assert ind["evidence"]["configured"] == 4 and ind["evidence"]["reporting"] == 3


def test_bad_periods_and_sites(session: Session) -> None:
    with pytest.raises(Invalid, match="after start"):
        collection.collection_rate(session, "ANY", T1, T0)
    with pytest.raises(NotFound):
        collection.collection_rate(session, "NO-SUCH-SITE", T0, T1)
