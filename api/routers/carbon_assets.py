"""The carbon-asset ledger: certificates, credits and allowances, their retirements and history;
own reductions, net emissions after offsets and the ETS position."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from accounts import keys
from api.deps import DbSession, Reader, require
from api.routers.activity import DataEntry
from assets import ledger, offsets
from metering import registry

router = APIRouter(tags=["carbon assets"])
AssetManager = Annotated[keys.Principal, Depends(require({keys.Role.MANAGER, keys.Role.ADMIN}))]
Kind = Literal["gec", "green_power_contract", "ccer", "chs", "allowance", "other"]


class AssetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind
    serial: str | None = Field(default=None, max_length=128)
    serial_from: str | None = Field(default=None, max_length=64)
    serial_to: str | None = Field(default=None, max_length=64)
    quantity: Decimal = Field(gt=0, le=Decimal("1e12"), description="in `unit`")
    unit: Literal["MWh", "tCO2e", "t"]
    vintage: date = Field(
        description="GEC: month of generation; CCER: reduction period; allowance: compliance year"
    )
    site: str
    registry: str | None = Field(default=None, max_length=200)
    project: str | None = Field(
        default=None,
        max_length=200,
        description="generating project (GEC, green power) or CCER project: one project's "
        "electricity backs either certificates or CCER, never both",
    )
    evidence: str | None = None
    valid_until: datetime | None = Field(
        default=None, description="registry expiry; GEC default: two years from the vintage month"
    )


class AssetOut(BaseModel):
    id: int
    kind: str
    serial: str | None
    serial_from: str | None
    serial_to: str | None
    quantity: Decimal
    used_quantity: Decimal
    available: Decimal
    unit: str
    vintage: date
    site: str
    registry: str | None
    project: str | None
    evidence: str | None
    valid_until: datetime | None
    status: str
    created_at: datetime
    created_by: str


class RetireBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: Decimal = Field(gt=0, le=Decimal("1e12"))
    purpose: Literal["scope2_market", "offset", "ets_compliance"]
    period_start: datetime
    period_end: datetime
    note: str | None = None


class TransferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: Decimal = Field(gt=0, le=Decimal("1e12"))
    counterparty: str = Field(min_length=1, max_length=200)


class TxnOut(BaseModel):
    id: int
    asset_id: int
    action: str
    quantity: Decimal
    purpose: str | None
    period_start: datetime | None
    period_end: datetime | None
    counterparty: str | None
    certificate_id: int | None
    note: str | None
    at: datetime
    actor: str


def asset_out(row, sites: dict[int, str]) -> AssetOut:  # noqa: ANN001
    return AssetOut(
        id=row.id,
        kind=row.kind,
        serial=row.serial,
        serial_from=row.serial_from,
        serial_to=row.serial_to,
        quantity=row.quantity,
        used_quantity=row.used_quantity,
        available=row.quantity - row.used_quantity,
        unit=row.unit,
        vintage=row.vintage,
        site=sites[row.site_id],
        registry=row.registry_name,
        project=row.project,
        evidence=row.evidence,
        valid_until=row.valid_until,
        status=row.status,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def txn_out(t) -> TxnOut:  # noqa: ANN001
    return TxnOut.model_validate(t, from_attributes=True)


@router.post("/carbon-assets", response_model=AssetOut, status_code=201)
def add_asset(body: AssetCreate, session: DbSession, who: DataEntry) -> AssetOut:
    """Register a holding (an `issue` transaction). 409 when its serial or range is already in
    the ledger, or its project's electricity is already used the other way (GEC ↔ CCER)."""
    row = ledger.register(session, ledger.AssetIn(**body.model_dump()), who.name, datetime.now(UTC))
    session.commit()
    session.refresh(row)
    return asset_out(row, registry.site_codes(session))


@router.get("/carbon-assets", response_model=list[AssetOut])
def list_assets(
    session: DbSession,
    _: Reader,
    site: str | None = None,
    kind: Kind | None = None,
    status: Literal["held", "retired", "surrendered", "transferred", "expired"] | None = None,
) -> list[AssetOut]:
    sites = registry.site_codes(session)
    return [asset_out(r, sites) for r in ledger.list_assets(session, site, kind, status)]


@router.post("/carbon-assets/{asset_id}/retire", response_model=TxnOut, status_code=201)
def retire(asset_id: int, body: RetireBody, session: DbSession, who: AssetManager) -> TxnOut:
    """Retire (注销) or surrender (履约清缴) for one purpose and period; 409 on any double use,
    an expired asset, or CCER above 5 % of verified emissions."""
    t = ledger.retire(
        session, asset_id, ledger.RetireIn(**body.model_dump()), who.name, datetime.now(UTC)
    )
    session.commit()
    return txn_out(t)


@router.post("/carbon-assets/{asset_id}/transfer", response_model=TxnOut, status_code=201)
def transfer(asset_id: int, body: TransferBody, session: DbSession, who: AssetManager) -> TxnOut:
    t = ledger.transfer(
        session, asset_id, body.quantity, body.counterparty, who.name, datetime.now(UTC)
    )
    session.commit()
    return txn_out(t)


@router.get("/carbon-assets/{asset_id}/history", response_model=list[TxnOut])
def history(asset_id: int, session: DbSession, _: Reader) -> list[TxnOut]:
    """Every transaction of the asset, oldest first; never rewritten."""
    return [txn_out(t) for t in ledger.history(session, asset_id)]


class ReductionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: str
    year: int
    baseline_year: int
    measure: str = Field(min_length=1)
    tco2: Decimal = Field(ge=0, le=Decimal("1e12"))
    evidence: str | None = None


class ReductionOut(ReductionCreate):
    id: int


@router.post("/reductions", response_model=ReductionOut, status_code=201)
def add_reduction(body: ReductionCreate, session: DbSession, who: DataEntry) -> ReductionOut:
    """An own reduction or removal of a year against a baseline year, with its evidence."""
    row = offsets.add_reduction(session, offsets.ReductionIn(**body.model_dump()), who.name)
    session.commit()
    return ReductionOut(**body.model_dump(), id=row.id)


@router.get("/offsets")
def get_offsets(
    session: DbSession, _: Reader, site: str, year: Annotated[int, Query(ge=2000, le=2100)]
) -> dict:
    """`{"gross_tco2", "reductions_tco2", "residual_tco2", "offsets_tco2", "net_tco2",
    "warnings"}` for the site's calendar year (its own time zone)."""
    return offsets.offsets(session, site, year)


class VerifiedEmissions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: str
    year: int = Field(ge=2000, le=2100)
    verified_tco2: Decimal = Field(ge=0, le=Decimal("1e12"))
    surrender_due: date
    verifier: str | None = None


@router.post("/ets/verified-emissions", status_code=201)
def add_verified(body: VerifiedEmissions, session: DbSession, who: AssetManager) -> dict:
    """The verified emissions of a compliance year and its surrender deadline."""
    row = offsets.record_verification(
        session,
        body.site,
        body.year,
        body.verified_tco2,
        body.surrender_due,
        body.verifier,
        who.name,
    )
    session.commit()
    return {**body.model_dump(), "id": row.id}


@router.get("/ets/position")
def ets_position(
    session: DbSession, _: Reader, site: str, year: Annotated[int, Query(ge=2000, le=2100)]
) -> dict:
    """Verified emissions, allowances allocated/held/surrendered, CCER used against the 5 %
    limit, shortfall and the surrender deadline."""
    return offsets.ets_position(session, site, year)
