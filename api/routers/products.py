"""Products: declared unit, bill-of-materials versions, the meters that make them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Configurer, DbSession, Reader
from footprints import products

router = APIRouter(tags=["footprints"])


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    unit: str = Field(description="declared unit: kg, t, pcs, m2, l, m3, kWh, MJ")
    mass_kg_per_unit: Decimal | None = Field(
        default=None, gt=0, description="mass of one declared unit (mass allocation, PACT)"
    )
    site: str | None = None
    cpc: str | None = Field(default=None, max_length=32, description="UN CPC product code")


class BomItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    material: str = Field(min_length=1, max_length=120)
    quantity: Decimal = Field(gt=0, description="per declared unit of the product")
    unit: str = Field(min_length=1, max_length=16)
    supplier: str | None = None
    factor_kgco2e_per_unit: Decimal | None = Field(default=None, ge=0)
    factor_source: str | None = None
    stage: Literal["raw_materials", "packaging"] = "raw_materials"


class TransportLeg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    material: str | None = None
    mass_kg: Decimal = Field(ge=0, description="per declared unit of the product")
    distance_km: Decimal = Field(ge=0)
    mode: str = Field(description="road, rail, sea, inland_waterway, air, pipeline")
    factor_kgco2e_per_tkm: Decimal = Field(ge=0)
    factor_source: str = Field(min_length=1)


class BomPut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    valid_from: date
    items: list[BomItem] = Field(min_length=1)
    transport: list[TransportLeg] = Field(default_factory=list)
    process_kgco2e_per_unit: Decimal | None = Field(default=None, ge=0)
    process_source: str | None = None


class MetersPut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    meters: list[str]
    allocation: Literal["mass", "economic"] = "mass"
    electricity_factor_kgco2e_per_kwh: Decimal | None = Field(
        default=None, ge=0, description="evidenced supplier or green-power factor"
    )
    electricity_factor_source: str | None = None


@router.post("/products", status_code=201)
def create_product(body: ProductCreate, session: DbSession, who: Configurer) -> dict:
    row = products.create_product(session, products.ProductIn(**body.model_dump()), who.name)
    out = products.product_dict(session, row)
    session.commit()
    return out


@router.get("/products")
def list_products(session: DbSession, _: Reader) -> list[dict]:
    return [products.product_dict(session, p) for p in products.list_products(session)]


@router.get("/products/{code}")
def get_product(code: str, session: DbSession, _: Reader) -> dict:
    p = products.get_product(session, code, "code")
    boms = products.list_boms(session, p.id)
    return {
        **products.product_dict(session, p),
        "boms": [{"version": b.version, "valid_from": b.valid_from} for b in boms],
    }


@router.put("/products/{code}/bom", status_code=201)
def put_bom(code: str, body: BomPut, session: DbSession, who: Configurer) -> dict:
    data = products.BomIn(
        valid_from=body.valid_from,
        items=[products.BomItemIn(**i.model_dump()) for i in body.items],
        transport=[products.TransportIn(**t.model_dump()) for t in body.transport],
        process_kgco2e_per_unit=body.process_kgco2e_per_unit,
        process_source=body.process_source,
    )
    bom = products.put_bom(session, code, data, who.name)
    session.commit()
    return {"product": code, "version": bom.version, "valid_from": bom.valid_from}


@router.put("/products/{code}/meters")
def put_meters(code: str, body: MetersPut, session: DbSession, _: Configurer) -> dict:
    p = products.put_meters(
        session,
        code,
        body.meters,
        body.allocation,
        body.electricity_factor_kgco2e_per_kwh,
        body.electricity_factor_source,
    )
    out = products.product_dict(session, p)
    session.commit()
    return out
