"""``GET /api/v1/sites/{code}/load``: the site balance and load, worked by hand on the
constructed tree of ``tests/support/site_tree.py`` (four 15-minute intervals from
2025-01-06 00:00 +08:00).

Plant P counts IN (grid), PV and WIND (generation), EX (export); TX, FA, FA1, FB are
sub-meters, KW a gauge, FAR another site's meter:

    bucket   grid  generation  export  consumption  load_kw (÷ 0.25 h)
    00:00    100   20 + 5      0       125          500
    00:15    120   20 + 5      10      135          540
    00:30    110   30 + 5      0       145          580
    00:45    130   10 + 5      5       140          560
    total    460   100         15      545          545 (mean over the hour)
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.support import site_tree

T0, STEP = site_tree.T0, site_tree.STEP


@pytest.fixture(scope="module")
def tree(client: TestClient, admin_headers: dict) -> dict[str, str]:
    return site_tree.build(client, admin_headers, uuid.uuid4().hex[:8])


@pytest.fixture(scope="module")
def viewer(engine) -> dict[str, str]:  # noqa: ANN001
    from tests.support.db import make_key

    return {"Authorization": f"Bearer {make_key(engine, 'viewer')}"}


def _load(client: TestClient, h: dict, site: str, start, end, **params) -> dict:  # noqa: ANN001
    r = client.get(
        f"/api/v1/sites/{site}/load",
        params={"start": start.isoformat(), "end": end.isoformat(), **params},
        headers=h,
    )
    assert r.status_code == 200, r.text
    return r.json()


def _short(code: str) -> str:
    return code.split("-")[0]


def test_plant_balance_per_bucket_totals_and_now(client: TestClient, tree: dict, viewer) -> None:  # noqa: ANN001
    a = _load(client, viewer, tree["P"], T0, T0 + 4 * STEP)
    assert a["site"] == tree["P"] and a["resolution"] == "15m" and a["unit"] == "kWh"
    assert {k: [_short(c) for c in v] for k, v in a["meters"].items()} == {
        "grid": ["IN"],
        "generation": ["PV", "WIND"],
        "export": ["EX"],
    }
    rows = [
        (p["grid"], p["generation"], p["export"], p["consumption"], p["load_kw"], p["complete"])
        for p in a["points"]
    ]
    assert rows == [
        (100, 25, 0, 125, 500, True),
        (120, 25, 10, 135, 540, True),
        (110, 35, 0, 145, 580, True),
        (130, 15, 5, 140, 560, True),
    ]
    assert [datetime.fromisoformat(p["ts"]) for p in a["points"]] == [
        T0 + i * STEP for i in range(4)
    ]
    assert a["totals"] == {
        "grid": 460,
        "generation": 100,
        "export": 15,
        "consumption": 545,
        "load_kw": 545,
    }
    # now: the 5 minutes before the latest reading (01:00) hold the last interval's readings
    now = a["now"]
    assert datetime.fromisoformat(now["ts"]) == T0 + 4 * STEP
    assert now["window_s"] == 300
    assert now["consumption"] == pytest.approx(140.0)
    assert now["load_kw"] == pytest.approx(140.0 * 12)


def test_ragged_period_totals_are_exact_and_the_last_bucket_is_partial(
    client: TestClient, tree: dict, viewer
) -> None:  # noqa: ANN001
    # (00:10, 00:50]: readings at 00:15, 00:30, 00:45 — rollups inside, raw at the edges
    a = _load(client, viewer, tree["P"], T0 + timedelta(minutes=10), T0 + timedelta(minutes=50))
    assert a["totals"]["consumption"] == pytest.approx(125 + 135 + 145)
    assert a["totals"]["grid"] == pytest.approx(330.0)
    assert a["totals"]["load_kw"] == pytest.approx(405 / (40 / 60))
    # the latest reading up to the end is 00:45: its window holds the 00:45 readings
    assert datetime.fromisoformat(a["now"]["ts"]) == T0 + 3 * STEP
    assert a["now"]["load_kw"] == pytest.approx(145 * 12)
    # buckets starting inside the period; the one at 00:45 ends after the latest reading
    complete = {datetime.fromisoformat(p["ts"]): p["complete"] for p in a["points"]}
    assert complete[T0 + 2 * STEP] is True
    assert complete[T0 + 3 * STEP] is False


def test_hourly_and_workshop_balances(client: TestClient, tree: dict, viewer) -> None:  # noqa: ANN001
    h = _load(client, viewer, tree["P"], T0, T0 + 4 * STEP, resolution="1h")
    assert [(p["consumption"], p["load_kw"]) for p in h["points"]] == [(545, 545)]
    # workshop B: its feeder FB counts there (its parent TX is outside WB), wind too
    wb = _load(client, viewer, tree["WB"], T0, T0 + 4 * STEP)
    assert [p["consumption"] for p in wb["points"]] == [35, 40, 38, 50]
    assert wb["totals"]["grid"] == 143 and wb["totals"]["generation"] == 20
    # workshop A: FA counts, the line meter FA1 below it does not
    wa = _load(client, viewer, tree["WA"], T0, T0 + 4 * STEP)
    assert [_short(c) for c in wa["meters"]["grid"]] == ["FA"]
    assert wa["totals"]["consumption"] == 257
    # a site whose subtree meters nothing electric: empty, no "now"
    other = _load(client, viewer, tree["OTHER"], T0 - 4 * STEP, T0)
    assert other["points"] == [] and other["now"] is None and other["totals"]["consumption"] == 0


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"resolution": "5m"}, 422, "resolution"),
        ({"end": "2025-01-05T00:00:00+08:00"}, 422, "end"),
        ({"start": "2025-01-06T00:00:00"}, 422, "start"),
    ],
)
def test_bad_input_names_the_field(
    client: TestClient, tree: dict, viewer, params: dict, status: int, field: str
) -> None:  # noqa: ANN001
    q = {"start": T0.isoformat(), "end": (T0 + STEP).isoformat(), **params}
    r = client.get(f"/api/v1/sites/{tree['P']}/load", params=q, headers=viewer)
    assert r.status_code == status, r.text
    assert field in r.text


def test_unknown_site_is_404(client: TestClient, viewer) -> None:  # noqa: ANN001
    q = {"start": T0.isoformat(), "end": (T0 + STEP).isoformat()}
    r = client.get("/api/v1/sites/NO-SUCH-SITE/load", params=q, headers=viewer)
    assert r.status_code == 404 and "site" in r.text
