"""Suppliers, their data requests, and material/transport factors with provenance.

A factor with a supplier is supplier-specific (primary) data and, while valid, overrides the
default factor of the material (and the factor written in a BOM line).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.errors import Conflict, Invalid, NotFound
from footprints.calc import check_number, check_text
from models.footprints import MaterialFactor, Supplier, SupplierRequest

REQUEST_STATUSES = ("requested", "received", "verified", "expired")
_NEXT = {
    "requested": {"received", "expired"},
    "received": {"verified", "expired", "requested"},
    "verified": {"expired"},
    "expired": {"requested"},
}


@dataclass
class FactorIn:
    material: str
    value: Decimal
    unit: str
    source: str
    supplier: str | None = None
    data_type: str | None = None
    boundary: str | None = "cradle-to-gate"
    standard: str | None = None
    verification: str | None = None
    evidence: str | None = None
    primary_data_share: Decimal | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    pact: dict | None = None


def factor_in(fields: dict) -> FactorIn:
    """A hand-entered factor from loose fields, naming the first missing one."""
    for name in ("material", "value", "unit", "source"):
        if fields.get(name) in (None, ""):
            raise Invalid(name, "required (or give `pact`: a PACT footprint to import)")
    known = FactorIn.__dataclass_fields__
    return FactorIn(**{k: v for k, v in fields.items() if k in known})


def create_supplier(
    session: Session, code: str, name: str, actor: str, contact: str | None, country: str | None
) -> Supplier:
    if not code.strip():
        raise Invalid("code", "must not be empty")
    check_text("code", code.strip(), 64)
    check_text("name", name, 200)
    check_text("contact", contact, 200)
    if country is not None and (len(country) != 2 or not country.isalpha()):
        raise Invalid("country", "ISO 3166-1 alpha-2 code, e.g. CN")
    if session.scalar(select(Supplier.id).where(Supplier.code == code)) is not None:
        raise Conflict("code", f"supplier {code!r} exists")
    row = Supplier(
        code=code.strip(),
        name=name,
        contact=contact,
        country=country.upper() if country else None,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    return row


def get_supplier(session: Session, code: str, field_name: str = "supplier") -> Supplier:
    row = session.scalar(select(Supplier).where(Supplier.code == code))
    if row is None:
        raise NotFound(field_name, f"no supplier {code!r}")
    return row


def list_suppliers(session: Session) -> list[Supplier]:
    return list(session.scalars(select(Supplier).order_by(Supplier.code)))


def add_factor(session: Session, data: FactorIn, actor: str) -> MaterialFactor:
    if not data.material.strip():
        raise Invalid("material", "must not be empty")
    check_text("material", data.material.strip(), 120)
    check_number("value", data.value)
    if not data.unit.strip():
        raise Invalid("unit", "must not be empty")
    check_text("unit", data.unit.strip(), 16)
    if not data.source.strip():
        raise Invalid("source", "a factor needs its source")
    if data.valid_from and data.valid_to and data.valid_to <= data.valid_from:
        raise Invalid("valid_to", "must be after valid_from")
    check_number("primary_data_share", data.primary_data_share)
    if data.primary_data_share is not None and not 0 <= data.primary_data_share <= 1:
        raise Invalid("primary_data_share", "a fraction between 0 and 1")
    supplier_id = get_supplier(session, data.supplier).id if data.supplier else None
    data_type = data.data_type or ("primary" if supplier_id else "secondary")
    if data_type not in ("primary", "secondary"):
        raise Invalid("data_type", "primary (supplier-specific) or secondary (database)")
    row = MaterialFactor(
        material=data.material.strip(),
        supplier_id=supplier_id,
        value=data.value,
        unit=data.unit.strip(),
        data_type=data_type,
        source=data.source.strip(),
        boundary=data.boundary,
        standard=data.standard,
        verification=data.verification,
        evidence=data.evidence,
        primary_data_share=data.primary_data_share,
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        pact=data.pact,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    return row


def _valid_on(day: date):  # noqa: ANN202
    return (
        or_(MaterialFactor.valid_from.is_(None), MaterialFactor.valid_from <= day),
        or_(MaterialFactor.valid_to.is_(None), MaterialFactor.valid_to > day),
    )


def supplier_factor(
    session: Session, material: str, supplier_id: int, day: date
) -> MaterialFactor | None:
    """The newest supplier-specific factor of a material valid on ``day``."""
    return session.scalar(
        select(MaterialFactor)
        .where(
            MaterialFactor.material == material,
            MaterialFactor.supplier_id == supplier_id,
            *_valid_on(day),
        )
        .order_by(MaterialFactor.id.desc())
        .limit(1)
    )


def default_factor(session: Session, material: str, day: date) -> MaterialFactor | None:
    return session.scalar(
        select(MaterialFactor)
        .where(
            MaterialFactor.material == material,
            MaterialFactor.supplier_id.is_(None),
            *_valid_on(day),
        )
        .order_by(MaterialFactor.id.desc())
        .limit(1)
    )


def list_factors(session: Session, supplier: str | None = None) -> list[MaterialFactor]:
    q = select(MaterialFactor).order_by(MaterialFactor.id)
    if supplier:
        q = q.where(MaterialFactor.supplier_id == get_supplier(session, supplier).id)
    return list(session.scalars(q))


def factor_dict(f: MaterialFactor, supplier_code: str | None) -> dict:
    return {
        "id": f.id,
        "material": f.material,
        "supplier": supplier_code,
        "value": float(f.value),
        "unit": f.unit,
        "data_type": f.data_type,
        "source": f.source,
        "boundary": f.boundary,
        "standard": f.standard,
        "verification": f.verification,
        "evidence": f.evidence,
        "primary_data_share": (
            float(f.primary_data_share) if f.primary_data_share is not None else None
        ),
        "valid_from": f.valid_from,
        "valid_to": f.valid_to,
        "from_pact": f.pact is not None,
    }


def create_request(
    session: Session, supplier: str, material: str, due: date | None, actor: str
) -> SupplierRequest:
    if not material.strip():
        raise Invalid("material", "must not be empty")
    check_text("material", material.strip(), 120)
    s = get_supplier(session, supplier)
    now = datetime.now(UTC).isoformat()
    row = SupplierRequest(
        supplier_id=s.id,
        material=material.strip(),
        status="requested",
        due=due,
        history=[{"status": "requested", "at": now, "by": actor}],
        created_by=actor,
    )
    session.add(row)
    session.flush()
    return row


def set_request_status(
    session: Session,
    request_id: int,
    status: str,
    actor: str,
    factor_id: int | None = None,
    comment: str | None = None,
) -> SupplierRequest:
    row = session.get(SupplierRequest, request_id)
    if row is None:
        raise NotFound("id", f"no supplier request {request_id}")
    if status not in REQUEST_STATUSES:
        raise Invalid("status", f"one of {', '.join(REQUEST_STATUSES)}")
    if status not in _NEXT[row.status]:
        raise Conflict("status", f"cannot go from {row.status!r} to {status!r}")
    if factor_id is not None:
        if session.get(MaterialFactor, factor_id) is None:
            raise NotFound("factor_id", f"no factor {factor_id}")
        row.factor_id = factor_id
    if status == "verified" and row.factor_id is None:
        raise Invalid("factor_id", "a verified request names the factor the supplier sent")
    row.status = status
    row.history = [
        *row.history,
        {"status": status, "at": datetime.now(UTC).isoformat(), "by": actor, "comment": comment},
    ]
    session.flush()
    return row


def list_requests(session: Session, supplier: str | None = None) -> list[dict]:
    q = (
        select(SupplierRequest, Supplier.code)
        .join(Supplier, Supplier.id == SupplierRequest.supplier_id)
        .order_by(SupplierRequest.id)
    )
    if supplier:
        q = q.where(Supplier.code == supplier)
    return [request_dict(r, code) for r, code in session.execute(q).all()]


def request_dict(r: SupplierRequest, supplier_code: str) -> dict:
    return {
        "id": r.id,
        "supplier": supplier_code,
        "material": r.material,
        "status": r.status,
        "due": r.due,
        "factor_id": r.factor_id,
        "history": r.history,
    }


def expire_overdue(session: Session, today: date, actor: str = "scheduler") -> int:
    """Requests still open (requested or received) after their due date become expired."""
    rows = session.scalars(
        select(SupplierRequest).where(
            SupplierRequest.status.in_(("requested", "received")),
            SupplierRequest.due.is_not(None),
            SupplierRequest.due < today,
        )
    ).all()
    for r in rows:
        set_request_status(session, r.id, "expired", actor, comment=f"due {r.due} passed")
    return len(rows)
