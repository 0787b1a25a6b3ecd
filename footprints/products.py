"""Products, their bill-of-materials versions and the meters that make them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from core.errors import Conflict, Invalid, NotFound
from footprints.calc import check_number, check_text
from metering import registry
from models import Meter, Site
from models.footprints import Product, ProductBom, ProductBomItem, ProductMeter, Supplier

DECLARED_UNITS = ("kg", "t", "pcs", "m2", "l", "m3", "kWh", "MJ")
_MASS = {"kg": Decimal(1), "t": Decimal(1000)}
ALLOCATIONS = ("mass", "economic")
STAGES = ("raw_materials", "packaging")
MODES = ("road", "rail", "sea", "inland_waterway", "air", "pipeline")


@dataclass
class ProductIn:
    code: str
    name: str
    unit: str
    mass_kg_per_unit: Decimal | None = None
    site: str | None = None
    cpc: str | None = None


@dataclass
class BomItemIn:
    material: str
    quantity: Decimal
    unit: str
    supplier: str | None = None
    factor_kgco2e_per_unit: Decimal | None = None
    factor_source: str | None = None
    stage: str = "raw_materials"


@dataclass
class TransportIn:
    mass_kg: Decimal
    distance_km: Decimal
    mode: str
    factor_kgco2e_per_tkm: Decimal
    factor_source: str
    material: str | None = None


@dataclass
class BomIn:
    valid_from: date
    items: list[BomItemIn]
    transport: list[TransportIn] = field(default_factory=list)
    process_kgco2e_per_unit: Decimal | None = None
    process_source: str | None = None


def create_product(session: Session, data: ProductIn, actor: str) -> Product:
    code = data.code.strip()
    if not code:
        raise Invalid("code", "must not be empty")
    if data.unit not in DECLARED_UNITS:
        raise Invalid("unit", f"declared unit must be one of {', '.join(DECLARED_UNITS)}")
    if session.scalar(select(Product.id).where(Product.code == code)) is not None:
        raise Conflict("code", f"product {code!r} exists")
    check_text("code", code, 64)
    check_text("name", data.name, 200)
    check_text("cpc", data.cpc, 32)
    check_number("mass_kg_per_unit", data.mass_kg_per_unit, positive=True)
    mass = data.mass_kg_per_unit if data.mass_kg_per_unit is not None else _MASS.get(data.unit)
    site_id = registry.get_site(session, data.site).id if data.site else None
    row = Product(
        code=code,
        name=data.name,
        unit=data.unit,
        mass_kg_per_unit=mass,
        site_id=site_id,
        cpc=data.cpc,
        allocation="mass",
        created_by=actor,
    )
    session.add(row)
    session.flush()
    return row


def get_product(session: Session, code: str, field_name: str = "product") -> Product:
    row = session.scalar(select(Product).where(Product.code == code))
    if row is None:
        raise NotFound(field_name, f"no product {code!r}")
    return row


def list_products(session: Session) -> list[Product]:
    return list(session.scalars(select(Product).order_by(Product.code)))


def _supplier_id(session: Session, code: str | None, field_name: str) -> int | None:
    if code is None:
        return None
    sid = session.scalar(select(Supplier.id).where(Supplier.code == code))
    if sid is None:
        raise NotFound(field_name, f"no supplier {code!r}")
    return sid


def put_bom(session: Session, code: str, data: BomIn, actor: str) -> ProductBom:
    """Add the next BOM version of a product (earlier versions stay)."""
    product = get_product(session, code)
    if not data.items:
        raise Invalid("items", "a bill of materials needs at least one item")
    for i, it in enumerate(data.items):
        if not it.material.strip():
            raise Invalid(f"items[{i}].material", "must not be empty")
        check_text(f"items[{i}].material", it.material.strip(), 120)
        check_text(f"items[{i}].unit", it.unit, 16)
        check_number(f"items[{i}].quantity", it.quantity, positive=True)
        check_number(f"items[{i}].factor_kgco2e_per_unit", it.factor_kgco2e_per_unit)
        if it.stage not in STAGES:
            raise Invalid(f"items[{i}].stage", f"must be one of {', '.join(STAGES)}")
        if it.factor_kgco2e_per_unit is not None:
            if it.factor_kgco2e_per_unit < 0:
                raise Invalid(f"items[{i}].factor_kgco2e_per_unit", "must not be negative")
            if not (it.factor_source or "").strip():
                raise Invalid(f"items[{i}].factor_source", "a factor needs its source")
    for i, leg in enumerate(data.transport):
        if leg.mode not in MODES:
            raise Invalid(f"transport[{i}].mode", f"must be one of {', '.join(MODES)}")
        for name in ("mass_kg", "distance_km", "factor_kgco2e_per_tkm"):
            check_number(f"transport[{i}].{name}", getattr(leg, name))
        if not leg.factor_source.strip():
            raise Invalid(f"transport[{i}].factor_source", "a factor needs its source")
    check_number("process_kgco2e_per_unit", data.process_kgco2e_per_unit)
    if data.process_kgco2e_per_unit is not None and not (data.process_source or "").strip():
        raise Invalid("process_source", "process emissions need their source")
    version = (
        session.scalar(
            select(func.max(ProductBom.version)).where(ProductBom.product_id == product.id)
        )
        or 0
    ) + 1
    bom = ProductBom(
        product_id=product.id,
        version=version,
        valid_from=data.valid_from,
        transport=[
            {
                "material": leg.material,
                "mass_kg": str(leg.mass_kg),
                "distance_km": str(leg.distance_km),
                "mode": leg.mode,
                "factor_kgco2e_per_tkm": str(leg.factor_kgco2e_per_tkm),
                "factor_source": leg.factor_source,
            }
            for leg in data.transport
        ],
        process_kgco2e_per_unit=data.process_kgco2e_per_unit,
        process_source=data.process_source,
        created_by=actor,
    )
    session.add(bom)
    session.flush()
    for i, it in enumerate(data.items):
        session.add(
            ProductBomItem(
                bom_id=bom.id,
                line=i + 1,
                material=it.material.strip(),
                quantity=it.quantity,
                unit=it.unit,
                stage=it.stage,
                supplier_id=_supplier_id(session, it.supplier, f"items[{i}].supplier"),
                factor_kgco2e_per_unit=it.factor_kgco2e_per_unit,
                factor_source=it.factor_source,
            )
        )
    session.flush()
    return bom


def bom_at(session: Session, product_id: int, day: date) -> ProductBom | None:
    """The BOM version in force on ``day`` (the newest version with valid_from ≤ day)."""
    return session.scalar(
        select(ProductBom)
        .where(ProductBom.product_id == product_id, ProductBom.valid_from <= day)
        .order_by(ProductBom.valid_from.desc(), ProductBom.version.desc())
        .limit(1)
    )


def bom_items(session: Session, bom_id: int) -> list[tuple[ProductBomItem, str | None]]:
    rows = session.execute(
        select(ProductBomItem, Supplier.code)
        .outerjoin(Supplier, Supplier.id == ProductBomItem.supplier_id)
        .where(ProductBomItem.bom_id == bom_id)
        .order_by(ProductBomItem.line)
    ).all()
    return [(item, code) for item, code in rows]


def list_boms(session: Session, product_id: int) -> list[ProductBom]:
    return list(
        session.scalars(
            select(ProductBom)
            .where(ProductBom.product_id == product_id)
            .order_by(ProductBom.version)
        )
    )


def put_meters(
    session: Session,
    code: str,
    meters: list[str],
    allocation: str,
    electricity_factor: Decimal | None = None,
    electricity_factor_source: str | None = None,
) -> Product:
    """Set the meters whose energy goes into the product, and the allocation rule (for the
    product and every co-product sharing one of these meters)."""
    product = get_product(session, code)
    if allocation not in ALLOCATIONS:
        raise Invalid("allocation", f"must be one of {', '.join(ALLOCATIONS)}")
    check_number("electricity_factor_kgco2e_per_kwh", electricity_factor)
    if electricity_factor is not None and not (electricity_factor_source or "").strip():
        raise Invalid("electricity_factor_source", "an evidenced factor needs its source")
    if len(set(meters)) != len(meters):
        raise Invalid("meters", "a meter is listed twice")
    ids = []
    for i, mcode in enumerate(meters):
        m = session.scalar(select(Meter).where(Meter.code == mcode))
        if m is None:
            raise NotFound(f"meters[{i}]", f"no meter {mcode!r}")
        if m.carrier != "electricity" or m.kind == "gauge":
            raise Invalid(
                f"meters[{i}]", "only electricity energy meters (counter or delta) are supported"
            )
        ids.append(m.id)
    session.execute(delete(ProductMeter).where(ProductMeter.product_id == product.id))
    for mid in ids:
        session.add(ProductMeter(product_id=product.id, meter_id=mid))
    product.allocation = allocation
    # the rule belongs to the shared process: every co-product on these meters follows it, so
    # the shares of a meter always add up to its whole energy
    if ids:
        session.execute(
            update(Product)
            .where(
                Product.id.in_(
                    select(ProductMeter.product_id).where(ProductMeter.meter_id.in_(ids))
                )
            )
            .values(allocation=allocation)
        )
    product.electricity_factor_kgco2e_per_kwh = electricity_factor
    product.electricity_factor_source = electricity_factor_source if electricity_factor else None
    session.flush()
    return product


def product_meters(session: Session, product_id: int) -> list[Meter]:
    return list(
        session.scalars(
            select(Meter)
            .join(ProductMeter, ProductMeter.meter_id == Meter.id)
            .where(ProductMeter.product_id == product_id)
            .order_by(Meter.code)
        )
    )


def co_products(session: Session, meter_id: int) -> list[Product]:
    """Every product drawing on one meter (the product itself included)."""
    return list(
        session.scalars(
            select(Product)
            .join(ProductMeter, ProductMeter.product_id == Product.id)
            .where(ProductMeter.meter_id == meter_id)
            .order_by(Product.code)
        )
    )


def product_dict(session: Session, p: Product) -> dict:
    site = session.get(Site, p.site_id) if p.site_id else None
    return {
        "code": p.code,
        "name": p.name,
        "unit": p.unit,
        "mass_kg_per_unit": float(p.mass_kg_per_unit) if p.mass_kg_per_unit else None,
        "site": site.code if site else None,
        "cpc": p.cpc,
        "allocation": p.allocation,
        "meters": [m.code for m in product_meters(session, p.id)],
        "electricity_factor_kgco2e_per_kwh": (
            float(p.electricity_factor_kgco2e_per_kwh)
            if p.electricity_factor_kgco2e_per_kwh is not None
            else None
        ),
        "electricity_factor_source": p.electricity_factor_source,
    }
