"""Net emissions after own reductions and offsets, and the ETS compliance position.

Definitions (per site and year, the year in the site's own time zone):

- ``gross_tco2``: the inventory: scope 1 (tCO₂e) + scope 2 market-based from
  ``carbon.engine.emissions`` (scope 3 is not measured yet and is said so);
- ``reductions_tco2``: own reductions and removals recorded against a baseline year, with
  evidence (``POST /api/v1/reductions``);
- ``residual_tco2`` = max(0, gross − reductions): what may be offset (003 L149: offsets only
  for residual emissions after own measures);
- ``offsets_tco2``: CCER, 碳普惠 and other credits retired with purpose ``offset`` for a period
  ending in the year;
- ``net_tco2`` = residual − offsets.

Warnings: offsets above residual emissions; offsets used while no own reduction is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from assets.ledger import ccer_used_for_compliance
from carbon import engine
from carbon.records import CN
from core.errors import Invalid
from metering import registry
from models.assets import CarbonAsset, CarbonAssetTxn, CarbonReduction, EtsVerification

MIN_YEAR, MAX_YEAR = 2000, 2100
ZERO = Decimal(0)
CCER_RULE = "CCER ≤ 5 % of verified emissions (碳排放权交易管理办法（试行）, Art. 29)"


@dataclass(frozen=True)
class ReductionIn:
    site: str
    year: int
    baseline_year: int
    measure: str
    tco2: Decimal
    evidence: str | None = None


def check_year(year: int, field: str = "year") -> int:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Invalid(field, f"must be between {MIN_YEAR} and {MAX_YEAR}")
    return year


def year_bounds(session: Session, site: str, year: int) -> tuple[datetime, datetime]:
    """(start, end] of a calendar year in the site's own time zone, as UTC instants."""
    check_year(year)
    zone = ZoneInfo(registry.get_site(session, site).timezone)
    return tuple(  # type: ignore[return-value]
        datetime.combine(date(y, 1, 1), time(), zone).astimezone(UTC) for y in (year, year + 1)
    )


def _cn_year(year: int) -> tuple[datetime, datetime]:
    """A compliance year of the national ETS, in China time."""
    return tuple(  # type: ignore[return-value]
        datetime.combine(date(y, 1, 1), time(), CN).astimezone(UTC) for y in (year, year + 1)
    )


