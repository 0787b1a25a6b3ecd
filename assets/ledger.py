"""The carbon-asset ledger (碳资产台账 / 碳抵消台账): register holdings, retire, surrender,
transfer and expire them, and refuse every double use.

Rules (each refusal is a :class:`~core.errors.Conflict` naming the field, i.e. a 409):

- a serial, or any number of a serial range, is registered once per kind;
- a quantity is used once: retirements never exceed what is held;
- an expired asset (``valid_until`` passed) cannot be retired;
- a GEC or green-power contract backs scope 2 market-based only, and its MWh are claimed through
  ``carbon.records.add_certificate``, which refuses a second claim on the same MWh;
- electricity whose GECs were claimed or sold (retired or transferred) cannot also back a CCER of
  the same project and year, nor the other way round (国能综通新能〔2024〕124号);
- CCER used for ETS compliance stays within 5 % of the year's verified emissions (《碳排放权交易
  管理办法（试行）》 Art. 29).

Every change is a row of the append-only ``carbon_asset_txn`` with the actor and time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carbon import records
from core.errors import Conflict, Invalid, NotFound
from metering import registry
from models.assets import CarbonAsset, CarbonAssetTxn, EtsVerification

KINDS = ("gec", "green_power_contract", "ccer", "chs", "allowance", "other")
UNITS = {
    "gec": ("MWh",),
    "green_power_contract": ("MWh",),
    "ccer": ("tCO2e", "t"),
    "chs": ("tCO2e", "t"),
    "allowance": ("tCO2e", "t"),
    "other": ("tCO2e", "t"),
}
PURPOSES = {
    "gec": ("scope2_market",),
    "green_power_contract": ("scope2_market",),
    "ccer": ("offset", "ets_compliance"),
    "chs": ("offset",),
    "allowance": ("ets_compliance",),
    "other": ("offset",),
}
ELECTRICITY_KINDS = ("gec", "green_power_contract")
CCER_ETS_LIMIT = Decimal("0.05")  # 《碳排放权交易管理办法（试行）》 Art. 29: at most 5 %
MAX_QUANTITY = Decimal("1e12")


@dataclass(frozen=True)
class AssetIn:
    kind: str
    quantity: Decimal
    unit: str
    vintage: date
    site: str
    serial: str | None = None
    serial_from: str | None = None
    serial_to: str | None = None
    registry: str | None = None
    project: str | None = None
    evidence: str | None = None
    valid_until: datetime | None = None


@dataclass(frozen=True)
class RetireIn:
    quantity: Decimal
    purpose: str
    period_start: datetime
    period_end: datetime
    note: str | None = None


def _check_quantity(q: Decimal, field: str = "quantity") -> Decimal:
    if not q.is_finite() or q <= 0:
        raise Invalid(field, "must be a positive finite number")
    if q > MAX_QUANTITY:
        raise Invalid(field, f"must be at most {MAX_QUANTITY:,.0f}")
    return q


def serial_key(serial: str) -> str:
    """The sortable key of a serial or range end: digit strings (registry codes) compare as
    numbers — by length, then digits — and other codes as text below every number. Compared
    byte-wise (the key columns' collation is "C"); migration 0013 writes the same rule in SQL."""
    s = serial.strip()
    return f"1{len(s):04d}:{s}" if s.isdigit() else f"0:{s}"


def valid_until_default(kind: str, vintage: date) -> datetime | None:
    """GECs expire two years after their generation month (``carbon.records.gec_valid_until``);
    other kinds carry no default expiry (the registry's date can be entered)."""
    return records.gec_valid_until(vintage) if kind == "gec" else None


def register(session: Session, data: AssetIn, actor: str, now: datetime) -> CarbonAsset:
    """Add a holding to the ledger (an ``issue`` transaction); 409 if its serial or range is
    already in the ledger or if the same project's electricity is already used the other way."""
    if data.kind not in KINDS:
        raise Invalid("kind", f"one of {', '.join(KINDS)}")
    if data.unit not in UNITS[data.kind]:
        raise Invalid("unit", f"{data.kind} is counted in {' or '.join(UNITS[data.kind])}")
    qty = _check_quantity(data.quantity)
    serial = (data.serial or "").strip() or None
    lo, hi = ((data.serial_from or "").strip() or None, (data.serial_to or "").strip() or None)
    if serial and (lo or hi):
        raise Invalid("serial", "give either serial or serial_from and serial_to")
    if (lo is None) != (hi is None):
        raise Invalid("serial_to" if lo else "serial_from", "a range needs both ends")
    if lo and hi and serial_key(hi) < serial_key(lo):
        raise Invalid("serial_to", "must not be before serial_from")
    site = registry.get_site(session, data.site)
    vintage = data.vintage
    if data.kind in ELECTRICITY_KINDS:
        vintage = vintage.replace(day=1)
    keys = _check_serials(session, data.kind, serial, lo, hi)
    if data.project:
        _check_project(session, data.kind, data.project.strip(), vintage.year)
    row = CarbonAsset(
        kind=data.kind,
        serial=serial,
        serial_from=lo,
        serial_to=hi,
        serial_lo_key=keys[0],
        serial_hi_key=keys[1],
        quantity=qty,
        used_quantity=Decimal(0),
        unit=data.unit,
        vintage=vintage,
        site_id=site.id,
        registry_name=data.registry,
        project=data.project.strip() if data.project else None,
        evidence=data.evidence,
        valid_until=data.valid_until or valid_until_default(data.kind, vintage),
        status="held",
        created_by=actor,
    )
    try:
        with session.begin_nested():  # a concurrent registration of the same serial loses here
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(
            "serial", f"{data.kind} serial {serial!r} is already in the ledger"
        ) from None
    _txn(session, row, "issue", qty, actor, now)
    return row


def _check_serials(
    session: Session, kind: str, serial: str | None, lo: str | None, hi: str | None
) -> tuple[str | None, str | None]:
    """409 if the serial or range overlaps one of the kind's assets: one indexed query (the
    ledger's ranges are disjoint, so the first asset ending at or after the new start is the
    only candidate; the filter keeps the answer right even if they were not). Serialised per
    kind with a transaction-scoped advisory lock, so two concurrent overlapping registrations
    cannot both pass. Returns the new asset's (low, high) keys."""
    if serial is None and (lo is None or hi is None):
        return None, None
    a, b = (
        (serial_key(serial), serial_key(serial))
        if serial
        else (serial_key(lo or ""), serial_key(hi or ""))
    )
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"carbon_asset_serial:{kind}"}
    )
    other = session.scalars(
        select(CarbonAsset)
        .where(
            CarbonAsset.kind == kind,
            CarbonAsset.serial_hi_key >= a,
            CarbonAsset.serial_lo_key <= b,
        )
        .order_by(CarbonAsset.serial_hi_key)
        .limit(1)
    ).first()
    if other is not None:
        raise Conflict(
            "serial" if serial else "serial_from",
            f"overlaps {kind} asset {other.id} "
            f"({other.serial or f'{other.serial_from}–{other.serial_to}'}): "
            "a serial is held and used once",
        )
    return a, b


