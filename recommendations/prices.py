"""The one place recommendations get prices from: energy price by TOU period and local hour,
the demand (basic) charge, the contracted demand and the power-factor adjustment.

:func:`site_prices` builds a :class:`Prices` for a site from the cost room (the tariff version
in force at the site's billing site: ``cost.tariffs``; the demand charge of
``cost.compute.demand_month_cny``; 力调 of ``cost.power_factor``); the analysers only see
``Prices``. A site without a tariff is valued with :data:`DEFAULT`, flagged in the evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cost import power_factor, tariffs
from cost.compute import demand_month_cny as cost_demand_month_cny
from metering import registry
from models.cost import Tariff

PERIODS = ("sharp", "peak", "flat", "valley", "deep_valley")
PEAK_PERIODS = ("sharp", "peak")
VALLEY_PERIODS = ("valley", "deep_valley")
CENT = Decimal("0.01")
DEMAND_EXCESS_RATIO = 1.05  # 1583号: demand above 105 % of the contract is billed double


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
    funds_cny_per_kwh: Decimal = Decimal(0)
    demand_month: Callable[[float, float], Decimal] | None = None

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

    def demand_month_cny(self, contract_kw: float, max_kw: float) -> Decimal:
        """The month's basic charge with ``contract_kw`` contracted and ``max_kw`` measured:
        the tariff's rule (cost room) or, without a tariff, contract × price + the excess over
        105 % at double price."""
        if self.demand_month is not None:
            return self.demand_month(contract_kw, max_kw)
        price = self.demand_cny_per_kw_month or Decimal(0)
        excess = max(0.0, max_kw - DEMAND_EXCESS_RATIO * contract_kw)
        return price * Decimal(str(contract_kw)) + 2 * price * Decimal(str(excess))

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
    """The prices in force for a site on a day: the workday TOU periods of that month of the
    tariff version at the site's billing site (the site or its nearest ancestor with a
    tariff); :data:`DEFAULT` without one."""
    s = registry.get_site(session, site)
    found = tariffs.billing_site(session, s)
    if found is None:
        return DEFAULT
    billing, assignments = found
    local = day.astimezone(ZoneInfo(billing.timezone or "UTC"))
    t = tariffs.version_on(session, assignments, local.date())
    if t is None:
        return DEFAULT
    v = tariffs.load_version(session, t, {})
    rows = [v.rows[int(v.grid[0, local.month - 1, h * 60])] for h in range(24)]
    energy: dict[str, Decimal] = {}
    for r in rows:
        energy.setdefault(r.period, r.price_cny_per_kwh)

    def demand_month(contract_kw: float, max_kw: float) -> Decimal:
        probe = Tariff(
            demand_basis=t.demand_basis,
            demand_price_cny=t.demand_price_cny,
            contracted_kw=Decimal(str(contract_kw)),
            capacity_kva=t.capacity_kva,
        )
        return cost_demand_month_cny(probe, Decimal(str(max_kw)))[1]

    return Prices(
        source=f"tariff {t.code} v{t.version} ({t.name}) at {billing.code}, workday periods of "
        f"{local:%Y-%m}" + (f"; {t.source}" if t.source else ""),
        energy_cny_per_kwh=energy,
        period_of_hour=tuple(r.period for r in rows),
        demand_cny_per_kw_month=t.demand_price_cny if t.demand_basis == "max_demand" else None,
        contracted_kw=float(t.contracted_kw) if t.contracted_kw is not None else None,
        power_factor_standard=t.power_factor_standard or Decimal("0.90"),
        funds_cny_per_kwh=t.funds_cny_per_kwh or Decimal(0),
        demand_month=demand_month if t.demand_basis == "max_demand" else None,
    )


def pf_adjustment_pct(standard: Decimal, pf: Decimal) -> Decimal:
    """力调: percentage of (basic + energy − funds) added (+) or rebated (−) at ``pf``
    (``cost.power_factor``, 《功率因数调整电费办法》(83)水电财字第215号)."""
    return power_factor.adjustment_pct(standard, pf)
