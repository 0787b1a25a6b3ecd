"""Demo products with footprints: two stamped co-products sharing the press lines, their
suppliers, bills of materials, output per shift and a supplier data request.

Factor values here are demo figures made up for the demo (labelled as such), not values of
any third-party database; the electricity factor is the national carbon-footprint factor
from the shipped library.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon import records
from core.errors import NotFound
from footprints import products, suppliers
from models.carbon import CarbonProduction
from shell.demo import history

DEMO = "demo value (made up for the demo, not a database figure)"
SUPPLIERS = [
    ("SUP-STEEL", "Huadong Steel Sheet 华东钢板", "CN"),
    ("SUP-SEAL", "Eastern Sealants 东方密封胶", "CN"),
    ("SUP-PACK", "Green Pack 绿色包装", "CN"),
]
# code, name, mass per piece (kg), pieces per workday (day shift + night shift), CNY per piece
PRODUCTS = [
    ("DOOR-OUTER", "Door outer panel 车门外板", Decimal("11.5"), 420, Decimal("380.00")),
    ("HOOD-INNER", "Hood inner panel 发动机罩内板", Decimal("8.2"), 360, Decimal("260.00")),
]
LINES = ["EL-STAMP-L1", "EL-STAMP-L2"]
# three site-local shifts of 8 h and each one's share of a day's output (the night shift
# runs slower, like the press lines' load in the history generator)
SHIFTS = ((0, 8), (8, 16), (16, 24))
SHIFT_SHARE = (Decimal("0.25"), Decimal("0.40"), Decimal("0.35"))
_DAY_SHARE = {
    history.WORKDAY: Decimal(1),
    history.SATURDAY: Decimal("0.4"),
    history.SUNDAY: Decimal(0),
    history.HOLIDAY: Decimal(0),
}


def _bom(mass: Decimal) -> products.BomIn:
    steel = (mass * Decimal("1.32")).quantize(Decimal("0.001"))  # blank incl. offcuts
    return products.BomIn(
        valid_from=date(2020, 1, 1),
        items=[
            products.BomItemIn("cold-rolled steel sheet", steel, "kg", "SUP-STEEL", None, None),
            products.BomItemIn("sealant", Decimal("0.08"), "kg", "SUP-SEAL", Decimal("3.6"), DEMO),
            products.BomItemIn(
                "corrugated carton",
                Decimal("0.35"),
                "kg",
                "SUP-PACK",
                Decimal("1.1"),
                DEMO,
                "packaging",
            ),
        ],
        transport=[
            products.TransportIn(steel, Decimal(420), "road", Decimal("0.09"), DEMO, "steel"),
        ],
        process_kgco2e_per_unit=None,
    )


def ensure_products(session: Session, start: datetime, end: datetime, tz: str) -> None:
    """Create what is missing and record the output of each shift begun in [start, end)."""
    for code, name, country in SUPPLIERS:
        try:
            suppliers.get_supplier(session, code)
        except NotFound:
            suppliers.create_supplier(session, code, name, "demo", None, country)
    if not suppliers.list_factors(session, "SUP-STEEL"):
        suppliers.add_factor(
            session,
            suppliers.FactorIn(
                material="cold-rolled steel sheet",
                value=Decimal("2.05"),
                unit="kg",
                source=f"Huadong Steel PCF declaration — {DEMO}",
                supplier="SUP-STEEL",
                standard="GB/T 24067-2024",
                verification="self-declared",
                primary_data_share=Decimal("0.62"),
            ),
            "demo",
        )
        suppliers.add_factor(
            session,
            suppliers.FactorIn(
                material="cold-rolled steel sheet", value=Decimal("2.40"), unit="kg", source=DEMO
            ),
            "demo",
        )
        suppliers.create_request(session, "SUP-SEAL", "sealant", None, "demo")
    for code, name, mass, _, _ in PRODUCTS:
        try:
            products.get_product(session, code)
        except NotFound:
            products.create_product(
                session, products.ProductIn(code, name, "pcs", mass, "WS-STAMP"), "demo"
            )
            products.put_bom(session, code, _bom(mass), "demo")
            products.put_meters(session, code, LINES, "mass")
    zone = ZoneInfo(tz)
    record_shifts(session, start, end, zone)


def shifts(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[datetime, datetime, int]]:
    """The site-local shifts (start, end, index 0..2) that begin in [start, end)."""
    out = []
    day = start.astimezone(zone).date()
    while True:
        for i, (h0, h1) in enumerate(SHIFTS):
            lo = datetime(day.year, day.month, day.day, h0, tzinfo=zone)
            if lo >= end:
                return out
            if lo >= start:
                out.append((lo, lo + timedelta(hours=h1 - h0), i))
        day += timedelta(days=1)


def shift_output(per_day: int, day: date, shift: int) -> int:
    """Pieces of a shift: the day's output (by day type) split by ``SHIFT_SHARE``, the
    last shift taking the rounding so the three add up to the day's output."""
    total = int(per_day * _DAY_SHARE[history.day_type(day)])
    parts = [int(total * share + Decimal("0.5")) for share in SHIFT_SHARE[:2]]
    return parts[shift] if shift < 2 else total - sum(parts)


def record_shifts(session: Session, start: datetime, end: datetime, zone: ZoneInfo) -> int:
    """Record the output of every shift that has begun in [start, end), once: the current
    shift included, as a record over the whole shift made when it begins (the demo's output
    is known in advance; a period in progress counts the share of the shift elapsed). Days
    recorded as a whole by an earlier version are left as they are. Returns records made."""
    codes = [p[0] for p in PRODUCTS]
    have: set[tuple[str, datetime]] = set()
    whole_days: set[tuple[str, date]] = set()
    for p, lo, hi in session.execute(
        select(
            CarbonProduction.product, CarbonProduction.period_start, CarbonProduction.period_end
        ).where(CarbonProduction.product.in_(codes), CarbonProduction.period_end > start)
    ).all():
        have.add((p, lo))
        if hi - lo >= timedelta(days=1):
            whole_days.add((p, lo.astimezone(zone).date()))
    made = 0
    for lo, hi, i in shifts(start, end, zone):
        day = lo.astimezone(zone).date()
        for code, _, _, per_day, cny in PRODUCTS:
            qty = shift_output(per_day, day, i)
            if qty == 0 or (code, lo) in have or (code, day) in whole_days:
                continue
            records.add_production(
                session,
                records.ProductionIn(
                    site="WS-STAMP",
                    product=code,
                    quantity=qty,
                    unit="pcs",
                    start=lo,
                    end=hi,
                    output_value_cny=cny * qty,
                ),
                "demo",
            )
            made += 1
    session.flush()
    return made
