"""Production output (quantity and output value) for intensity KPIs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import DbSession
from api.routers.activity import DataEntry
from carbon import records

router = APIRouter(tags=["carbon"])


class ProductionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: str
    product: str
    quantity: float = Field(ge=0)
    unit: str = Field(description="t, pcs, m2, …")
    start: datetime
    end: datetime
    output_value_cny: Decimal | None = Field(
        default=None, ge=0, le=Decimal("1e15"), decimal_places=2
    )


class ProductionOut(ProductionCreate):
    id: int


@router.post("/production", response_model=ProductionOut, status_code=201)
def add_production(body: ProductionCreate, session: DbSession, who: DataEntry) -> ProductionOut:
    row = records.add_production(session, records.ProductionIn(**body.model_dump()), who.name)
    session.commit()
    return ProductionOut(**body.model_dump(), id=row.id)
