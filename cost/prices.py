"""Prices per unit of other carriers (gas, steam, heat, water …) with validity dates.
Append-only: a new price is a new row; the newest row valid on a day wins (a site's own price
before a price for every site)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import units
from core.errors import Invalid
from models import Site
from models.cost import CarrierPrice


@dataclass(frozen=True)
class PriceIn:
    carrier: str
    unit: str
    price_cny_per_unit: Decimal
    valid_from: date
    valid_to: date | None = None
    site: str | None = None
    source: str | None = None


def add_price(session: Session, data: PriceIn, user: str) -> CarrierPrice:
    try:
        carrier = units.Carrier(data.carrier)
    except ValueError:
        raise Invalid("carrier", f"unknown carrier {data.carrier!r}") from None
    if carrier in (units.Carrier.ELECTRICITY, units.Carrier.REACTIVE_ENERGY):
        raise Invalid("carrier", "electricity is priced by its tariff (POST /api/v1/tariffs)")
    unit = units.lookup(data.unit, "unit")
    if not units.is_quantity_unit(unit.symbol):
        raise Invalid("unit", f"a price is per quantity (energy, volume, mass), not {data.unit!r}")
    if not data.price_cny_per_unit.is_finite() or data.price_cny_per_unit < 0:
        raise Invalid("price_cny_per_unit", "must be a finite number >= 0")
    if data.valid_to is not None and data.valid_to <= data.valid_from:
        raise Invalid("valid_to", "must be after valid_from")
    site_id = None
    if data.site is not None:
        site_id = session.scalar(select(Site.id).where(Site.code == data.site))
        if site_id is None:
            raise Invalid("site", f"unknown site {data.site!r}")
    row = CarrierPrice(
        site_id=site_id,
        carrier=carrier.value,
        unit=unit.symbol,
        price_cny_per_unit=data.price_cny_per_unit,
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        source=data.source,
        created_by=user,
    )
    session.add(row)
    session.flush()
    return row


def list_prices(session: Session, carrier: str | None = None) -> list[CarrierPrice]:
    stmt = select(CarrierPrice).order_by(CarrierPrice.id)
    if carrier is not None:
        stmt = stmt.where(CarrierPrice.carrier == carrier)
    return list(session.scalars(stmt))
