"""Power-factor adjustment (功率因数调整电费, 力调电费):
《功率因数调整电费办法》(83)水电财字第215号.

The month's power factor is ``P / √(P² + Q²)`` from active kWh (P) and reactive kvarh (Q),
rounded half-up to two decimals; the adjustment is a percentage (+ surcharge, − rebate) of
``energy charge + demand charge − government funds`` read from the band table in
``cost/data/power_factor_adjustment.csv`` (single source: see its MANIFEST entry).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from core.errors import Invalid
from cost.schedule import DATA_DIR

STANDARDS = (Decimal("0.90"), Decimal("0.85"), Decimal("0.80"))
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Band:
    standard: Decimal
    pf_from: Decimal
    pf_to: Decimal
    anchor: Decimal
    pct_at_anchor: Decimal
    pct_per_step: Decimal  # per 0.01 below the anchor
    verification: str


@lru_cache
def bands() -> tuple[Band, ...]:
    with (DATA_DIR / "power_factor_adjustment.csv").open(encoding="utf-8") as fh:
        return tuple(
            Band(
                Decimal(r["standard_pf"]),
                Decimal(r["pf_from"]),
                Decimal(r["pf_to"]),
                Decimal(r["anchor_pf"]),
                Decimal(r["pct_at_anchor"]),
                Decimal(r["pct_per_0_01_below_anchor"]),
                r["verification"],
            )
            for r in csv.DictReader(fh)
        )


def power_factor(kwh: Decimal, kvarh: Decimal) -> Decimal | None:
    """The month's power factor, two decimals (None without active energy)."""
    if kwh <= 0:
        return None
    pf = kwh / (kwh * kwh + kvarh * kvarh).sqrt()
    return pf.quantize(CENT, rounding=ROUND_HALF_UP)


def check_standard(standard: Decimal, field: str = "power_factor_standard") -> Decimal:
    q = standard.quantize(CENT)
    if q not in STANDARDS:
        raise Invalid(field, f"must be 0.90, 0.85 or 0.80, not {standard}")
    return q


def adjustment_pct(standard: Decimal, pf: Decimal) -> Decimal:
    """Percentage of the base added (+) or rebated (−) at this power factor."""
    standard = check_standard(standard)
    pf = pf.quantize(CENT, rounding=ROUND_HALF_UP)
    for b in bands():
        if b.standard == standard and b.pf_from <= pf <= b.pf_to:
            return b.pct_at_anchor + b.pct_per_step * (b.anchor - pf) * 100
    raise Invalid("power_factor", f"{pf} is outside 0.00 to 1.00")