def _check_project(session: Session, kind: str, project: str, year: int) -> None:
    """GEC-backed electricity and CCER of one project and year exclude each other."""
    if kind in ELECTRICITY_KINDS:
        other_kinds: tuple[str, ...] = ("ccer",)
    elif kind == "ccer":
        other_kinds = ELECTRICITY_KINDS
    else:
        return
    for other in session.scalars(
        select(CarbonAsset).where(CarbonAsset.project == project, CarbonAsset.kind.in_(other_kinds))
    ):
        if other.vintage.year != year:
            continue
        used = other.used_quantity > 0 or other.status in ("retired", "transferred")
        if kind == "ccer" and used:
            raise Conflict(
                "project",
                f"the electricity of project {project!r} in {year} backs {other.kind} asset "
                f"{other.id}, already claimed or sold: it cannot also back a CCER "
                "(国能综通新能〔2024〕124号)",
            )
        if kind in ELECTRICITY_KINDS and used:
            raise Conflict(
                "project",
                f"project {project!r} has CCER of {year} already used (asset {other.id}): its "
                "electricity cannot also be claimed through green certificates "
                "(国能综通新能〔2024〕124号)",
            )


def get(session: Session, asset_id: int, *, lock: bool = False) -> CarbonAsset:
    stmt = select(CarbonAsset).where(CarbonAsset.id == asset_id)
    if lock:
        stmt = stmt.with_for_update()
    row = session.scalar(stmt)
    if row is None:
        raise NotFound("id", f"carbon asset {asset_id} does not exist")
    return row


def _txn(
    session: Session,
    asset: CarbonAsset,
    action: str,
    qty: Decimal,
    actor: str,
    now: datetime,
    **extra: object,
) -> CarbonAssetTxn:
    t = CarbonAssetTxn(asset_id=asset.id, action=action, quantity=qty, at=now, actor=actor, **extra)
    session.add(t)
    session.flush()
    return t


