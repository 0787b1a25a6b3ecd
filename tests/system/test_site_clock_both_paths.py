"""Each site's own clock, on both database paths: three sites side by side in Asia/Shanghai
(UTC+8), Asia/Seoul (UTC+9) and Asia/Kolkata (UTC+5:30), one grid meter each, the same
readings.

The readings: 0.25 kWh every 15 minutes, stamped at the interval end, from 2025-03-10 00:15 to
2025-03-13 00:00 UTC (288 readings, 72 kWh). A local day is (midnight, next midnight], so a
whole day holds 96 readings (24 kWh) and the partial first and last days hold, by hand:

- Shanghai, midnight 16:00 UTC: (09 16:00, 10 16:00] → 00:15–16:00 = 64; 96; 96; 16:15–24:00 = 32
- Seoul, midnight 15:00 UTC: 00:15–15:00 = 60; 96; 96; 15:15–24:00 = 36
- Kolkata, midnight 18:30 UTC: 00:15–18:30 = 74; 96; 96; 18:45–24:00 = 22

Daily series (``GET /meters/{code}/series?resolution=1d``), the ``rollup_1d`` view, site totals
of a local day, daily carbon series of the site and of the meter, and the ``carbon_1d`` /
``carbon_site_1d`` views must show exactly these days, starting at local midnight, identical
on TimescaleDB (PGlite) and plain PostgreSQL. Skips when node/npm are missing (unless
ECC_PGLITE_REQUIRED=1).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from carbon import engine as carbon_engine
from carbon import series as carbon_series
from ingest.writer import detect_writer
from metering import registry, series
from metering.rollups import refresh_all
from migrations import runner as migrate
from tests.system.test_both_paths import Side, assert_same, items_of, set_up_both

pytestmark = pytest.mark.timescale

T0 = datetime(2025, 3, 10, tzinfo=UTC)
N = 288  # readings, one per 15 minutes
KWH = 0.25
# zone -> (site, meter, local midnight that starts the first day in UTC, readings per day)
SITES = {
    "Asia/Shanghai": (
        "CK-SH",
        "CK-SH-GRID",
        datetime(2025, 3, 9, 16, tzinfo=UTC),
        [64, 96, 96, 32],
    ),
    "Asia/Seoul": ("CK-SEL", "CK-SEL-GRID", datetime(2025, 3, 9, 15, tzinfo=UTC), [60, 96, 96, 36]),
    "Asia/Kolkata": (
        "CK-KOL",
        "CK-KOL-GRID",
        datetime(2025, 3, 9, 18, 30, tzinfo=UTC),
        [74, 96, 96, 22],
    ),
}
WINDOW = (T0 - timedelta(days=1), T0 + timedelta(days=4))  # every day of every zone


def _setup(side: Side) -> None:
    migrate.upgrade(side.engine)
    with side.session() as s:
        for tz, (site, meter, _, _) in SITES.items():
            registry.create_site(s, registry.SiteIn(site, site, timezone=tz, region="江苏"))
            registry.create_meter(
                s, registry.MeterIn(meter, "grid incomer", site, "electricity", "kWh", "delta")
            )
        s.commit()
        side.infos = registry.meter_infos(s, [m for _, m, _, _ in SITES.values()])
    with side.connect() as conn:
        side.writer = detect_writer(conn)
        conn.rollback()
    side.write(
        items_of(
            [
                (meter, T0 + timedelta(minutes=15 * k), KWH, None)
                for _, meter, _, _ in SITES.values()
                for k in range(1, N + 1)
            ]
        )
    )
    if side.timescale:
        with side.connect(autocommit=True) as conn:
            for level in ("1m", "15m", "1h"):
                conn.execute(f"CALL refresh_continuous_aggregate('rollup_{level}', NULL, NULL)")
    else:
        with side.connect() as conn:
            refresh_all(conn)


def _snapshot(side: Side) -> dict[str, Any]:
    snap: dict[str, Any] = {}
    with Session(side.engine) as s:
        for tz, (site, meter, first, _) in SITES.items():
            snap[f"{tz} series 1d"] = series.meter_series(s, meter, *WINDOW, "1d")
            snap[f"{tz} view 1d"] = [
                tuple(r)
                for r in s.execute(
                    text(
                        "SELECT r.bucket, r.energy, r.n FROM rollup_1d r "
                        "JOIN meter m ON m.id = r.meter_id WHERE m.code = :c ORDER BY 1"
                    ),
                    {"c": meter},
                ).all()
            ]
            day2 = first + timedelta(days=1)
            snap[f"{tz} totals day 2"] = series.site_totals(s, site, day2, day2 + timedelta(days=1))
            snap[f"{tz} emissions"] = carbon_engine.emissions(s, site, *WINDOW)
            snap[f"{tz} site carbon 1d"] = carbon_series.site_carbon(s, site, *WINDOW, "1d")
            snap[f"{tz} meter carbon 1d"] = carbon_series.meter_carbon(s, meter, *WINDOW, "1d")
            snap[f"{tz} carbon views 1d"] = [
                tuple(r)
                for r in s.execute(
                    text(
                        "SELECT c.bucket, c.activity, c.co2_t, cs.co2_t FROM carbon_1d c "
                        "JOIN meter m ON m.id = c.meter_id "
                        "JOIN carbon_site_1d cs ON cs.site_id = c.site_id "
                        "AND cs.bucket = c.bucket AND cs.version = c.version "
                        "WHERE m.code = :c ORDER BY 1"
                    ),
                    {"c": meter},
                ).all()
            ]
        s.commit()
    return snap


@pytest.fixture(scope="module")
def snapshots(pglite_side: Side, server_side: Side) -> tuple[dict, dict]:
    set_up_both((pglite_side, server_side), _setup)
    return _snapshot(pglite_side), _snapshot(server_side)


def test_both_paths_identical(snapshots: tuple[dict, dict]) -> None:
    ts, pg = snapshots
    assert ts.keys() == pg.keys()
    for key in ts:
        assert_same(ts[key], pg[key], f"{key} (timescaledb vs postgresql)")


@pytest.mark.parametrize("path", [0, 1], ids=["timescaledb", "postgresql"])
@pytest.mark.parametrize("tz", list(SITES))
def test_days_start_at_local_midnight_with_hand_worked_totals(
    snapshots: tuple[dict, dict], path: int, tz: str
) -> None:
    snap = snapshots[path]
    _, _, first, counts = SITES[tz]
    starts = [first + timedelta(days=k) for k in range(4)]
    points = snap[f"{tz} series 1d"]["points"]
    assert [p["ts"] for p in points] == starts
    assert [p["n"] for p in points] == counts
    assert [p["value"] for p in points] == pytest.approx([KWH * n for n in counts], rel=1e-12)
    zone = ZoneInfo(tz)
    for p in points:  # local midnight, in the site's zone
        local = p["ts"].astimezone(zone)
        assert (local.hour, local.minute, local.second) == (0, 0, 0), (tz, p["ts"])
    assert [p["ts"].astimezone(zone).date() for p in points] == [
        date(2025, 3, 10) + timedelta(days=k) for k in range(4)
    ]
    # the rollup_1d view: the same days (labelled start + 1 µs)
    us = timedelta(microseconds=1)
    assert [(b - us, n) for b, _, n in snap[f"{tz} view 1d"]] == list(
        zip(starts, counts, strict=True)
    )
    # a whole local day: 96 readings, 24 kWh
    totals = snap[f"{tz} totals day 2"]["carriers"]
    assert totals == [{"carrier": "electricity", "unit": "kWh", "total": pytest.approx(24.0)}]


@pytest.mark.parametrize("path", [0, 1], ids=["timescaledb", "postgresql"])
@pytest.mark.parametrize("tz", list(SITES))
def test_carbon_days_follow_the_site_zone(snapshots: tuple[dict, dict], path: int, tz: str) -> None:
    snap = snapshots[path]
    _, _, first, counts = SITES[tz]
    starts = [first + timedelta(days=k) for k in range(4)]
    em = snap[f"{tz} emissions"]
    assert em["electricity"]["consumption_kwh"] == pytest.approx(N * KWH)
    t_per_kwh = em["scope2_location_tco2"] / (N * KWH)
    assert t_per_kwh == pytest.approx(0.5827 / 1000)  # Jiangsu, the latest published year
    site_days = snap[f"{tz} site carbon 1d"]["points"]
    assert [p["ts"] for p in site_days] == starts
    want = [KWH * n * t_per_kwh for n in counts]
    assert [p["scope2_co2_t"] for p in site_days] == pytest.approx(want, rel=1e-9)
    meter_days = snap[f"{tz} meter carbon 1d"]["points"]
    assert [p["ts"] for p in meter_days] == starts
    assert [p["activity"] for p in meter_days] == pytest.approx([KWH * n for n in counts])
    assert [p["co2_t"] for p in meter_days] == pytest.approx(want, rel=1e-9)
    # the day views say the same (ad-hoc use)
    us = timedelta(microseconds=1)
    views = snap[f"{tz} carbon views 1d"]
    assert [b - us for b, *_ in views] == starts
    assert [c for _, _, c, _ in views] == pytest.approx(want, rel=1e-9)
    assert [c for *_, c in views] == pytest.approx(want, rel=1e-9)


def test_timescale_downgrade_restores_the_fixed_zone_aggregate(
    snapshots: tuple[dict, dict], pglite_side: Side
) -> None:
    """Runs last: revision 0005_site_clock's downgrade on TimescaleDB brings back the
    fixed-zone continuous aggregate (and its policy); upgrading again gives the view back."""
    caggs = "SELECT view_name FROM timescaledb_information.continuous_aggregates ORDER BY 1"
    kind = "SELECT relkind FROM pg_class WHERE relname = 'rollup_1d'"
    assert [r[0] for r in pglite_side.query(caggs)] == ["rollup_15m", "rollup_1h", "rollup_1m"]
    migrate.downgrade(pglite_side.engine, "0003")
    assert [r[0] for r in pglite_side.query(caggs)] == [
        "rollup_15m",
        "rollup_1d",
        "rollup_1h",
        "rollup_1m",
    ]
    meta = dict(pglite_side.query("SELECT key, value FROM ecc_meta"))
    assert "day_timezone" in meta and "legacy_day_timezone" not in meta
    migrate.upgrade(pglite_side.engine)
    assert pglite_side.query(kind) == [("v",)]
    assert [r[0] for r in pglite_side.query(caggs)] == ["rollup_15m", "rollup_1h", "rollup_1m"]
