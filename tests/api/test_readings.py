"""POST /api/v1/readings: formats, every rejection, duplicates and conflicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


def post(client, headers, readings):  # noqa: ANN001, ANN201
    return client.post("/api/v1/readings", json={"readings": readings}, headers=headers)


def test_accepts_and_counts_duplicates_once(client, admin_headers, plant) -> None:  # noqa: ANN001
    rows = [
        {"meter": plant["delta"], "ts": f"2026-01-01T00:0{i}:00+08:00", "value": 1.5}
        for i in range(1, 4)
    ]
    r = post(client, admin_headers, rows)
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 3, "duplicates": 0, "rejected": []}
    r = post(client, admin_headers, rows)
    assert r.json() == {"accepted": 0, "duplicates": 3, "rejected": []}


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        ({"meter": "NOPE", "value": 1}, "meter: unknown meter 'NOPE'"),
        ({"value": float("nan")}, "value: not finite"),
        ({"value": "12"}, "value: not a number"),
        ({"value": None}, "value: not a number"),
        ({"ts": "2026-01-01T00:00:00"}, "ts: timestamp without UTC offset"),
        ({"ts": "yesterday"}, "ts: not an RFC 3339 timestamp"),
        ({"ts": "FUTURE"}, "ts: more than 300 s"),
        ({"value": -1}, "value: negative interval quantity"),
        ({"unit": "m3"}, "unit: unit 'm3' (volume) cannot be converted"),
        ({"unit": "furlong"}, "unit: unknown unit 'furlong'"),
    ],
)
def test_rejections_name_field_and_reason(client, admin_headers, plant, item, fragment) -> None:  # noqa: ANN001
    good = {"meter": plant["delta"], "ts": "2026-01-02T00:01:00+08:00", "value": 2.0}
    bad = {"meter": plant["delta"], "ts": "2026-01-02T00:02:00+08:00", "value": 1.0, **item}
    if bad["ts"] == "FUTURE":  # computed when the test runs, not when it is collected
        bad["ts"] = (datetime.now(UTC) + timedelta(minutes=6)).isoformat()
    if isinstance(bad["value"], float) and bad["value"] != bad["value"]:
        body = (
            '{"readings": [{"meter": "METER", "ts": "2026-01-02T00:01:00+08:00", "value": 2.0},'
            '{"meter": "METER", "ts": "2026-01-02T00:02:00+08:00", "value": NaN}]}'
        ).replace("METER", plant["delta"])
        r = client.post(
            "/api/v1/readings",
            content=body,
            headers={**admin_headers, "content-type": "application/json"},
        )
    else:
        r = post(client, admin_headers, [good, bad])
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["accepted"] == 1
    assert len(out["rejected"]) == 1
    assert out["rejected"][0]["index"] == 1
    assert fragment in out["rejected"][0]["error"]


def test_conflict_is_rejected_never_overwritten(client, admin_headers, plant) -> None:  # noqa: ANN001
    ts = "2026-01-03T00:01:00+08:00"
    assert (
        post(client, admin_headers, [{"meter": plant["delta"], "ts": ts, "value": 5}]).json()[
            "accepted"
        ]
        == 1
    )
    out = post(client, admin_headers, [{"meter": plant["delta"], "ts": ts, "value": 6}]).json()
    assert out["accepted"] == 0 and out["duplicates"] == 0
    assert "conflicts with the stored reading (5.0 kWh)" in out["rejected"][0]["error"]
    series = client.get(
        f"/api/v1/meters/{plant['delta']}/series",
        headers=admin_headers,
        params={"start": "2026-01-03T00:00:00+08:00", "end": "2026-01-03T00:02:00+08:00"},
    ).json()
    assert [p["value"] for p in series["points"]] == [5.0]


def test_same_reading_in_other_unit_is_a_duplicate(client, admin_headers, plant) -> None:  # noqa: ANN001
    ts = "2026-01-04T00:01:00+08:00"
    post(client, admin_headers, [{"meter": plant["delta"], "ts": ts, "value": 1500}])
    out = post(
        client, admin_headers, [{"meter": plant["delta"], "ts": ts, "value": 1.5, "unit": "MWh"}]
    ).json()
    assert out == {"accepted": 0, "duplicates": 1, "rejected": []}


def test_conflict_inside_one_request(client, admin_headers, plant) -> None:  # noqa: ANN001
    ts = "2026-01-05T00:01:00+08:00"
    out = post(
        client,
        admin_headers,
        [
            {"meter": plant["gauge"], "ts": ts, "value": 3},
            {"meter": plant["gauge"], "ts": ts, "value": 3},
            {"meter": plant["gauge"], "ts": ts, "value": 4},
        ],
    ).json()
    assert out["accepted"] == 1 and out["duplicates"] == 1
    assert out["rejected"][0]["index"] == 2


def test_columnar_ndjson_and_csv(client, admin_headers, plant) -> None:  # noqa: ANN001
    m = plant["gauge"]
    col = {
        "series": [
            {
                "meter": m,
                "unit": "W",
                "ts": ["2026-01-06T00:01:00Z", "2026-01-06T00:02:00Z"],
                "value": [1000, 2000],
            }
        ]
    }
    r = client.post("/api/v1/readings", json=col, headers=admin_headers)
    assert r.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    nd = (
        f'{{"meter":"{m}","ts":"2026-01-06T00:03:00Z","value":3}}\n'
        f'{{"meter":"{m}","ts":"2026-01-06T00:04:00Z"}}\n'
    )
    r = client.post(
        "/api/v1/readings",
        content=nd,
        headers={**admin_headers, "content-type": "application/x-ndjson"},
    )
    assert r.json()["accepted"] == 1
    assert r.json()["rejected"] == [{"index": 1, "error": "value: missing"}]
    csv = f"meter,ts,value,unit\n{m},2026-01-06T00:05:00Z,4,kW\n{m},2026-01-06T00:06:00Z,x,kW\n"
    r = client.post(
        "/api/v1/readings", content=csv, headers={**admin_headers, "content-type": "text/csv"}
    )
    assert r.json()["accepted"] == 1
    assert r.json()["rejected"][0]["error"] == "value: not a number: 'x'"
    pts = client.get(
        f"/api/v1/meters/{m}/series",
        headers=admin_headers,
        params={"start": "2026-01-06T00:00:00Z", "end": "2026-01-06T01:00:00Z"},
    ).json()["points"]
    assert [p["value"] for p in pts] == [1.0, 2.0, 3.0, 4.0]


def test_oversized_body_gets_413(client, admin_headers) -> None:  # noqa: ANN001
    big = b'{"readings": [' + b" " * (33 * 1024 * 1024) + b"]}"
    r = client.post(
        "/api/v1/readings",
        content=big,
        headers={**admin_headers, "content-type": "application/json"},
    )
    assert r.status_code == 413


def test_malformed_body_is_422_naming_body(client, admin_headers) -> None:  # noqa: ANN001
    r = client.post(
        "/api/v1/readings",
        content=b"{not json",
        headers={**admin_headers, "content-type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["error"].startswith("body: not valid JSON")


def test_needs_a_key_and_the_right_role(client, engine, plant) -> None:  # noqa: ANN001
    from tests.support.db import make_key

    row = [{"meter": plant["delta"], "ts": "2026-01-07T00:01:00Z", "value": 1}]
    assert client.post("/api/v1/readings", json={"readings": row}).status_code == 401
    viewer = {"Authorization": f"Bearer {make_key(engine, 'viewer')}"}
    assert (
        client.post("/api/v1/readings", json={"readings": row}, headers=viewer).status_code == 403
    )
    ingest = {"Authorization": f"Bearer {make_key(engine, 'ingest')}"}
    assert (
        client.post("/api/v1/readings", json={"readings": row}, headers=ingest).status_code == 200
    )
    assert client.get("/api/v1/meters", headers=ingest).status_code == 403
    assert client.get("/api/v1/meters", headers=viewer).status_code == 200
