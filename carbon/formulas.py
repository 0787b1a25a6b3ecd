"""The formulas of the standards as pure functions (no database): what a verifier recomputes.

- Fuel combustion (GB/T 32150 / GB/T 32151.x): ``EF = NCV × CC / 1000 × OF × 44/12`` tCO2 per
  physical unit, with NCV in GJ per unit and CC in tC/TJ; ``E = AD × EF``.
- Purchased electricity/heat (scope 2): ``E = AD × EF`` with the grid (or heat) factor.
- Market-based scope 2: certificates (GEC) and green-power contracts zero-rate the MWh they
  cover, never more than the grid MWh consumed in their period; the rest × the residual factor.
- Standard coal (GB/T 2589): ``tce = quantity × coefficient``; 1 tce = 29.3076 GJ.
- Non-CO2 gases: ``tCO2e = t gas × GWP``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

CO2_PER_C = 44.0 / 12.0
GJ_PER_TCE = 29.3076

FORMULAS = {
    "fuel_factor": "EF [tCO2/unit] = NCV [GJ/unit] × CC [tC/TJ] / 1000 × OF × 44/12",
    "emission": "tCO2 = activity [unit] × EF [tCO2/unit] (unit conversion folded into coef)",
    "scope2_location": "tCO2 = grid electricity [MWh] × average grid factor of the site's region "
    "and data year [tCO2/MWh]",
    "scope2_market": "tCO2 = Σ_segments Σ_meters energy × residual factor × (1 − claimed/grid), "
    "claimed = certificate MWh allocated in serial order pro rata to remaining "
    "grid consumption of each certificate's period, capped at that consumption",
    "tce": "tce = Σ quantity × standard-coal coefficient (electricity: equivalent value 当量值 "
    "or equal value 等价值); on-site renewable generation added, grid export deducted",
    "gwp": "tCO2e = t gas × GWP100 of the selected IPCC assessment report",
    "prorate": "activity and production records partly inside the period count by the share of "
    "their duration inside it",
}


def fuel_emission_factor(
    ncv_gj_per_unit: float, carbon_content_tc_per_tj: float, oxidation_rate: float
) -> float:
    """tCO2 per physical unit of fuel."""
    return ncv_gj_per_unit * carbon_content_tc_per_tj / 1000.0 * oxidation_rate * CO2_PER_C


def overlap_share(lo: datetime, hi: datetime, start: datetime, end: datetime) -> float:
    """Share of the record period [lo, hi) inside [start, end)."""
    inside = (min(hi, end) - max(lo, start)).total_seconds()
    return max(0.0, inside) / (hi - lo).total_seconds()


@dataclass(frozen=True)
class Certificate:
    serial: str
    mwh: float
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Claim:
    serial: str
    segment: tuple[datetime, datetime]
    mwh: float


def allocate_certificates(
    certs: Sequence[Certificate], grid_mwh: dict[tuple[datetime, datetime], float]
) -> list[Claim]:
    """Allocate certificate MWh to grid consumption, never twice and never beyond it.

    ``grid_mwh`` maps elementary segments (no certificate boundary inside any of them) to the
    grid electricity consumed in each. Certificates are taken in (period start, serial) order;
    each claims ``min(mwh, remaining consumption of its period)``, spread over its segments pro
    rata to their remaining consumption, which it then reduces. The result does not depend on
    how finely the segments are cut (everything is linear in segment consumption), so a month
    and the year containing it get consistent claims.
    """
    remaining = dict(grid_mwh)
    claims: list[Claim] = []
    seen: set[str] = set()
    for cert in sorted(certs, key=lambda c: (c.start, c.serial)):
        if cert.serial in seen:
            raise ValueError(f"certificate {cert.serial!r} listed twice")
        seen.add(cert.serial)
        segs = [s for s in remaining if s[0] >= cert.start and s[1] <= cert.end]
        available = sum(remaining[s] for s in segs)
        take = min(cert.mwh, available)
        if take <= 0:
            continue
        for s in segs:
            part = take * remaining[s] / available
            if part > 0:
                claims.append(Claim(cert.serial, s, part))
                remaining[s] = max(0.0, remaining[s] - part)
    return claims


def market_scope2_t(grid_t_at_residual: float, grid_mwh: float, claimed_mwh: float) -> float:
    """Market-based scope 2 of one segment: the residual-factor emissions of the grid power not
    covered by claims. Never below zero, whatever is claimed."""
    if grid_mwh <= 0:
        return 0.0
    covered = min(max(claimed_mwh, 0.0), grid_mwh) / grid_mwh
    return max(0.0, grid_t_at_residual * (1.0 - covered))