def _usable(asset: CarbonAsset, qty: Decimal, now: datetime | None) -> None:
    expired_now = now is not None and asset.valid_until is not None and now >= asset.valid_until
    if asset.status == "expired" or expired_now:
        raise Conflict(
            "id",
            f"{asset.kind} asset {asset.id} expired"
            + (f" on {asset.valid_until:%Y-%m-%d}" if asset.valid_until else "")
            + ": an expired asset cannot be used",
        )
    if asset.status in ("transferred",):
        raise Conflict("id", f"{asset.kind} asset {asset.id} was transferred")
    left = asset.quantity - asset.used_quantity
    if qty > left:
        raise Conflict(
            "quantity",
            f"{qty} {asset.unit} asked, {left} {asset.unit} left of asset {asset.id}: "
            "a quantity is used once",
        )


def retire(
    session: Session,
    asset_id: int,
    data: RetireIn,
    actor: str,
    now: datetime,
    *,
    recorded_after_the_fact: bool = False,
) -> CarbonAssetTxn:
    """Retire (注销) or surrender (履约清缴) part or all of an asset for one purpose and period.

    ``recorded_after_the_fact``: the registry retired it earlier (``POST /green-certificates``);
    then the certificate's validity is checked against the claimed period, not against now."""
    qty = _check_quantity(data.quantity)
    for name, value in (("period_start", data.period_start), ("period_end", data.period_end)):
        if value.tzinfo is None:
            raise Invalid(name, "timestamp without UTC offset")
    if data.period_end <= data.period_start:
        raise Invalid("period_end", "must be after period_start")
    asset = get(session, asset_id, lock=True)
    if data.purpose not in PURPOSES[asset.kind]:
        raise Invalid(
            "purpose", f"{asset.kind} can be used for {' or '.join(PURPOSES[asset.kind])}"
        )
    _usable(asset, qty, None if recorded_after_the_fact else now)
    if asset.project:
        _check_project(session, asset.kind, asset.project, asset.vintage.year)
    site_code = registry.site_codes(session)[asset.site_id]
    cert_id = None
    if asset.kind in ELECTRICITY_KINDS:
        cert = records.add_certificate(
            session,
            records.CertificateIn(
                serial=_claim_serial(session, asset),
                mwh=float(qty),
                vintage=asset.vintage,
                site=site_code,
                retired_for_start=data.period_start,
                retired_for_end=data.period_end,
                instrument="gec" if asset.kind == "gec" else "green_power",
            ),
            actor,
        )
        cert_id = cert.id
    if asset.kind == "ccer" and data.purpose == "ets_compliance":
        _check_ccer_limit(session, asset, qty, data.period_end)
    action = "surrender" if data.purpose == "ets_compliance" else "retire"
    asset.used_quantity = asset.used_quantity + qty
    if asset.used_quantity == asset.quantity:
        asset.status = "surrendered" if action == "surrender" else "retired"
    session.flush()
    return _txn(
        session,
        asset,
        action,
        qty,
        actor,
        now,
        purpose=data.purpose,
        period_start=data.period_start,
        period_end=data.period_end,
        certificate_id=cert_id,
        note=data.note,
    )


def _claim_serial(session: Session, asset: CarbonAsset) -> str:
    """The certificate serial a claim is recorded under: the asset's serial for a whole single
    certificate, else the asset's serial or range with the claim's sequence number."""
    base = asset.serial or (
        f"{asset.serial_from}-{asset.serial_to}" if asset.serial_from else f"asset-{asset.id}"
    )
    n = len(
        session.scalars(
            select(CarbonAssetTxn.id).where(
                CarbonAssetTxn.asset_id == asset.id, CarbonAssetTxn.action == "retire"
            )
        ).all()
    )
    return base if n == 0 and asset.serial else f"{base}#{n + 1}"


def _check_ccer_limit(session: Session, asset: CarbonAsset, qty: Decimal, end: datetime) -> None:
    year = compliance_year(end)
    verified = session.scalar(
        select(EtsVerification.verified_tco2)
        .where(EtsVerification.site_id == asset.site_id, EtsVerification.year == year)
        .order_by(EtsVerification.id.desc())
        .limit(1)
    )
    if verified is None:
        raise Conflict(
            "purpose",
            f"no verified emissions recorded for {year}: CCER for ETS compliance is limited to "
            "5 % of them (POST /api/v1/ets/verified-emissions first)",
        )
    used = ccer_used_for_compliance(session, asset.site_id, year)
    limit = verified * CCER_ETS_LIMIT
    if used + qty > limit:
        raise Conflict(
            "quantity",
            f"CCER for {year} compliance would reach {used + qty} t, above the 5 % limit of "
            f"{limit} t (verified emissions {verified} t)",
        )


