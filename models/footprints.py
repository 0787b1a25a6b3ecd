"""Product carbon footprints (GB/T 24067 / ISO 14067) and supply-chain carbon: products with
their declared unit, bills of materials per version, meters that make them, suppliers, their
data requests and factors, and the footprint versions computed from all of that.

Nothing here is overwritten: a new BOM is a new version, a factor is superseded by a newer
valid period, a footprint whose inputs changed is stored as the next version.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

TZ = DateTime(timezone=True)
QTY = Numeric(24, 9)


class Product(Base):
    """A product and its declared unit (``unit``: kg, t, pcs, m2, l, m3, kWh, MJ).

    ``mass_kg_per_unit`` is the mass of one declared unit (needed for mass allocation and the
    PACT export of piece-counted products). ``allocation`` splits shared meters between
    co-products: ``mass`` (default, a physical relationship) or ``economic`` (output value).
    ``electricity_factor_kgco2e_per_kwh`` overrides the national electricity carbon-footprint
    factor where a supplier-specific or green-power factor is evidenced (``…_source``).
    """

    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint("allocation IN ('mass', 'economic')", name="allocation"),
        CheckConstraint("mass_kg_per_unit IS NULL OR mass_kg_per_unit > 0", name="mass_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(16))
    mass_kg_per_unit: Mapped[Decimal | None] = mapped_column(QTY)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    cpc: Mapped[str | None] = mapped_column(String(32))
    allocation: Mapped[str] = mapped_column(String(16), default="mass", server_default="mass")
    electricity_factor_kgco2e_per_kwh: Mapped[Decimal | None] = mapped_column(QTY)
    electricity_factor_source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))


class ProductBom(Base):
    """One version of a product's bill of materials, in force from ``valid_from``.

    ``transport`` holds the inbound legs ``[{material, mass_kg, distance_km, mode,
    factor_kgco2e_per_tkm, factor_source}]`` per declared unit; ``process_kgco2e_per_unit`` the
    direct process emissions of the plant's own stage.
    """

    __tablename__ = "product_bom"
    __table_args__ = (UniqueConstraint("product_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    transport: Mapped[list] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    process_kgco2e_per_unit: Mapped[Decimal | None] = mapped_column(QTY)
    process_source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))


class ProductBomItem(Base):
    """A material (or packaging) line: quantity per declared unit, optional supplier and an
    optional default factor with its source (secondary data)."""

    __tablename__ = "product_bom_item"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("stage IN ('raw_materials', 'packaging')", name="stage"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bom_id: Mapped[int] = mapped_column(ForeignKey("product_bom.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    material: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[Decimal] = mapped_column(QTY)
    unit: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(
        String(16), default="raw_materials", server_default="raw_materials"
    )
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("supplier.id"))
    factor_kgco2e_per_unit: Mapped[Decimal | None] = mapped_column(QTY)
    factor_source: Mapped[str | None] = mapped_column(Text)


class ProductMeter(Base):
    """A meter whose energy goes into the product (shared meters are split by allocation)."""

    __tablename__ = "product_meter"

    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"), primary_key=True, index=True)


class Supplier(Base):
    __tablename__ = "supplier"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))


class MaterialFactor(Base):
    """A material or transport factor in kgCO₂e per ``unit`` with provenance.

    ``supplier_id`` set: supplier-specific (primary) data that overrides defaults while valid;
    NULL: a default entered or imported by the user (secondary data). ``pact`` keeps the
    supplier's PACT footprint as received.
    """

    __tablename__ = "material_factor"
    __table_args__ = (
        CheckConstraint("value >= 0", name="value_nonnegative"),
        CheckConstraint("data_type IN ('primary', 'secondary')", name="data_type"),
        CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from", name="valid_period"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    material: Mapped[str] = mapped_column(String(120), index=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("supplier.id"), index=True)
    value: Mapped[Decimal] = mapped_column(QTY)
    unit: Mapped[str] = mapped_column(String(16))
    data_type: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    boundary: Mapped[str | None] = mapped_column(Text)
    standard: Mapped[str | None] = mapped_column(Text)
    verification: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    primary_data_share: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    pact: Mapped[dict | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))


class SupplierRequest(Base):
    """A data request to a supplier: requested → received → verified, or expired."""

    __tablename__ = "supplier_request"
    __table_args__ = (
        CheckConstraint(
            "status IN ('requested', 'received', 'verified', 'expired')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("supplier.id"), index=True)
    material: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default="requested", server_default="requested")
    due: Mapped[date | None] = mapped_column(Date)
    factor_id: Mapped[int | None] = mapped_column(ForeignKey("material_factor.id"))
    history: Mapped[list] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))


class FootprintVersion(Base):
    """A computed footprint of one product and period; a new version when its inputs change."""

    __tablename__ = "footprint_version"
    __table_args__ = (UniqueConstraint("product_id", "period_start", "period_end", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    period_start: Mapped[datetime] = mapped_column(TZ)
    period_end: Mapped[datetime] = mapped_column(TZ)
    version: Mapped[int] = mapped_column(Integer)
    derivation_hash: Mapped[str] = mapped_column(String(64))
    kgco2e_per_unit: Mapped[Decimal] = mapped_column(QTY)
    result: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
