"""The demo's products: suppliers, BOMs, daily output and a footprint worked by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import NotFound
from footprints import service
from metering import registry
from models.carbon import CarbonProduction
from shell.demo import plant
from shell.demo.products import ensure_products, record_shifts

TZ = ZoneInfo(plant.TIMEZONE)
START = datetime(2024, 3, 4, tzinfo=TZ)  # a Monday
END = datetime(2024, 3, 11, tzinfo=TZ)


def _ensure_stamping(session: Session) -> None:
    """The part of the demo plant the products use (the rest is not needed here)."""
    for site in plant.SITES:
        if site["code"] in (
            "DEMO-PARK",
            "DEMO-ENT",
            "DEMO-PLANT",
            "WS-STAMP",
            "LN-STAMP-1",
            "LN-STAMP-2",
        ):
            try:
                registry.get_site(session, site["code"])
            except NotFound:
                registry.create_site(session, registry.SiteIn(**site))
                session.flush()
    have = registry.meter_infos(session, ["EL-INCOMER", "EL-STAMP", "EL-STAMP-L1", "EL-STAMP-L2"])
    for m in plant.METERS:
        if m["code"] in ("EL-STAMP-L1", "EL-STAMP-L2") and m["code"] not in have:
            registry.create_meter(session, registry.MeterIn(**{**m, "parent": None}))
            session.flush()


def test_demo_products_have_footprints(engine) -> None:  # noqa: ANN001
    with Session(engine) as session:
        _ensure_stamping(session)
        ensure_products(session, START, END, plant.TIMEZONE)
        ensure_products(session, START, END, plant.TIMEZONE)  # a second run adds nothing
        session.commit()
        n, qty = session.execute(
            select(func.count(), func.sum(CarbonProduction.quantity)).where(
                CarbonProduction.product == "DOOR-OUTER",
                CarbonProduction.period_start >= START,
                CarbonProduction.period_end <= END,
            )
        ).one()
        assert (n, qty) == (18, 5 * 420 + 168)  # 3 shifts of five workdays, Saturday at 40 %
        got = dict(
            session.execute(
                select(CarbonProduction.period_start, CarbonProduction.quantity).where(
                    CarbonProduction.product == "DOOR-OUTER",
                    CarbonProduction.period_start >= START,
                    CarbonProduction.period_end <= END,
                )
            ).all()
        )
        monday, saturday = START, datetime(2024, 3, 9, tzinfo=TZ)
        # 420 pieces a workday: 25 % / 40 % / 35 %; a Saturday's 168: 42 / 67 / 59
        for day, parts in ((monday, (105, 168, 147)), (saturday, (42, 67, 59))):
            for h, q in zip((0, 8, 16), parts, strict=True):
                assert got[day + timedelta(hours=h)] == q, (day, h)
        fp = service.footprint(session, "DOOR-OUTER", START, END)
        session.commit()
    steel = 11.5 * 1.32  # kg of sheet per 11.5-kg panel
    by_hand = {
        "raw_materials": steel * 2.05 + 0.08 * 3.6,  # supplier-specific steel factor wins
        "transport": steel / 1000 * 420 * 0.09,
        "packaging": 0.35 * 1.1,
        "process": 0.0,
    }
    for stage, value in by_hand.items():
        assert fp["by_stage"][stage] == pytest.approx(value, abs=1e-6), stage
    assert fp["by_material"][0]["data_type"] == "primary"
    assert fp["energy"]["allocation"] == "mass"


def test_the_shift_in_progress_is_recorded_when_it_begins(engine) -> None:  # noqa: ANN001
    """Output per shift from the first minute: at 10:05 on a Tuesday the 08:00-16:00 shift
    exists (a period in progress counts its elapsed share); the 16:00 shift does not yet."""
    tuesday = datetime(2024, 3, 12, tzinfo=TZ)
    with Session(engine) as session:
        _ensure_stamping(session)
        ensure_products(session, START, END, plant.TIMEZONE)
        made = record_shifts(session, tuesday, tuesday + timedelta(hours=10, minutes=5), TZ)
        again = record_shifts(session, tuesday, tuesday + timedelta(hours=10, minutes=6), TZ)
        rows = session.execute(
            select(CarbonProduction.period_start, CarbonProduction.period_end).where(
                CarbonProduction.product == "HOOD-INNER",
                CarbonProduction.period_start >= tuesday,
            )
        ).all()
        session.rollback()
    assert (made, again) == (4, 0)  # two shifts x two products, once
    assert sorted(rows) == [
        (tuesday, tuesday + timedelta(hours=8)),
        (tuesday + timedelta(hours=8), tuesday + timedelta(hours=16)),
    ]
