"""Suppliers, their data requests, and material/transport factors (also from a PACT JSON)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Configurer, DbSession, Reader
from footprints import factor_import, pact, suppliers

router = APIRouter(tags=["footprints"])


class SupplierCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    contact: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2")


class FactorCreate(BaseModel):
    """A factor entered by hand, or ``pact``: a supplier's PACT ProductFootprint to import."""

    model_config = ConfigDict(extra="forbid")
    material: str | None = Field(default=None, max_length=120)
    supplier: str | None = None
    value: Decimal | None = Field(default=None, ge=0, description="kgCO2e per unit")
    unit: str | None = Field(default=None, description="the material's unit: kg, t, pcs, tkm …")
    source: str | None = None
    data_type: Literal["primary", "secondary"] | None = None
    boundary: str | None = "cradle-to-gate"
    standard: str | None = None
    verification: str | None = None
    evidence: str | None = None
    primary_data_share: Decimal | None = Field(default=None, ge=0, le=1)
    valid_from: date | None = None
    valid_to: date | None = Field(default=None, description="exclusive")
    pact: dict | None = Field(default=None, description="a PACT v2 ProductFootprint")


class RequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    supplier: str
    material: str = Field(min_length=1, max_length=120)
    due: date | None = None


class RequestPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["requested", "received", "verified", "expired"]
    factor_id: int | None = None
    comment: str | None = None


def _supplier_dict(s) -> dict:  # noqa: ANN001
    return {"code": s.code, "name": s.name, "contact": s.contact, "country": s.country}


@router.post("/suppliers", status_code=201)
def create_supplier(body: SupplierCreate, session: DbSession, who: Configurer) -> dict:
    s = suppliers.create_supplier(
        session, body.code, body.name, who.name, body.contact, body.country
    )
    session.commit()
    return _supplier_dict(s)


@router.get("/suppliers")
def list_suppliers(session: DbSession, _: Reader) -> list[dict]:
    requests = suppliers.list_requests(session)
    return [
        {
            **_supplier_dict(s),
            "requests": {
                st: sum(1 for r in requests if r["supplier"] == s.code and r["status"] == st)
                for st in suppliers.REQUEST_STATUSES
            },
        }
        for s in suppliers.list_suppliers(session)
    ]


@router.post("/supplier-factors", status_code=201)
def add_factor(body: FactorCreate, session: DbSession, who: Configurer) -> dict:
    if body.pact is not None:
        f = pact.import_factor(
            session, body.pact, body.supplier, body.material, who.name, body.evidence
        )
    else:
        f = suppliers.add_factor(session, suppliers.factor_in(body.model_dump()), who.name)
    out = suppliers.factor_dict(f, body.supplier or None)
    session.commit()
    return out


@router.post("/supplier-factors/pact", status_code=201)
def upload_pact(
    session: DbSession,
    who: Configurer,
    document: Annotated[dict, Body(description="the PACT JSON file as the request body")],
    supplier: Annotated[str, Query(min_length=1)],
    material: Annotated[str | None, Query()] = None,
) -> dict:
    f = pact.import_factor(session, document, supplier, material, who.name)
    out = suppliers.factor_dict(f, supplier)
    session.commit()
    return out


@router.post(
    "/supplier-factors/import",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                factor_import.XLSX: {"schema": {"type": "string", "format": "binary"}},
            }
        }
    },
)
async def import_factors(request: Request, session: DbSession, who: Configurer) -> dict:
    """CSV (``material,value,unit,source[,supplier,…]``) or XLSX with the same header."""
    content = await request.body()
    rows = factor_import.import_factors(
        session, content, request.headers.get("content-type", ""), who.name
    )
    session.commit()
    return {"imported": len(rows), "ids": [f.id for f in rows]}


@router.get("/supplier-factors")
def list_factors(session: DbSession, _: Reader, supplier: str | None = None) -> list[dict]:
    codes = {s.id: s.code for s in suppliers.list_suppliers(session)}
    return [
        suppliers.factor_dict(f, codes.get(f.supplier_id))
        for f in suppliers.list_factors(session, supplier)
    ]


@router.post("/supplier-requests", status_code=201)
def create_request(body: RequestCreate, session: DbSession, who: Configurer) -> dict:
    r = suppliers.create_request(session, body.supplier, body.material, body.due, who.name)
    session.commit()
    return suppliers.request_dict(r, body.supplier)


@router.patch("/supplier-requests/{request_id}")
def update_request(
    request_id: int, body: RequestPatch, session: DbSession, who: Configurer
) -> dict:
    suppliers.set_request_status(
        session, request_id, body.status, who.name, body.factor_id, body.comment
    )
    session.commit()
    return next(r for r in suppliers.list_requests(session) if r["id"] == request_id)


@router.get("/supplier-requests")
def list_requests(session: DbSession, _: Reader, supplier: str | None = None) -> list[dict]:
    return suppliers.list_requests(session, supplier)
