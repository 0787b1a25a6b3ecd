"""Data entered by people: activity data no meter measures, production output, and green
certificates retired for a site's consumption."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carbon.boundary import SOURCES
from core import units
from core.errors import Conflict, Invalid
from metering import registry
from models.carbon import (
    CarbonActivity,
    CarbonCertificate,
    CarbonFactor,
    CarbonProduction,
)

GEC_VALIDITY_MONTHS = 24  # 国能发新能规〔2024〕67号: 2 years from the month of generation
CN = ZoneInfo("Asia/Shanghai")  # the national GEC registry keeps China time
LEGACY_GEC_VALID_TO = datetime(2026, 1, 1, tzinfo=CN)  # pre-2024 vintages: to end of 2025
INSTRUMENTS = ("gec", "green_power")


def _period(
    start: datetime, end: datetime, start_field: str = "start", end_field: str = "end"
) -> None:
    for name, value in ((start_field, start), (end_field, end)):
        if value.tzinfo is None:
            raise Invalid(name, "timestamp without UTC offset")
    if end <= start:
        raise Invalid(end_field, f"must be after {start_field}")


@dataclass(frozen=True)
class ActivityIn:
    site: str
    source: str
    carrier: str
    quantity: float
    unit: str
    start: datetime
    end: datetime
    evidence: str | None = None


def add_activity(session: Session, data: ActivityIn, actor: str) -> CarbonActivity:
    """Record activity data; the carrier must have a factor (fuel, carbonate, gas, electricity,
    heat) whose unit the quantity converts to."""
    if data.source not in SOURCES or SOURCES[data.source] is None:
        raise Invalid(
            "source",
            f"an emitting source is needed: one of "
            f"{', '.join(s for s, sc in SOURCES.items() if sc is not None)}",
        )
    if not data.quantity >= 0:
        raise Invalid("quantity", "must be a non-negative number")
    _period(data.start, data.end)
    site = registry.get_site(session, data.site)
    unit = units.lookup(data.unit, "unit").symbol
    kinds = set(
        session.scalars(
            select(CarbonFactor.kind).where(
                CarbonFactor.carrier == data.carrier, CarbonFactor.kind.in_(("emission", "gwp"))
            )
        )
    )
    if not kinds:
        raise Invalid(
            "carrier",
            f"no emission factor or GWP for {data.carrier!r}; add one with POST /api/v1/factors",
        )
    if "gwp" in kinds and units.lookup(unit).dimension != "mass":
        raise Invalid("unit", f"a gas is entered as a mass (kg, t), not {data.unit!r}")
    row = CarbonActivity(
        site_id=site.id,
        source=data.source,
        scope=SOURCES[data.source],
        carrier=data.carrier,
        quantity=data.quantity,
        unit=unit,
        period_start=data.start,
        period_end=data.end,
        evidence=data.evidence,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class ProductionIn:
    site: str
    product: str
    quantity: float
    unit: str
    start: datetime
    end: datetime
    output_value_cny: Decimal | float | str | None = None


def add_production(session: Session, data: ProductionIn, actor: str) -> CarbonProduction:
    if not data.product.strip():
        raise Invalid("product", "must not be empty")
    if not data.quantity >= 0:
        raise Invalid("quantity", "must be a non-negative number")
    if not data.unit.strip():
        raise Invalid("unit", "must not be empty")
    _period(data.start, data.end)
    value = None
    if data.output_value_cny is not None:
        try:
            value = Decimal(str(data.output_value_cny)).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise Invalid("output_value_cny", "must be a decimal amount") from None
        if value < 0:
            raise Invalid("output_value_cny", "must not be negative")
    site = registry.get_site(session, data.site)
    row = CarbonProduction(
        site_id=site.id,
        product=data.product.strip(),
        quantity=data.quantity,
        unit=data.unit.strip(),
        period_start=data.start,
        period_end=data.end,
        output_value_cny=value,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class CertificateIn:
    serial: str
    mwh: float
    vintage: date
    site: str
    retired_for_start: datetime
    retired_for_end: datetime
    instrument: str = "gec"


def gec_valid_until(vintage: date) -> datetime:
    """End (exclusive) of a certificate's validity: two years from its generation month;
    power generated before 2024 is valid to the end of 2025."""
    if vintage < date(2024, 1, 1):
        return LEGACY_GEC_VALID_TO
    months = vintage.year * 12 + vintage.month - 1 + GEC_VALIDITY_MONTHS
    return datetime(months // 12, months % 12 + 1, 1, tzinfo=CN)


def add_certificate(session: Session, data: CertificateIn, actor: str) -> CarbonCertificate:
    """Register a certificate retired for one site and period. A serial is accepted once (409
    after), and the period must lie within the certificate's validity (422 otherwise)."""
    serial = data.serial.strip()
    if not serial:
        raise Invalid("serial", "must not be empty")
    if not data.mwh > 0:
        raise Invalid("mwh", "must be positive")
    if data.instrument not in INSTRUMENTS:
        raise Invalid("instrument", f"one of {', '.join(INSTRUMENTS)}")
    _period(data.retired_for_start, data.retired_for_end, "retired_for_start", "retired_for_end")
    vintage = data.vintage.replace(day=1)
    generated = datetime(vintage.year, vintage.month, 1, tzinfo=CN)
    if data.retired_for_end <= generated:
        raise Invalid(
            "retired_for_end",
            "a certificate cannot cover consumption that ended before the power was generated",
        )
    if data.retired_for_start >= gec_valid_until(vintage):
        raise Invalid(
            "retired_for_start",
            f"certificate of vintage {vintage:%Y-%m} expired on "
            f"{gec_valid_until(vintage):%Y-%m-%d}",
        )
    if session.scalar(select(CarbonCertificate.id).where(CarbonCertificate.serial == serial)):
        raise Conflict(
            "serial", f"certificate {serial!r} is already retired: a serial is used once"
        )
    site = registry.get_site(session, data.site)
    row = CarbonCertificate(
        serial=serial,
        mwh=data.mwh,
        vintage=vintage,
        instrument=data.instrument,
        site_id=site.id,
        retired_for_start=data.retired_for_start,
        retired_for_end=data.retired_for_end,
        created_by=actor,
    )
    try:
        with session.begin_nested():  # a concurrent retirement of the same serial loses here
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict("serial", f"certificate {serial!r} is already retired") from None
    return row