def ccer_used_for_compliance(session: Session, site_id: int, year: int) -> Decimal:
    total = Decimal(0)
    for t in session.scalars(
        select(CarbonAssetTxn)
        .join(CarbonAsset, CarbonAsset.id == CarbonAssetTxn.asset_id)
        .where(
            CarbonAsset.site_id == site_id,
            CarbonAsset.kind == "ccer",
            CarbonAssetTxn.purpose == "ets_compliance",
        )
    ):
        if t.period_end is not None and compliance_year(t.period_end) == year:
            total += t.quantity
    return total


def compliance_year(end: datetime) -> int:
    """The year (China time) of the last instant of a period ending at ``end`` (exclusive)."""
    return (end - timedelta(microseconds=1)).astimezone(records.CN).year


def transfer(
    session: Session, asset_id: int, qty: Decimal, counterparty: str, actor: str, now: datetime
) -> CarbonAssetTxn:
    """Sell or move part or all of a holding out of the site's account."""
    qty = _check_quantity(qty)
    if not counterparty.strip():
        raise Invalid("counterparty", "must not be empty")
    asset = get(session, asset_id, lock=True)
    _usable(asset, qty, now)
    asset.used_quantity = asset.used_quantity + qty
    if asset.used_quantity == asset.quantity:
        asset.status = "transferred"
    session.flush()
    return _txn(session, asset, "transfer", qty, actor, now, counterparty=counterparty)


def expire_due(session: Session, now: datetime, actor: str = "scheduler") -> int:
    """Mark held assets whose validity has passed as expired (an ``expire`` transaction each)."""
    n = 0
    for asset in session.scalars(
        select(CarbonAsset)
        .where(CarbonAsset.status == "held", CarbonAsset.valid_until <= now)
        .with_for_update()
    ):
        left = asset.quantity - asset.used_quantity
        asset.status = "expired"
        _txn(session, asset, "expire", left, actor, now)
        n += 1
    return n


def list_assets(
    session: Session, site: str | None, kind: str | None, status: str | None
) -> list[CarbonAsset]:
    stmt = select(CarbonAsset).order_by(CarbonAsset.id)
    if site is not None:
        stmt = stmt.where(CarbonAsset.site_id.in_(registry.site_subtree_ids(session, site)))
    if kind is not None:
        if kind not in KINDS:
            raise Invalid("kind", f"one of {', '.join(KINDS)}")
        stmt = stmt.where(CarbonAsset.kind == kind)
    if status is not None:
        stmt = stmt.where(CarbonAsset.status == status)
    return list(session.scalars(stmt))


def history(session: Session, asset_id: int) -> list[CarbonAssetTxn]:
    get(session, asset_id)
    return list(
        session.scalars(
            select(CarbonAssetTxn)
            .where(CarbonAssetTxn.asset_id == asset_id)
            .order_by(CarbonAssetTxn.id)
        )
    )


def record_certificate(
    session: Session, data: records.CertificateIn, actor: str, now: datetime
) -> tuple[CarbonAsset, CarbonAssetTxn]:
    """``POST /green-certificates`` as a ledger entry: register the certificate and retire it for
    scope 2 market-based over its period in one step."""
    if data.instrument not in records.INSTRUMENTS:
        raise Invalid("instrument", f"one of {', '.join(records.INSTRUMENTS)}")
    kind = "gec" if data.instrument == "gec" else "green_power_contract"
    asset = register(
        session,
        AssetIn(
            kind=kind,
            quantity=Decimal(str(data.mwh)),
            unit="MWh",
            vintage=data.vintage,
            site=data.site,
            serial=data.serial,
        ),
        actor,
        now,
    )
    txn = retire(
        session,
        asset.id,
        RetireIn(
            quantity=asset.quantity,
            purpose="scope2_market",
            period_start=data.retired_for_start,
            period_end=data.retired_for_end,
        ),
        actor,
        now,
        recorded_after_the_fact=True,
    )
    return asset, txn


def expire_job(engine) -> int:  # noqa: ANN001  (a scheduler job: Engine → count)
    """The scheduler's daily sweep: held assets past their validity become ``expired``."""
    with Session(engine) as session:
        n = expire_due(session, datetime.now(UTC))
        session.commit()
    return n
