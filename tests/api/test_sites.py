"""Sites through the API: each site's own clock.

Four sites with the same readings (0.25 kWh every 15 minutes, stamped at the interval end, from
2025-03-29 00:15 to 2025-04-01 00:00 UTC: 288 readings). ``GET /meters/{code}/series?
resolution=1d`` must return days that start at the local midnight of the meter's site, with
the readings of (midnight, next midnight], by hand:

- Asia/Shanghai (+8, midnight 16:00 UTC): 00:15–16:00 = 64; 96; 96; 16:15–24:00 = 32
- Asia/Seoul (+9, 15:00 UTC): 60; 96; 96; 36
- Asia/Kolkata (+5:30, 18:30 UTC): 74; 96; 96; 22
- Europe/Berlin (CET +1 → CEST +2 on 30 March, a 23-hour day): 29 March = (28 23:00,
  29 23:00] = 92; 30 March = (29 23:00, 30 22:00] = 92; 31 March = 96; 1 April = (31 22:00,
  1 April 00:00] = 8
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from tests.support.rollups import settle_rollups

T0 = datetime(2025, 3, 29, tzinfo=UTC)
N = 288
KWH = 0.25
DAYS = {
    "Asia/Shanghai": (datetime(2025, 3, 28, 16, tzinfo=UTC), [64, 96, 96, 32]),
    "Asia/Seoul": (datetime(2025, 3, 28, 15, tzinfo=UTC), [60, 96, 96, 36]),
    "Asia/Kolkata": (datetime(2025, 3, 28, 18, 30, tzinfo=UTC), [74, 96, 96, 22]),
    "Europe/Berlin": (datetime(2025, 3, 28, 23, tzinfo=UTC), [92, 92, 96, 8]),
}


@pytest.fixture(scope="module")
def clock_sites(client: TestClient, admin_headers: dict, engine) -> dict[str, tuple[str, str]]:  # noqa: ANN001
    """zone -> (site, meter), readings written and folded."""
    out, tag = {}, uuid.uuid4().hex[:8]
    for k, tz in enumerate(DAYS):
        site, meter = f"CLK-{k}-{tag}", f"CLK-{k}-GRID-{tag}"
        r = client.post(
            "/api/v1/sites",
            json={"code": site, "name": tz, "timezone": tz, "region": "江苏"},
            headers=admin_headers,
        )
        assert r.status_code == 201, r.text
        assert r.json()["timezone"] == tz
        r = client.post(
            "/api/v1/meters",
            json={
                "code": meter,
                "name": "grid",
                "site": site,
                "carrier": "electricity",
                "unit": "kWh",
                "kind": "delta",
                "interval_s": 900,
            },
            headers=admin_headers,
        )
        assert r.status_code == 201, r.text
        rows = [
            {"meter": meter, "ts": (T0 + timedelta(minutes=15 * i)).isoformat(), "value": KWH}
            for i in range(1, N + 1)
        ]
        r = client.post("/api/v1/readings", json={"readings": rows}, headers=admin_headers)
        assert r.json() == {"accepted": N, "duplicates": 0, "rejected": []}
        settle_rollups(engine, client, admin_headers, meter)
        out[tz] = (site, meter)
    return out


def _get(client: TestClient, headers: dict, path: str, **params: str) -> dict:
    r = client.get(path, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("tz", list(DAYS))
def test_meter_series_1d_starts_at_the_sites_local_midnight(
    client: TestClient, admin_headers: dict, clock_sites: dict, tz: str
) -> None:
    _, meter = clock_sites[tz]
    first, counts = DAYS[tz]
    body = _get(
        client,
        admin_headers,
        f"/api/v1/meters/{meter}/series",
        start=(T0 - timedelta(days=1)).isoformat(),
        end=(T0 + timedelta(days=4)).isoformat(),
        resolution="1d",
    )
    points = body["points"]
    starts = [datetime.fromisoformat(p["ts"]) for p in points]
    zone = ZoneInfo(tz)
    assert [s.astimezone(zone).date() for s in starts] == [
        date(2025, 3, 29) + timedelta(days=k) for k in range(4)
    ]
    assert all(s.astimezone(zone).time() == datetime.min.time() for s in starts)
    assert [s.astimezone(UTC) for s in starts] == [
        (first.astimezone(zone) + timedelta(days=k)).astimezone(UTC)  # wall-clock days
        for k in range(4)
    ]
    assert [p["n"] for p in points] == counts
    assert [p["value"] for p in points] == pytest.approx([KWH * n for n in counts])


@pytest.mark.parametrize("tz", list(DAYS))
def test_totals_and_kpis_of_one_local_day(
    client: TestClient, admin_headers: dict, clock_sites: dict, tz: str
) -> None:
    site, _ = clock_sites[tz]
    day = date(2025, 3, 30)  # Berlin's 23-hour day
    zone = ZoneInfo(tz)
    lo = datetime(2025, 3, 30, tzinfo=zone)
    hi = datetime(2025, 3, 31, tzinfo=zone)
    want = DAYS[tz][1][1] * KWH
    totals = _get(
        client,
        admin_headers,
        f"/api/v1/sites/{site}/totals",
        start=lo.isoformat(),
        end=hi.isoformat(),
    )
    assert totals["carriers"][0]["total"] == pytest.approx(want)
    kpi = _get(
        client, admin_headers, "/api/v1/kpis/intensity", site=site, period="day", date=str(day)
    )
    assert datetime.fromisoformat(kpi["start"]) == lo
    assert datetime.fromisoformat(kpi["end"]) == hi
    assert kpi["energy_tce"] == pytest.approx(want * 0.1229 / 1000, rel=1e-3)


def test_site_zone_defaults_to_the_setting_and_is_checked(
    client: TestClient,
    admin_headers: dict,
    settings,
    uid: str,  # noqa: ANN001
) -> None:
    r = client.post(
        "/api/v1/sites", json={"code": f"TZD-{uid}", "name": "d"}, headers=admin_headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["timezone"] == settings.timezone
    r = client.post(
        "/api/v1/sites",
        json={"code": f"TZX-{uid}", "name": "x", "timezone": "Mars/Olympus_Mons"},
        headers=admin_headers,
    )
    assert r.status_code == 422, r.text
    assert "timezone" in r.text


def test_site_list_etag_answers_304_until_a_site_is_created_or_changed(
    client: TestClient, admin_headers: dict
) -> None:
    """The dashboard asks for a person's site list on every page load with the ETag it holds:
    unchanged, 304 and no body; a site created or changed a moment ago, the new list."""
    h = admin_headers
    first = client.get("/api/v1/sites", headers=h)
    tag = first.headers["etag"]
    assert first.status_code == 200 and tag.startswith('"')
    again = client.get("/api/v1/sites", headers={**h, "If-None-Match": tag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
    assert client.get("/api/v1/sites", headers={**h, "If-None-Match": '"other"'}).status_code == 200
    code = f"ETAG-{uuid.uuid4().hex[:8]}"
    r = client.post(
        "/api/v1/sites", json={"code": code, "name": "new", "region": "江苏"}, headers=h
    )
    assert r.status_code == 201, r.text
    after = client.get("/api/v1/sites", headers={**h, "If-None-Match": tag})
    assert after.status_code == 200 and code in [s["code"] for s in after.json()]
    tag = after.headers["etag"]
    r = client.patch(f"/api/v1/sites/{code}", json={"contracted_demand_kw": 500}, headers=h)
    assert r.status_code == 200, r.text
    changed = client.get("/api/v1/sites", headers={**h, "If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
