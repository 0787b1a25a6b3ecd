"""Which meters count for a site: the top meters of the subtree, never a sub-meter twice
(``metering.scope.counted_meters``), and every room that sums a site uses it.

The tree is ``tests/support/site_tree.py``: plant P (incomer IN → transformer TX → workshop
feeders FA, FB → line FA1; PV, export, gas GAS → GA; a kW gauge), workshops WA and WB (wind
at WB), line LA, and another root OTHER.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from alarms.evaluate import demand_kw
from carbon.boundary import site_boundary
from carbon.engine import emissions
from core.errors import NotFound
from forecasting.subjects import site_subjects
from metering import balance, registry, series
from metering.scope import counted_meters
from tests.support import site_tree

T0, STEP = site_tree.T0, site_tree.STEP


@pytest.fixture(scope="module")
def tree(client: TestClient, admin_headers: dict) -> dict[str, str]:
    return site_tree.build(client, admin_headers, uuid.uuid4().hex[:8])


def _codes(meters: list) -> list[str]:
    return [m.code.split("-")[0] for m in meters]


@pytest.mark.parametrize(
    ("site", "counted", "submeters"),
    [
        ("P", ["IN", "PV", "EX", "GAS", "WIND"], ["TX", "FA", "GA", "FA1", "FB"]),
        ("WA", ["FA", "GA"], ["FA1"]),  # the feeder's parent TX is outside WA: FA counts
        ("LA", ["FA1"], []),
        ("WB", ["FB", "WIND"], []),
        ("OTHER", ["FAR"], []),
    ],
)
def test_top_meters_of_the_subtree_count_and_sub_meters_never_twice(
    session: Session, tree: dict, site: str, counted: list[str], submeters: list[str]
) -> None:
    scope = counted_meters(session, tree[site])
    assert _codes(scope.counted) == counted
    assert _codes(scope.submeters) == submeters
    assert "KW" not in _codes(scope.counted + scope.submeters)  # a gauge is never summed
    assert scope.site == tree[site]


def test_by_id_on_a_connection_with_a_carrier(session: Session, tree: dict) -> None:
    site = registry.get_site(session, tree["P"])
    scope = counted_meters(session.connection(), site.id, carrier="electricity")
    assert _codes(scope.counted) == ["IN"]
    assert _codes(scope.submeters) == ["TX", "FA", "FA1", "FB"]
    assert sorted(scope.site_ids) == sorted(
        registry.get_site(session, tree[k]).id for k in ("P", "WA", "WB", "LA")
    )
    with pytest.raises(NotFound) as err:
        counted_meters(session, "NO-SUCH-SITE")
    assert err.value.field == "site"


def test_every_room_uses_the_same_meters(session: Session, tree: dict) -> None:
    for key in ("P", "WA", "WB", "LA"):
        code = tree[key]
        scope = counted_meters(session, code)
        counted = [m.code for m in scope.counted]
        # carbon's boundary
        b = site_boundary(session, code)
        assert [m.code for m in b.counted] == counted
        assert [m.code for m in b.submeters] == [m.code for m in scope.submeters]
        # forecasting's site subjects: one per carrier, of the counted meters
        subjects = site_subjects(session, registry.get_site(session, code))
        assert sorted(c for s in subjects for c in s.meters) == sorted(counted)
        # metering's totals: the counted meters added, the others flagged
        totals = series.site_totals(session, code, T0, T0 + 4 * STEP)
        assert [m["meter"] for m in totals["meters"] if not m["submeter"]] == counted
        # the balance: the counted electricity, generation and export meters
        lm = balance.load_meters(session, code)
        assert sorted(m.code for m in lm.all()) == sorted(
            m.code
            for m in scope.counted
            if m.carrier in ("electricity", "pv_generation", "wind_generation", "grid_export")
        )


def test_site_totals_add_the_counted_meters_only(session: Session, tree: dict) -> None:
    totals = series.site_totals(session, tree["P"], T0, T0 + 4 * STEP)
    by_carrier = {c["carrier"]: c["total"] for c in totals["carriers"]}
    # IN only (TX, FA, FA1, FB are sub-meters; FAR is another site's)
    assert by_carrier == {
        "electricity": pytest.approx(460.0),
        "pv_generation": pytest.approx(80.0),
        "wind_generation": pytest.approx(20.0),
        "grid_export": pytest.approx(15.0),
        "natural_gas": pytest.approx(40.0),
    }
    wa = series.site_totals(session, tree["WA"], T0, T0 + 4 * STEP)
    assert {c["carrier"]: c["total"] for c in wa["carriers"]} == {
        "electricity": pytest.approx(257.0),  # FA = 60 + 65 + 62 + 70; FA1 not again
        "natural_gas": pytest.approx(32.0),
    }


def test_consumption_is_grid_plus_generation_minus_export() -> None:
    assert balance.consumption_kwh(460.0, 100.0, 15.0) == pytest.approx(545.0)


def test_demand_rule_sums_the_counted_electricity_meters(session: Session, tree: dict) -> None:
    site = registry.get_site(session, tree["P"])

    class Rule:  # the fields demand_kw reads off a compiled rule
        meter_id = None
        site_id = site.id
        kind = "delta"
        method = "rolling"
        block_us = 3600 * 1_000_000

    end_us = int((T0 + 4 * STEP).timestamp() * 1_000_000)
    kw = demand_kw(session.connection(), Rule(), end_us)  # type: ignore[arg-type]
    assert kw == pytest.approx(460.0)  # IN over the hour; TX, FA, FA1, FB not again


def test_rollup_totals_and_raw_agree(session: Session, tree: dict) -> None:
    """The period energy used by the balance: rollups in the middle, raw at the edges."""
    ids = [registry.get_meter(session, tree["IN"]).id]
    lo, hi = T0 + timedelta(minutes=10), T0 + timedelta(minutes=50)
    got = balance.period_energy(session, ids, lo, hi)
    assert got[ids[0]] == pytest.approx(100 + 120 + 110)  # readings at :15, :30, :45


def test_the_carbon_rollup_view_counts_the_same_meters(session: Session, tree: dict) -> None:
    """``carbon_site_meter`` (SQL of the carbon rollup views, frozen in a migration) must
    agree with the rule; this test binds the two."""
    for key in ("P", "WA", "WB", "LA", "OTHER"):
        scope = counted_meters(session, tree[key])
        rows = session.execute(
            text("SELECT meter_id FROM carbon_site_meter WHERE site_id = :s ORDER BY meter_id"),
            {"s": scope.site_id},
        ).scalars()
        assert list(rows) == [m.id for m in scope.counted], key


def test_carbon_consumption_is_metering_balance(session: Session, tree: dict) -> None:
    for key, consumption in (("P", 545.0), ("WB", 163.0)):
        em = emissions(session, tree[key], T0, T0 + 4 * STEP)
        load = balance.site_load(session, tree[key], T0, T0 + 4 * STEP)
        assert em["electricity"]["consumption_kwh"] == pytest.approx(consumption)
        assert load["totals"]["consumption"] == pytest.approx(consumption)
        assert em["electricity"]["grid_kwh"] == pytest.approx(load["totals"]["grid"])
        assert em["electricity"]["onsite_renewable_kwh"] == pytest.approx(
            load["totals"]["generation"]
        )
    session.rollback()
