"""Demo products with footprints: two stamped co-products sharing the press lines, their
suppliers, bills of materials, daily output and a supplier data request.

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
    """Create what is missing and record each complete local day's output in [start, end)."""
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
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()  # today is not complete: stop before it
    have = {
        (p, s.astimezone(zone).date())
        for p, s in session.execute(
            select(CarbonProduction.product, CarbonProduction.period_start).where(
                CarbonProduction.product.in_([p[0] for p in PRODUCTS])
            )
        ).all()
    }
    while day < last:
        share = _DAY_SHARE[history.day_type(day)]
        lo = datetime(day.year, day.month, day.day, tzinfo=zone)
        for code, _, _, per_day, cny in PRODUCTS:
            if share == 0 or (code, day) in have:
                continue
            qty = int(per_day * share)
            records.add_production(
                session,
                records.ProductionIn(
                    site="WS-STAMP",
                    product=code,
                    quantity=qty,
                    unit="pcs",
                    start=lo,
                    end=lo + timedelta(days=1),
                    output_value_cny=cny * qty,
                ),
                "demo",
            )
        day += timedelta(days=1)
    session.flush()
