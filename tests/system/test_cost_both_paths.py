"""The same cost and budget figures on both database paths.

TimescaleDB (PGlite + TimescaleDB, WASM: continuous aggregates) and plain PostgreSQL (rollup
tables kept by ``metering.rollups``) get the same site, meters, Jiangsu two-part tariff with a
contracted demand and power-factor standard, readings and budget through the same code; the
cost of whole days, single quarter hours and a workshop, and the budget status must be
identical, derivation hashes included. Skips when node/npm are missing (unless
ECC_PGLITE_REQUIRED=1)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from budgets import service as budgets
from cost import compute, tariffs
from ingest.writer import detect_writer
from metering import registry
from metering.rollups import refresh_all
from migrations import runner as migrate
from tests.system.test_both_paths import Side, assert_same, items_of, set_up_both

pytestmark = pytest.mark.timescale

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 6, 1, tzinfo=SH)
DAYS = 3
SITE, SHOP = "CO-PLANT", "CO-SHOP"
GRID, KVARH, FEED = "CO-GRID", "CO-KVARH", "CO-FEED"


def _readings() -> list[tuple[str, datetime, float, None]]:
    out = []
    for k in range(1, DAYS * 96 + 1):  # 15-minute interval energy, stamped at the end
        ts = T0 + timedelta(minutes=15 * k)
        hour = (ts - timedelta(minutes=15)).astimezone(SH).hour
        out += [
            (GRID, ts, 1.0 + hour + k % 3, None),
            (KVARH, ts, 0.5 + hour * 0.4, None),
            (FEED, ts, 0.5 + k % 4, None),
        ]
    return out


def _setup(side: Side) -> None:
    migrate.upgrade(side.engine)
    with side.session() as s:
        registry.create_site(s, registry.SiteIn(SITE, "Plant", region="江苏"))
        registry.create_site(s, registry.SiteIn(SHOP, "Shop", parent=SITE))
        for m in (
            registry.MeterIn(GRID, "incomer", SITE, "electricity", "kWh", "delta"),
            registry.MeterIn(KVARH, "incomer kvarh", SITE, "reactive_energy", "kvarh", "delta"),
            registry.MeterIn(FEED, "feeder", SHOP, "electricity", "kWh", "delta", parent=GRID),
        ):
            registry.create_meter(s, m)
        t = tariffs.create_tariff(
            s,
            tariffs.TariffIn(
                code="CO-JS",
                name="Jiangsu two-part",
                valid_from=date(2026, 1, 1),
                template="jiangsu-2025-two-part",
                flat_price_cny_per_kwh=Decimal("0.6123"),
                demand_charge={
                    "basis": "max_demand",
                    "price_cny_per_kw_month": 40,
                    "contracted_kw": 60,
                },
                power_factor_standard=Decimal("0.90"),
            ),
            "test",
        )
        tariffs.assign(s, SITE, t.code, date(2026, 1, 1), "test")
        budgets.create_budget(
            s,
            budgets.BudgetIn(SITE, "cost_cny", 2026, amount=Decimal("2400000")),
            "test",
        )
        s.commit()
        side.infos = registry.meter_infos(s, [GRID, KVARH, FEED])
    with side.connect() as conn:
        side.writer = detect_writer(conn)
        conn.rollback()
    side.write(items_of(_readings()))
    if side.timescale:
        with side.connect(autocommit=True) as conn:
            for level in ("1m", "15m", "1h"):  # days are site-local views (0005_site_clock)
                conn.execute(f"CALL refresh_continuous_aggregate('rollup_{level}', NULL, NULL)")
    else:
        with side.connect() as conn:
            refresh_all(conn)


RANGES = [
    (SITE, T0, T0 + timedelta(days=DAYS)),
    (SITE, T0 + timedelta(hours=13, minutes=45), T0 + timedelta(hours=14, minutes=15)),
    (SHOP, T0, T0 + timedelta(days=DAYS)),
]


def _snapshot(side: Side) -> dict:
    snap = {}
    with Session(side.engine) as s:
        for k, (site, lo, hi) in enumerate(RANGES):
            snap[f"cost {site} #{k}"] = compute.site_cost(s, site, lo, hi)
        snap["budget"] = budgets.status(
            s, SITE, "cost_cny", "2026-06", as_of=T0 + timedelta(days=DAYS)
        )
        s.commit()
    return snap


def test_cost_figures_identical_on_both_paths(pglite_side: Side, server_side: Side) -> None:
    set_up_both((pglite_side, server_side), _setup)
    ts, pg = _snapshot(pglite_side), _snapshot(server_side)
    assert ts.keys() == pg.keys()
    for key in ts:
        assert_same(ts[key], pg[key], f"{key} (timescaledb vs postgresql)")
    whole = pg[f"cost {SITE} #0"]
    grid_kwh = sum(r[2] for r in _readings() if r[0] == GRID)
    assert sum(Decimal(str(p["kwh"])) for p in whole["by_period"]) == Decimal(str(grid_kwh))
    assert (
        whole["total_cny"] == whole["energy_cny"] + whole["demand_cny"] + whole["power_factor_cny"]
    )
    month = whole["months"][0]
    assert month["billed_demand"] == 60 and month["max_demand_kw"] > 63  # above 105 %
    assert month["power_factor"] is not None and whole["power_factor_cny"] != 0
    # 13:45-14:15 in June: one quarter hour flat (0.6123), one peak (× 1.80)
    quarter = pg[f"cost {SITE} #1"]
    assert [p["period"] for p in quarter["by_period"]] == ["peak", "flat"]
    shop = pg[f"cost {SHOP} #2"]
    assert shop["demand_cny"] == 0 and shop["billing_site"] == SITE
    assert pg["budget"]["budget"] == Decimal("200000.00")