def activities(
    session: Session, site_ids: list[int], start: datetime, end: datetime
) -> list[CarbonActivity]:
    return list(
        session.scalars(
            select(CarbonActivity)
            .where(
                CarbonActivity.site_id.in_(site_ids),
                CarbonActivity.period_start < end,
                CarbonActivity.period_end > start,
            )
            .order_by(CarbonActivity.id)
        )
    )


def production(
    session: Session, site_ids: list[int], start: datetime, end: datetime
) -> list[CarbonProduction]:
    return list(
        session.scalars(
            select(CarbonProduction)
            .where(
                CarbonProduction.site_id.in_(site_ids),
                CarbonProduction.period_start < end,
                CarbonProduction.period_end > start,
            )
            .order_by(CarbonProduction.id)
        )
    )


def certificates(
    session: Session, site_ids: list[int], start: datetime, end: datetime
) -> list[CarbonCertificate]:
    return list(
        session.scalars(
            select(CarbonCertificate)
            .where(
                CarbonCertificate.site_id.in_(site_ids),
                CarbonCertificate.retired_for_start < end,
                CarbonCertificate.retired_for_end > start,
            )
            .order_by(CarbonCertificate.id)
        )
    )


def all_certificates(session: Session, site_ids: list[int] | None) -> list[CarbonCertificate]:
    stmt = select(CarbonCertificate).order_by(CarbonCertificate.id)
    if site_ids is not None:
        stmt = stmt.where(CarbonCertificate.site_id.in_(site_ids))
    return list(session.scalars(stmt))
