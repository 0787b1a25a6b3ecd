"""Collector health at the center: reports in, devices offline, automatic collection rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from collectors import center
from core.errors import Invalid

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # pinned


def _report(name: str, codes: list[str], online: bool = True) -> dict:
    return {
        "collector": name,
        "report_every_s": 30,
        "devices": [
            {
                "name": "pm1",
                "protocol": "modbus_tcp",
                "online": online,
                "poll_s": 1,
                "points": [
                    {
                        "meter": c,
                        "last_good": (NOW - timedelta(seconds=2)).timestamp(),
                        "reads": 5,
                        "errors": {"timeout": 1, "bad_value": 2},
                    }
                    for c in codes
                ],
            }
        ],
    }


def test_devices_go_offline_when_they_say_so_or_stop_reporting(session, uid) -> None:
    center.record_health(session, _report(f"gw-{uid}", ["A", "B"]), NOW)
    center.record_health(session, _report(f"gw2-{uid}", ["C"], online=False), NOW)
    session.flush()
    mine = {d["collector"]: d for d in center.devices(session, NOW + timedelta(seconds=60))}
    assert mine[f"gw-{uid}"]["online"] and mine[f"gw-{uid}"]["points"] == 2
    assert mine[f"gw-{uid}"]["errors"] == {"timeout": 2, "exception": 0, "bad_value": 4}
    assert not mine[f"gw2-{uid}"]["online"]
    later = {d["collector"]: d for d in center.devices(session, NOW + timedelta(seconds=91))}
    assert later[f"gw-{uid}"]["stale"] and not later[f"gw-{uid}"]["online"]  # > max(90, 3 × 30)
    # a new report replaces the collector's previous one (a point removed from its config)
    center.record_health(session, _report(f"gw-{uid}", ["A"]), NOW)
    again = {d["collector"]: d for d in center.devices(session, NOW)}
    assert again[f"gw-{uid}"]["points"] == 1
    session.rollback()


def test_collection_rate_counts_points_with_stored_readings(client, admin_headers, plant, uid):
    codes = [plant["counter"], plant["delta"], plant["gauge"]]
    r = client.post(
        "/api/v1/collectors/health", json=_report(f"gw-{uid}", codes), headers=admin_headers
    )
    assert r.status_code == 200 and r.json()["points"] == 3
    t = "2026-05-01T00:15:00+00:00"  # stamped at the end of its interval
    r = client.post(
        "/api/v1/readings",
        json={
            "readings": [
                {"meter": plant["counter"], "ts": t, "value": 10},
                {"meter": plant["gauge"], "ts": t, "value": 3},
            ]
        },
        headers=admin_headers,
    )
    assert r.json()["accepted"] == 2
    q = {"site": plant["site"], "start": "2026-05-01T00:00:00Z", "end": "2026-05-02T00:00:00Z"}
    body = client.get("/api/v1/collection-rate", params=q, headers=admin_headers).json()
    assert (body["points_configured"], body["points_reporting"]) == (3, 2)
    assert body["rate"] == pytest.approx(2 / 3)
    assert body["not_reporting"] == [plant["delta"]] and body["basis"] == "collector_points"
    q["start"] = t  # (start, end]: a reading stamped at the start belongs to the period before
    assert (
        client.get("/api/v1/collection-rate", params=q, headers=admin_headers).json()["rate"] == 0
    )
    devices = client.get("/api/v1/collectors/devices", headers=admin_headers).json()
    assert any(d["collector"] == f"gw-{uid}" for d in devices)


def test_bad_reports_name_the_field(client, admin_headers, uid) -> None:
    bad = _report(f"gw-{uid}", ["A"])
    bad["devices"][0]["poll_s"] = 0
    r = client.post("/api/v1/collectors/health", json=bad, headers=admin_headers)
    assert r.status_code == 422 and "poll_s" in r.text
    q = {"site": "NOPE", "start": "2026-05-02T00:00:00Z", "end": "2026-05-01T00:00:00Z"}
    assert client.get("/api/v1/collection-rate", params=q, headers=admin_headers).status_code in (
        404,
        422,
    )
    with pytest.raises(Invalid, match="end"):
        center.collection_rate(None, "X", NOW, NOW)  # type: ignore[arg-type]
