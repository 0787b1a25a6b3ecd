"""The same carbon figures on both database paths.

TimescaleDB (PGlite + TimescaleDB, WASM: continuous aggregates) and plain PostgreSQL (rollup
tables kept by ``metering.rollups``) get the same sites, meters, boundary mapping,
readings and certificate through the same code; emissions over day-, hour- and unaligned
periods (rollup_1d, rollup_1h and raw readings), the carbon rollup views and series, and the
derivation hashes must be identical. PGlite takes one connection at a time: every session is
closed before the next opens. Skips when node/npm are missing (unless ECC_PGLITE_REQUIRED=1).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from carbon import boundary, engine, records
from carbon import series as carbon_series
from ingest.writer import detect_writer
from metering import registry
from metering.rollups import refresh_all
from migrations import runner as migrate
from tests.system.test_both_paths import Side, assert_same, items_of, set_up_both

pytestmark = pytest.mark.timescale

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2023, 12, 31, tzinfo=SH).astimezone(UTC)  # local midnight, across a year change
HOURS = 48
SITE, SUB = "CB-PLANT", "CB-SHOP"
GRID, FEED, GAS, PV = "CB-GRID", "CB-FEED", "CB-GAS", "CB-PV"


def _readings() -> list[tuple[str, datetime, float, None]]:
    out = []
    for k in range(1, HOURS * 4 + 1):  # 15-minute interval energy, stamped at the end
        ts = T0 + timedelta(minutes=15 * k)
        out += [
            (GRID, ts, 100.0 + k % 7, None),
            (FEED, ts, 30.0 + k % 3, None),
            (GAS, ts, 12.5 + k % 5, None),
            (PV, ts, float(k % 11), None),
        ]
    out.append((GRID, T0 + timedelta(hours=10, minutes=7, seconds=30), 1.25, None))  # odd time
    return out


def _setup(side: Side) -> None:
    migrate.upgrade(side.engine)
    with side.session() as s:
        registry.create_site(s, registry.SiteIn(SITE, "Plant", region="江苏"))
        registry.create_site(s, registry.SiteIn(SUB, "Shop", parent=SITE))
        for m in (
            registry.MeterIn(GRID, "incomer", SITE, "electricity", "kWh", "delta"),
            registry.MeterIn(FEED, "feeder", SUB, "electricity", "kWh", "delta", parent=GRID),
            registry.MeterIn(GAS, "boiler", SUB, "natural_gas", "m3", "delta"),
            registry.MeterIn(PV, "roof", SITE, "pv_generation", "kWh", "delta"),
        ):
            registry.create_meter(s, m)
        boundary.set_mapping(s, GAS, "stationary_combustion", "natural_gas", "test")
        records.add_certificate(
            s,
            records.CertificateIn(
                "CB-GEC-1", 5.0, date(2023, 12, 1), SITE, T0, T0 + timedelta(hours=30)
            ),
            "test",
        )
        s.commit()
        side.infos = registry.meter_infos(s, [GRID, FEED, GAS, PV])
    with side.connect() as conn:
        side.writer = detect_writer(conn)
        conn.rollback()
    side.write(items_of(_readings()))
    if side.timescale:
        with side.connect(autocommit=True) as conn:
            for level in ("1m", "15m", "1h"):
                conn.execute(f"CALL refresh_continuous_aggregate('rollup_{level}', NULL, NULL)")
    else:
        with side.connect() as conn:
            refresh_all(conn)


RANGES = [
    (T0, T0 + timedelta(days=2)),  # local days: rollup_1d
    (T0 + timedelta(hours=5), T0 + timedelta(hours=29)),  # hours: rollup_1h
    (T0 + timedelta(hours=5, minutes=15), T0 + timedelta(hours=20, minutes=45)),  # 15 min
    (T0 + timedelta(hours=3, seconds=7), T0 + timedelta(hours=40, minutes=1)),  # raw
]


def _snapshot(side: Side) -> dict:
    snap = {}
    with Session(side.engine) as s:
        for k, (lo, hi) in enumerate(RANGES):
            for site in (SITE, SUB):
                snap[f"emissions {site} #{k}"] = engine.emissions(s, site, lo, hi)
        for res in ("1h", "1d"):
            snap[f"site series {res}"] = carbon_series.site_carbon(s, SITE, *RANGES[0], res)
            snap[f"meter series {res}"] = carbon_series.meter_carbon(s, GAS, *RANGES[0], res)
        snap["meter raw"] = carbon_series.meter_carbon(s, GRID, *RANGES[3], "raw")
        snap["views"] = [
            tuple(r)
            for r in s.execute(
                text(
                    "SELECT version, m.code, bucket, scope, source, activity, co2_t, tce "
                    "FROM carbon_1h c JOIN meter m ON m.id = c.meter_id "
                    "ORDER BY version, m.code, bucket"
                )
            ).all()
        ]
        s.commit()
    return snap


def test_carbon_figures_identical_on_both_paths(pglite_side: Side, server_side: Side) -> None:
    set_up_both((pglite_side, server_side), _setup)
    ts, pg = _snapshot(pglite_side), _snapshot(server_side)
    assert ts.keys() == pg.keys()
    for key in ts:
        assert_same(ts[key], pg[key], f"{key} (timescaledb vs postgresql)")
    whole = pg[f"emissions {SITE} #0"]
    grid_kwh = sum(100.0 + k % 7 for k in range(1, HOURS * 4 + 1)) + 1.25
    gas_m3 = sum(12.5 + k % 5 for k in range(1, HOURS * 4 + 1))
    # Jiangsu 2023 all through: 2024 is not published, so 2023 carries on (and is said so)
    assert whole["scope2_location_tco2"] == pytest.approx(grid_kwh / 1000 * 0.5827, rel=1e-9)
    assert whole["scope1_tco2"] == pytest.approx(
        gas_m3 / 1e4 * 389.31 * 15.3 / 1000 * 0.99 * 44 / 12, rel=1e-9
    )
    assert {r["meter"] for r in whole["by_source"]} == {GRID, GAS}  # FEED is a sub-meter
    assert any(q["code"] == "factor_period_fallback" for q in whole["data_quality"])
    # the certificate covers 5 MWh of the first 30 h, never more than consumed
    assert whole["electricity"]["certificates_claimed_mwh"] == pytest.approx(5.0)
    market_kwh = grid_kwh - 5000.0
    assert whole["scope2_market_tco2"] == pytest.approx(market_kwh / 1000 * 0.6096, rel=1e-9)
    # the shop alone: its feeder counts there (its parent meter is outside the shop)
    shop = pg[f"emissions {SUB} #0"]
    assert {r["meter"] for r in shop["by_source"]} == {FEED, GAS}
    # hourly carbon rollups add up to the emissions of the metered sources
    hourly = pg["site series 1h"]["points"]
    assert len(hourly) == HOURS
    assert sum(p["co2_t"] for p in hourly) == pytest.approx(
        whole["scope1_tco2"] + whole["scope2_location_tco2"], rel=1e-9
    )
