"""``POST``/``GET /api/v1/exogenous``: issues of a site's exogenous series, versioned by
``issued_at``, never changed; bad input answers 4xx naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from tests.support.accounts import bearer, scoped_key
from tests.support.db import make_key

T0 = datetime(2026, 7, 1, tzinfo=UTC)
H = timedelta(hours=1)
URL = "/api/v1/exogenous"


def _issue(site: str, issued_at: datetime, values: list[float], **kw) -> dict:  # noqa: ANN003
    return {
        "site": site,
        "series": kw.pop("series", "weather"),
        "unit": kw.pop("unit", "degF"),
        "issued_at": issued_at.isoformat(),
        "points": [{"ts": (T0 + H * i).isoformat(), "value": v} for i, v in enumerate(values)],
        **kw,
    }


@pytest.fixture
def site(client, admin_headers, uid) -> str:  # noqa: ANN001
    code = f"XS-{uid}"
    r = client.post("/api/v1/sites", headers=admin_headers, json={"code": code, "name": "x"})
    assert r.status_code == 201, r.text
    return code


def test_round_trip_versions_and_conversion(client, admin_headers, engine, site) -> None:  # noqa: ANN001
    first = _issue(site, T0 - 12 * H, [68.0, 86.0, 50.0])  # °F: 20, 30, 10 °C
    r = client.post(URL, json=first, headers=admin_headers)
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["series"], out["unit"], out["column"], out["points"]) == (
        "weather",
        "degC",
        "temperature",
        3,
    )
    assert out["created"] and out["first"].startswith("2026-07-01T00:00")
    # the same issue again: stored once, 200
    again = client.post(URL, json=first, headers=admin_headers)
    assert again.status_code == 200 and not again.json()["created"]
    # a newer issue revises the last two hours (in °C this time)
    newer = _issue(site, T0 - 2 * H, [25.0, 12.0], unit="°C")
    newer["points"] = [
        {"ts": (T0 + H).isoformat(), "value": 25.0},
        {"ts": (T0 + 2 * H).isoformat(), "value": 12.0},
    ]
    assert client.post(URL, json=newer, headers=admin_headers).status_code == 201

    viewer = {"Authorization": f"Bearer {make_key(engine, 'viewer')}"}
    now = client.get(URL, params={"site": site, "as_of": T0.isoformat()}, headers=viewer)
    assert now.status_code == 200, now.text
    (series,) = now.json()["series"]
    assert [i["points"] for i in series["issues"]] == [3, 2]
    values = [(p["value"], p["issued_at"][:16]) for p in series["points"]]
    assert values == [
        (pytest.approx(20.0), "2026-06-30T12:00"),
        (25.0, "2026-06-30T22:00"),
        (12.0, "2026-06-30T22:00"),
    ]
    # as of before the newer issue: the first issue's values, as they were
    then = client.get(
        URL, params={"site": site, "as_of": (T0 - 6 * H).isoformat()}, headers=viewer
    ).json()["series"][0]
    assert [round(p["value"], 9) for p in then["points"]] == [20.0, 30.0, 10.0]
    assert len(then["issues"]) == 1
    # before any issue: the series with nothing in it
    none = client.get(
        URL, params={"site": site, "as_of": (T0 - 24 * H).isoformat()}, headers=viewer
    ).json()["series"][0]
    assert none["issues"] == [] and none["points"] == []
    # a window
    window = client.get(
        URL,
        params={
            "site": site,
            "series": "weather",
            "as_of": T0.isoformat(),
            "start": (T0 + H).isoformat(),
            "end": (T0 + 2 * H).isoformat(),
        },
        headers=viewer,
    ).json()["series"][0]
    assert [p["value"] for p in window["points"]] == [25.0]


def test_changes_are_audited_with_their_site(client, admin_headers, engine, site) -> None:  # noqa: ANN001
    r = client.post(
        URL, json=_issue(site, T0, [1.0], series="plan", unit="t"), headers=admin_headers
    )
    assert r.status_code == 201, r.text
    with engine.connect() as conn:
        site_id = conn.execute(text("SELECT id FROM site WHERE code = :c"), {"c": site}).scalar()
    # an auditor scoped to the site sees both rows of the post, each naming the site
    auditor = bearer(scoped_key(engine, "auditor", site=site))
    for entity in ("exog_series", "exog_issue"):
        rows = client.get("/api/v1/audit", params={"entity": entity}, headers=auditor).json()
        assert [(row["action"], row["site_id"]) for row in rows] == [("create", site_id)], rows
    (issue,) = client.get("/api/v1/audit", params={"entity": "exog_issue"}, headers=auditor).json()
    assert issue["after"]["issued_at"].startswith("2026-07-01T00:00")


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"site": "NO-SUCH-SITE"}, 404, "site"),
        ({"series": "bad code!"}, 422, "series"),
        ({"unit": "furlongs"}, 422, "unit"),
        ({"issued_at": "2026-07-01T00:00:00"}, 422, "issued_at"),
        ({"points": []}, 422, "points"),
        ({"points": [{"ts": "2026-07-01T00:00:00", "value": 1}]}, 422, "points[0].ts"),
        (
            {
                "points": [
                    {"ts": "2026-07-01T00:00:00+00:00", "value": 1},
                    {"ts": "2026-07-01T08:00:00+08:00", "value": 2},
                ]
            },
            422,
            "points[1].ts",
        ),
        ({"points": [{"ts": "2026-07-01T00:00:00Z", "value": "NaN"}]}, 422, "value"),
        ({"extra": 1}, 422, "extra"),
    ],
)
def test_bad_posts_are_4xx_naming_the_field(client, admin_headers, site, change, status, field):  # noqa: ANN001
    body = {**_issue(site, T0, [1.0, 2.0]), **change}
    r = client.post(URL, json=body, headers=admin_headers)
    assert r.status_code == status, r.text
    assert field in r.text


def test_an_issue_is_never_changed(client, admin_headers, site) -> None:  # noqa: ANN001
    assert client.post(URL, json=_issue(site, T0, [1.0]), headers=admin_headers).status_code == 201
    r = client.post(URL, json=_issue(site, T0, [2.0]), headers=admin_headers)
    assert r.status_code == 409 and "issued_at" in r.text
    # another dimension under the same series code
    r = client.post(URL, json=_issue(site, T0 + H, [1.0], unit="kW"), headers=admin_headers)
    assert r.status_code == 422 and "unit" in r.text


def test_bad_reads_are_4xx(client, admin_headers, site) -> None:  # noqa: ANN001
    get = lambda **p: client.get(URL, params={"site": site, **p}, headers=admin_headers)  # noqa: E731
    assert client.get(URL, params={"site": "NO-SUCH"}, headers=admin_headers).status_code == 404
    assert get(series="nothing").status_code == 404
    assert get(as_of="2026-07-01T00:00:00").status_code == 422
    r = get(start="2026-07-02T00:00:00Z", end="2026-07-01T00:00:00Z")
    assert r.status_code == 422 and "end" in r.text
    assert client.get(URL, headers=admin_headers).status_code == 422  # site is required


def test_viewers_read_and_do_not_write(client, engine, site) -> None:  # noqa: ANN001
    viewer = {"Authorization": f"Bearer {make_key(engine, 'viewer')}"}
    feeder = {"Authorization": f"Bearer {make_key(engine, 'ingest')}"}
    assert client.post(URL, json=_issue(site, T0, [1.0]), headers=viewer).status_code == 403
    assert client.post(URL, json=_issue(site, T0, [1.0]), headers=feeder).status_code == 201
    assert client.get(URL, params={"site": site}, headers=viewer).status_code == 200
