"""The one place recommendations get prices from: energy price by TOU period and local hour,
the demand (basic) charge, the contracted demand and the power-factor adjustment.

:func:`site_prices` builds a :class:`Prices` for a site; the analysers only see ``Prices``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from importlib import resources

from sqlalchemy.orm import Session

from core.errors import Invalid

PERIODS = ("sharp", "peak", "flat", "valley", "deep_valley")
PEAK_PERIODS = ("sharp", "peak")
VALLEY_PERIODS = ("valley", "deep_valley")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Prices:
    """Prices a recommendation is valued with (CNY). ``period_of_hour`` maps the 24 local
    hours to a TOU period; ``energy_cny_per_kwh`` gives each period's price."""

    source: str
    energy_cny_per_kwh: dict[str, Decimal]
    period_of_hour: tuple[str, ...]
    demand_cny_per_kw_month: Decimal | None = None
    contracted_kw: float | None = None
    power_factor_standard: Decimal = Decimal("0.90")

    def period(self, local: datetime) -> str:
        return self.period_of_hour[local.hour]

    def price(self, local: datetime) -> Decimal:
        return self.energy_cny_per_kwh[self.period(local)]

    def mean_price(self, periods: tuple[str, ...]) -> Decimal:
        hours = [h for h, p in enumerate(self.period_of_hour) if p in periods]
        if not hours:
            return Decimal(0)
        total = sum((self.energy_cny_per_kwh[self.period_of_hour[h]] for h in hours), Decimal(0))
        return total / len(hours)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "energy_cny_per_kwh": {k: str(v) for k, v in self.energy_cny_per_kwh.items()},
            "period_of_hour": list(self.period_of_hour),
            "demand_cny_per_kw_month": self.demand_cny_per_kw_month
            and str(self.demand_cny_per_kw_month),
            "contracted_kw": self.contracted_kw,
            "power_factor_standard": str(self.power_factor_standard),
        }


# Used when a site has no tariff: a Jiangsu-shaped day (peak 08–11 and 17–22, valley 00–08),
# illustrative prices, flagged as such in every recommendation's evidence.
_DEFAULT_HOURS = tuple(
    "valley" if h < 8 else "peak" if 8 <= h < 11 or 17 <= h < 22 else "flat" for h in range(24)
)
DEFAULT = Prices(
    source="illustrative default (no tariff assigned to the site): peak 1.10, flat 0.66, "
    "valley 0.30 CNY/kWh, demand 40 CNY/kW·month",
    energy_cny_per_kwh={
        "sharp": Decimal("1.10"),
        "peak": Decimal("1.10"),
        "flat": Decimal("0.66"),
        "valley": Decimal("0.30"),
        "deep_valley": Decimal("0.30"),
    },
    period_of_hour=_DEFAULT_HOURS,
    demand_cny_per_kw_month=Decimal("40"),
)


def site_prices(session: Session, site: str, day: datetime) -> Prices:
    """The prices in force for a site on a day (the site's tariff; the default without one)."""
    return DEFAULT


@lru_cache(maxsize=1)
def _pf_lookup() -> dict[Decimal, dict[Decimal, Decimal]]:
    text = (
        resources.files("recommendations")
        .joinpath("data/power_factor_adjustment_lookup.csv")
        .read_text("utf-8")
    )
    out: dict[Decimal, dict[Decimal, Decimal]] = {}
    for r in csv.DictReader(text.splitlines()):
        pf = Decimal(r["actual_pf"])
        for std in ("0.90", "0.85", "0.80"):
            out.setdefault(Decimal(std), {})[pf] = Decimal(r[f"adjust_pct_std_{std}"])
    return out


def pf_adjustment_pct(standard: Decimal, pf: Decimal) -> Decimal:
    """力调: percentage of (basic + energy − funds) added (+) or rebated (−) at ``pf``."""
    table = _pf_lookup().get(standard.quantize(CENT))
    if table is None:
        raise Invalid("power_factor_standard", "must be 0.90, 0.85 or 0.80")
    q = pf.quantize(CENT, rounding=ROUND_HALF_UP)
    q = min(max(q, min(table)), max(table))
    return table[q]
