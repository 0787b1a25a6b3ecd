"""TOU templates shipped as data: each covers every minute of every month exactly once after
the overlay rule, names its source document, and keeps the verification of its rows."""

from __future__ import annotations

import csv
from decimal import Decimal

import numpy as np
import pytest

from core.errors import Invalid
from cost import schedule
from tests.support.paths import SHARED_DATA

REFERENCE = SHARED_DATA.parent / "reference" / "management" / "tou_tariffs.csv"


def _grid(name: str) -> tuple[list[dict], np.ndarray]:
    rows = schedule.expand_template(name, Decimal("0.6"))
    return rows, schedule.period_grid(
        [
            schedule.Row(
                r["period"], tuple(r["hours"]), tuple(r["months"]), r["day_type"], Decimal(1)
            )
            for r in rows
        ]
    )


@pytest.mark.parametrize("name", sorted(schedule.templates()))
def test_templates_cover_each_day_once_and_name_a_source(name: str) -> None:
    _grid(name)  # raises on a gap or an overlap
    meta = schedule.manifest()["templates"][name]
    assert meta["document"] and meta["effective_from"]


def _period_at(name: str, month: int, hhmm: str) -> tuple[str, Decimal]:
    rows, grid = _grid(name)
    h, m = map(int, hhmm.split(":"))
    r = rows[grid[0, month - 1, h * 60 + m]]
    return r["period"], r["multiplier_to_flat"]


@pytest.mark.parametrize(
    ("name", "month", "at", "period", "ratio"),
    [
        ("jiangsu-2025-two-part", 6, "14:00", "peak", "1.80"),
        ("jiangsu-2025-two-part", 6, "13:59", "flat", "1.00"),
        ("jiangsu-2025-two-part", 6, "12:00", "valley", "0.35"),
        ("jiangsu-2025-two-part", 4, "14:30", "flat", "1.00"),
        ("jiangsu-2025-two-part", 7, "20:00", "sharp", "2.16"),  # overlay, single source
        ("jiangsu-2025-two-part", 7, "21:30", "peak", "1.80"),
        ("guangdong-2021", 8, "16:00", "sharp", "2.125"),
        ("guangdong-2021", 3, "16:00", "peak", "1.70"),
        ("shandong-2025", 1, "23:00", "flat", "1"),  # unlisted hours are flat
        ("shandong-2025", 1, "12:00", "deep_valley", "0.10"),
        ("zhejiang-2026", 7, "19:00", "sharp", "2.05"),
        ("shanghai-2023-two-part", 7, "13:00", "sharp", "2.25"),
        ("shaanxi-2025", 12, "19:00", "sharp", "1.90"),
        ("anhui-2025", 12, "23:30", "valley", "0.382"),
    ],
)
def test_periods_at_known_hours(name: str, month: int, at: str, period: str, ratio: str) -> None:
    assert _period_at(name, month, at) == (period, Decimal(ratio))


def test_single_source_rows_are_flagged() -> None:
    rows, _ = _grid("jiangsu-2025-two-part")
    flags = {r["period"]: r["verification"] for r in rows if 7 in r["months"]}
    assert flags["sharp"] == "single_source" and flags["peak"] == "verified_2_sources"
    z = schedule.expand_template("zhejiang-2026", Decimal("0.6"))
    assert all("hours single_source" in r["verification"] for r in z)


@pytest.mark.shared_data
def test_jiangsu_rows_match_the_reference() -> None:
    if not REFERENCE.exists():
        pytest.skip("../shared/reference is absent")
    ref = [
        r
        for r in csv.DictReader(REFERENCE.open(encoding="utf-8"))
        if r["province"].startswith("Jiangsu") and r["verification"] == "verified_2_sources"
    ]
    assert len(ref) == 6
    sharp_months = {7, 8, 12, 1}  # the sharp overlay (single source) starts some peak blocks
    for r in ref:
        for month in map(int, r["months"].split(",")):
            for span in r["hours"].split(";"):
                start = span.split("-")[0]
                got = _period_at("jiangsu-2025-two-part", month, start)
                if got[0] == "sharp" and r["period"] == "peak" and month in sharp_months:
                    continue
                assert got == (r["period"], Decimal(r["multiplier_to_flat"])), (month, span)


def test_a_wrapping_range_and_bad_times() -> None:
    assert schedule.parse_range("23:00-06:00", "h") == [(1380, 1440), (0, 360)]
    with pytest.raises(Invalid):
        schedule.parse_range("24:00-01:00", "h")
    with pytest.raises(Invalid):
        schedule.parse_range("10:00-10:00", "h")


def test_guangdong_event_day_overlay() -> None:
    """粤发改价格〔2021〕331号: sharp 11:00-12:00 and 15:00-17:00 in July-September and on any
    day Guangzhou's daily maximum reaches 35 °C: the second is the event layer, every month."""
    rows, grid = _grid("guangdong-2021")
    event = [r for r in rows if r["day_type"] == "event"]
    assert [(r["period"], r["hours"], r["months"]) for r in event] == [
        ("sharp", ["11:00-12:00", "15:00-17:00"], list(range(1, 13)))
    ]
    assert event[0]["price_cny_per_kwh"] == Decimal("0.6") * Decimal("2.125")
    layer = grid[schedule.EVENT_LAYER]
    june = layer[5]
    covered = {m for m in range(schedule.MINUTES) if june[m] >= 0}
    assert covered == set(range(11 * 60, 12 * 60)) | set(range(15 * 60, 17 * 60))
    assert rows[int(grid[0, 5, 11 * 60])]["period"] == "peak"  # an ordinary June day
    assert rows[int(june[11 * 60])]["period"] == "sharp"


def test_event_rows_may_leave_hours_but_not_overlap() -> None:
    base = schedule.Row("flat", ("00:00-24:00",), schedule.ALL_MONTHS, "all", Decimal(1))
    heat = schedule.Row("sharp", ("14:00-16:00",), (7,), "event", Decimal(2))
    grid = schedule.period_grid([base, heat])
    assert grid[2, 6, 14 * 60] == 1 and grid[2, 6, 13 * 60] == -1 and grid[2, 5, 14 * 60] == -1
    clash = schedule.Row("peak", ("15:00-17:00",), (7,), "event", Decimal(2))
    with pytest.raises(Invalid) as err:
        schedule.period_grid([base, heat, clash])
    assert "15:00 in month 7 on an event day" in err.value.reason
    with pytest.raises(Invalid, match="gap"):  # event rows never fill an ordinary day
        schedule.period_grid([heat])


def test_anhui_holiday_deep_valley_is_an_event_row() -> None:
    """皖发改价格〔2025〕302号 (two copies): deep valley 11:00-15:00 on holidays of ≥ 3 days,
    0.382 × 0.8 = 0.306 of flat; on other days 14:00-15:00 stays flat in May."""
    rows, grid = _grid("anhui-2025")
    (event,) = [r for r in rows if r["day_type"] == "event"]
    assert (event["period"], event["hours"], event["multiplier_to_flat"]) == (
        "deep_valley",
        ["11:00-15:00"],
        Decimal("0.306"),
    )
    assert rows[int(grid[schedule.EVENT_LAYER, 4, 14 * 60 + 30])]["period"] == "deep_valley"
    assert rows[int(grid[0, 4, 14 * 60 + 30])]["period"] == "flat"
