"""Intensity KPIs per day, month or year, with year-on-year and period-on-period changes.

- energy intensity: tce per unit of product, tce per 10⁴ CNY of output value;
- carbon intensity: tCO2e (scope 1 + scope 2 location-based; ``_market`` variants with the
  market-based scope 2) per unit of product and per 10⁴ CNY;
- renewable electricity share: self-consumed on-site renewable generation (generation − export)
  ÷ electricity consumption (grid + generation − export);
- green-power share: (self-consumed renewable + MWh covered by certificates and green-power
  contracts) ÷ electricity consumption.

Like for like (:mod:`core.periods`): a period in progress is cut at ``as_of`` (default now)
and compared with the same elapsed part of the previous period and of the same period a year
before; every change says what it compared (``"compared": {"current", "previous",
"basis"}``). Output is **prorated**: a production record partly inside a window counts by the
share of its duration inside it, so one day's output entered at 00:46 counts 46/1440 of itself
against the 46 minutes of energy and emissions of that window (``output_basis``).
Per-product intensities divide the site's totals by each product's output (meaningful for a
site with one main product).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from carbon import derivation, engine, factors, formulas, records
from core import limits, periods
from core.errors import Invalid
from metering import clock, registry

PERIODS = periods.PERIODS
OUTPUT_BASIS = "prorated"  # production counted by the share of its duration in the window
METRICS = (
    "electricity_kwh",
    "energy_tce",
    "carbon_tco2e",
    "carbon_market_tco2e",
    "output_value_cny",
    "energy_intensity_tce_per_10k_cny",
    "carbon_intensity_tco2_per_10k_cny",
    "carbon_intensity_market_tco2_per_10k_cny",
    "renewable_electricity_share",
    "green_power_share",
)
KPI_FORMULAS = {
    "energy_intensity_tce_per_10k_cny": "energy_tce / (output_value_cny / 10000)",
    "carbon_intensity_tco2_per_10k_cny": "(scope1_tco2e + scope2_location_tco2) / "
    "(output_value_cny / 10000)",
    "carbon_intensity_market_tco2_per_10k_cny": "(scope1_tco2e + scope2_market_tco2) / "
    "(output_value_cny / 10000)",
    "per_unit": "site total / product quantity",
    "renewable_electricity_share": "max(0, onsite_renewable − export) / consumption",
    "green_power_share": "min(1, (max(0, onsite_renewable − export) + certificate MWh × 1000) "
    "/ consumption)",
    "change_pct": "(value − previous) / previous × 100",
    "compared": "current: [period start, min(period end, as_of)); previous: the same elapsed "
    "local time from the start of the previous period (or the same period a year before)",
    "prorate": formulas.FORMULAS["prorate"],
}


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def electricity_shares(el: dict) -> dict[str, float | None]:
    """The rule of the renewable and green-power shares of electricity, from the ``electricity``
    block of ``carbon.engine.emissions``: self-consumed on-site renewable generation, and that
    plus the MWh covered by certificates and green-power contracts, over consumption."""
    self_kwh = max(0.0, el["onsite_renewable_kwh"] - el["export_kwh"])
    cons = el["consumption_kwh"]
    green = _div(self_kwh + el["certificates_claimed_mwh"] * 1000.0, cons)
    return {
        "self_consumed_renewable_kwh": self_kwh,
        "renewable_electricity_share": _div(self_kwh, cons),
        "green_power_share": None if green is None else min(1.0, green),
    }


def _figures(
    session: Session,
    site: str,
    window: tuple[datetime, datetime],
    version: int | None,
    tce_convention: str,
    gwp_set: str,
) -> dict:
    start, end = window
    em = engine.emissions(
        session, site, start, end, version=version, gwp_set=gwp_set, tce_convention=tce_convention
    )
    site_ids = registry.site_subtree_ids(session, site)
    products: dict[tuple[str, str], float] = {}
    value_cny, prod_inputs = None, []
    for p in records.production(session, site_ids, start, end):
        share = formulas.overlap_share(p.period_start, p.period_end, start, end)
        key = (p.product, p.unit)
        products[key] = products.get(key, 0.0) + p.quantity * share
        if p.output_value_cny is not None:
            value_cny = (value_cny or 0.0) + float(p.output_value_cny) * share
        prod_inputs.append(
            {
                "id": p.id,
                "product": p.product,
                "quantity": p.quantity,
                "unit": p.unit,
                "start": p.period_start,
                "end": p.period_end,
                "output_value_cny": p.output_value_cny,
                "share_in_period": share,
                "created_by": p.created_by,
            }
        )
    el = em["electricity"]
    shares = electricity_shares(el)
    carbon = em["scope1_tco2e"] + em["scope2_location_tco2"]
    carbon_m = em["scope1_tco2e"] + em["scope2_market_tco2"]
    tenk = None if value_cny is None else value_cny / 1e4
    return {
        "start": start,
        "end": end,
        "emissions_hash": em["derivation_hash"],
        "production_inputs": prod_inputs,
        "electricity_kwh": el["consumption_kwh"],
        "energy_tce": em["energy_tce"],
        "carbon_tco2e": carbon,
        "carbon_market_tco2e": carbon_m,
        "scope1_tco2": em["scope1_tco2"],
        "scope2_location_tco2": em["scope2_location_tco2"],
        "scope2_market_tco2": em["scope2_market_tco2"],
        "output_value_cny": value_cny,
        "energy_intensity_tce_per_10k_cny": _div(em["energy_tce"], tenk),
        "carbon_intensity_tco2_per_10k_cny": _div(carbon, tenk),
        "carbon_intensity_market_tco2_per_10k_cny": _div(carbon_m, tenk),
        "renewable_electricity_share": shares["renewable_electricity_share"],
        "green_power_share": shares["green_power_share"],
        "by_product": [
            {
                "product": k[0],
                "unit": k[1],
                "quantity": q,
                "energy_intensity_tce_per_unit": _div(em["energy_tce"], q),
                "carbon_intensity_tco2_per_unit": _div(carbon, q),
                "carbon_intensity_market_tco2_per_unit": _div(carbon_m, q),
            }
            for k, q in sorted(products.items())
        ],
    }


def _changes(cur: dict, prev: dict) -> dict:
    out = {}
    for k in METRICS:
        a, b = cur[k], prev[k]
        out[k] = {
            "previous": b,
            "change": None if a is None or b is None else a - b,
            "change_pct": None if a is None or not b else (a - b) / b * 100.0,
        }
    return out


def intensity(
    session: Session,
    site: str,
    period: str,
    day: date,
    *,
    as_of: datetime | None = None,
    version: int | None = None,
    tce_convention: str = "equivalent",
    gwp_set: str = factors.DEFAULT_GWP_SET,
) -> dict:
    """Intensity KPIs of ``site`` for the ``period`` holding ``day`` up to ``as_of`` (default
    now), with YoY and MoM over the same elapsed part (:func:`core.periods.compare`)."""
    return _intensity(session, site, period, day, as_of, version, tce_convention, gwp_set)[0]


def intensity_derivation(
    session: Session,
    site: str,
    period: str,
    day: date,
    *,
    as_of: datetime | None = None,
    version: int | None = None,
    tce_convention: str = "equivalent",
    gwp_set: str = factors.DEFAULT_GWP_SET,
) -> dict:
    """The derivation behind :func:`intensity` with the same arguments (recomputed)."""
    return _intensity(session, site, period, day, as_of, version, tce_convention, gwp_set)[1]


def _intensity(
    session: Session,
    site: str,
    period: str,
    day: date,
    as_of: datetime | None,
    version: int | None,
    tce_convention: str,
    gwp_set: str,
) -> tuple[dict, dict]:
    if period not in PERIODS:
        raise Invalid("period", f"one of {', '.join(PERIODS)}")
    if as_of is not None and as_of.tzinfo is None:
        raise Invalid("as_of", "needs a UTC offset (e.g. 2026-12-04T10:15:00+08:00)")
    if as_of is not None and (problem := limits.ts_problem(as_of)):
        raise Invalid("as_of", problem)
    as_of = datetime.now(UTC) if as_of is None else as_of.astimezone(UTC)
    ver = factors.get_version(session, version).version
    tz = clock.site_zone(session, site)
    yoy_cmp = periods.compare(period, day, tz, as_of, "previous_year")
    mom_cmp = None if period == "year" else periods.compare(period, day, tz, as_of, "previous")

    def figures(window: tuple[datetime, datetime]) -> dict:
        return _figures(session, site, window, ver, tce_convention, gwp_set)

    cur = figures(yoy_cmp.current)
    yoy = figures(yoy_cmp.previous)
    mom = None if mom_cmp is None else figures(mom_cmp.previous)
    result = {
        "site": site,
        "period": period,
        "date": day,
        "as_of": as_of,
        "version": ver,
        "tce_convention": tce_convention,
        "gwp_set": gwp_set,
        **{k: v for k, v in cur.items() if k not in ("emissions_hash", "production_inputs")},
        "output_basis": OUTPUT_BASIS,
        "yoy": {"compared": yoy_cmp.as_dict(), **_changes(cur, yoy)},
        "mom": None
        if mom is None or mom_cmp is None
        else {"compared": mom_cmp.as_dict(), **_changes(cur, mom)},
    }
    inputs = {
        "site": site,
        "period": period,
        "date": day,
        "as_of": as_of,
        "version": ver,
        "compared": {
            "previous_year": yoy_cmp.as_dict(),
            "previous_period": None if mom_cmp is None else mom_cmp.as_dict(),
        },
        "emissions_derivations": {
            "current": cur["emissions_hash"],
            "previous_year": yoy["emissions_hash"],
            "previous_period": mom["emissions_hash"] if mom else None,
        },
        "production": {
            "current": cur["production_inputs"],
            "previous_year": yoy["production_inputs"],
            "previous_period": mom["production_inputs"] if mom else None,
        },
    }
    digest, body = derivation.build("kpi_intensity", inputs, KPI_FORMULAS, result)
    result["derivation_hash"] = digest
    return result, body