def add_reduction(session: Session, data: ReductionIn, actor: str) -> CarbonReduction:
    check_year(data.year)
    check_year(data.baseline_year, "baseline_year")
    if data.baseline_year >= data.year:
        raise Invalid("baseline_year", "must be before year")
    if not data.measure.strip():
        raise Invalid("measure", "must not be empty")
    if not data.tco2.is_finite() or data.tco2 < 0 or data.tco2 > Decimal("1e12"):
        raise Invalid("tco2", "must be a finite number between 0 and 10¹²")
    site = registry.get_site(session, data.site)
    row = CarbonReduction(
        site_id=site.id,
        year=data.year,
        baseline_year=data.baseline_year,
        measure=data.measure.strip(),
        tco2=data.tco2,
        evidence=data.evidence,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    return row


def _retired(
    session: Session, site_ids: list[int], purpose: str, lo: datetime, hi: datetime
) -> list[dict]:
    """Retirements for ``purpose`` whose claimed period ends in (lo, hi]."""
    out = []
    for t, a in session.execute(
        select(CarbonAssetTxn, CarbonAsset)
        .join(CarbonAsset, CarbonAsset.id == CarbonAssetTxn.asset_id)
        .where(CarbonAsset.site_id.in_(site_ids), CarbonAssetTxn.purpose == purpose)
        .order_by(CarbonAssetTxn.id)
    ):
        if t.period_end is not None and lo < t.period_end <= hi:
            out.append(
                {
                    "asset": a.id,
                    "kind": a.kind,
                    "serial": a.serial or (a.serial_from and f"{a.serial_from}–{a.serial_to}"),
                    "registry": a.registry_name,
                    "project": a.project,
                    "vintage": a.vintage,
                    "quantity": t.quantity,
                    "unit": a.unit,
                    "retired_at": t.at,
                    "by": t.actor,
                }
            )
    return out


def offsets(session: Session, site: str, year: int) -> dict:
    """``{"gross_tco2", "reductions_tco2", "residual_tco2", "offsets_tco2", "net_tco2",
    "warnings", …}`` for a site and year (definitions in the module docstring)."""
    start, end = year_bounds(session, site, year)
    em = engine.emissions(session, site, start, end)
    gross = Decimal(str(em["scope1_tco2e"])) + Decimal(str(em["scope2_market_tco2"]))
    site_ids = registry.site_subtree_ids(session, site)
    reductions = list(
        session.scalars(
            select(CarbonReduction)
            .where(CarbonReduction.site_id.in_(site_ids), CarbonReduction.year == year)
            .order_by(CarbonReduction.id)
        )
    )
    red = sum((r.tco2 for r in reductions), Decimal(0))
    residual = max(Decimal(0), gross - red)
    used = _retired(session, site_ids, "offset", start, end)
    off = sum((u["quantity"] for u in used), Decimal(0))
    warnings = []
    if off > residual:
        warnings.append(
            {
                "code": "offsets_exceed_residual",
                "message": f"offsets of {off:,.2f} t exceed residual emissions of "
                f"{residual:,.2f} t: offsets may cover residual emissions only",
            }
        )
    if off > 0 and red == 0:
        warnings.append(
            {
                "code": "offsets_before_reductions",
                "message": "offsets are used but no own reduction is recorded for the year: "
                "offsets come after own reductions (降无可降)",
            }
        )
    return {
        "site": site,
        "year": year,
        "start": start,
        "end": end,
        "gross_tco2": _q(gross),
        "scope1_tco2e": em["scope1_tco2e"],
        "scope2_market_tco2": em["scope2_market_tco2"],
        "scope3_tco2": None,
        "scope3_note": "scope 3 not measured",
        "reductions_tco2": _q(red),
        "residual_tco2": _q(residual),
        "offsets_tco2": _q(off),
        "net_tco2": _q(residual - off),
        "reductions": [
            {
                "id": r.id,
                "measure": r.measure,
                "baseline_year": r.baseline_year,
                "tco2": r.tco2,
                "evidence": r.evidence,
            }
            for r in reductions
        ],
        "offsets": used,
        "emissions_hash": em["derivation_hash"],
        "warnings": warnings,
    }


def ets_position(session: Session, site: str, year: int) -> dict:
    """Verified emissions, allowances held and surrendered, CCER used against its 5 % limit,
    the shortfall and the surrender deadline of a compliance year."""
    check_year(year)
    site_row = registry.get_site(session, site)
    site_ids = registry.site_subtree_ids(session, site)
    ver = session.scalar(
        select(EtsVerification)
        .where(EtsVerification.site_id == site_row.id, EtsVerification.year == year)
        .order_by(EtsVerification.id.desc())
        .limit(1)
    )
    allowances = list(
        session.scalars(
            select(CarbonAsset).where(
                CarbonAsset.site_id.in_(site_ids), CarbonAsset.kind == "allowance"
            )
        )
    )
    allocated = sum((a.quantity for a in allowances if a.vintage.year == year), Decimal(0))
    surrendered = sum(
        (
            u["quantity"]
            for u in _retired(session, site_ids, "ets_compliance", *_cn_year(year))
            if u["kind"] == "allowance"
        ),
        Decimal(0),
    )
    ccer = ccer_used_for_compliance(session, site_row.id, year)
    verified = None if ver is None else ver.verified_tco2
    limit = None if verified is None else _q(verified * Decimal("0.05"))
    shortfall = None if verified is None else _q(max(Decimal(0), verified - surrendered - ccer))
    return {
        "site": site,
        "year": year,
        "verified_tco2": verified,
        "verifier": None if ver is None else ver.verifier,
        "allowances_allocated_t": _q(allocated),
        "allowances_held_t": _q(
            sum(
                (a.quantity - a.used_quantity for a in allowances if a.status == "held"), Decimal(0)
            )
        ),
        "allowances_surrendered_t": _q(surrendered),
        "ccer_used_t": _q(ccer),
        "ccer_limit_t": limit,
        "ccer_limit_rule": CCER_RULE,
        "shortfall_t": shortfall,
        "surrender_due": None if ver is None else ver.surrender_due,
        "status": (
            "no verified emissions recorded"
            if verified is None
            else ("compliant" if shortfall == 0 else "shortfall")
        ),
    }


def record_verification(
    session: Session,
    site: str,
    year: int,
    verified_tco2: Decimal,
    surrender_due: date,
    verifier: str | None,
    actor: str,
) -> EtsVerification:
    check_year(year)
    if not verified_tco2.is_finite() or verified_tco2 < 0 or verified_tco2 > Decimal("1e12"):
        raise Invalid("verified_tco2", "must be a finite number between 0 and 10¹²")
    if surrender_due.year < year:
        raise Invalid("surrender_due", "must not be before the compliance year")
    row = EtsVerification(
        site_id=registry.get_site(session, site).id,
        year=year,
        verified_tco2=verified_tco2,
        surrender_due=surrender_due,
        verifier=verifier,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    return row


def _q(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.000001"))
