"""The zero-carbon scorecard: indicators computed from the data, each with its evidence, against
thresholds held as versioned data (``assets/data/zero_carbon_indicators.yaml``) or set by users
for their factory (``zero_carbon_threshold``, newest row per site and indicator wins).

Status per indicator: ``met``, ``not met``, ``not measured`` (no data, or the capability that
measures it is not installed) or ``no threshold``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from assets import offsets as offsets_mod
from benchmarking import equipment, processes
from carbon import engine
from carbon.kpis import electricity_shares
from core.errors import Invalid
from footprints import service as footprint_service
from metering import collection, registry
from models.assets import ZeroCarbonThreshold

COMPARISONS = ("<=", ">=")


@lru_cache(maxsize=1)
def library() -> dict:
    """The shipped indicator set (parsed once)."""
    text = resources.files("assets").joinpath("data/zero_carbon_indicators.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def indicator_codes() -> list[str]:
    return [i["code"] for i in library()["indicators"]]


@dataclass(frozen=True)
class ThresholdIn:
    site: str
    indicator: str
    comparison: str
    threshold: Decimal
    source: str


def set_threshold(session: Session, data: ThresholdIn, actor: str) -> ZeroCarbonThreshold:
    if data.indicator not in indicator_codes():
        raise Invalid("indicator", f"one of {', '.join(indicator_codes())}")
    if data.comparison not in COMPARISONS:
        raise Invalid("comparison", "one of <=, >=")
    if not data.threshold.is_finite() or abs(data.threshold) > Decimal("1e12"):
        raise Invalid("threshold", "must be a finite number")
    if not data.source.strip():
        raise Invalid("source", "say where the threshold comes from (evaluation standard, target)")
    row = ZeroCarbonThreshold(
        site_id=registry.get_site(session, data.site).id,
        indicator=data.indicator,
        comparison=data.comparison,
        threshold=data.threshold,
        source=data.source.strip(),
        created_by=actor,
    )
    session.add(row)
    session.flush()
    return row


def _factory_thresholds(session: Session, site_id: int) -> dict[str, ZeroCarbonThreshold]:
    out: dict[str, ZeroCarbonThreshold] = {}
    for row in session.scalars(
        select(ZeroCarbonThreshold)
        .where(ZeroCarbonThreshold.site_id == site_id)
        .order_by(ZeroCarbonThreshold.id)
    ):
        out[row.indicator] = row
    return out


def _pct(x: float | None) -> float | None:
    return None if x is None else round(100.0 * x, 4)


def _div(a: float, b: float) -> float | None:
    return a / b if b else None


def base_figures(session: Session, site: str, year: int) -> dict:
    """Everything the emission- and energy-based indicators of a year are computed from."""
    start, end = offsets_mod.year_bounds(session, site, year)
    em = engine.emissions(session, site, start, end)
    el = em["electricity"]
    shares = electricity_shares(el)
    el_row = next((c for c in em["by_carrier"] if c["carrier"] == "electricity"), None)
    # tce of one kWh under the inventory's convention (equivalent or calorific value)
    tce_per_kwh = el_row["tce"] / el_row["quantity"] if el_row and el_row["quantity"] else None
    total_tce = em["energy_tce"]
    self_kwh = shares["self_consumed_renewable_kwh"] or 0.0
    cert_kwh = min(
        el["certificates_claimed_mwh"] * 1000.0, max(0.0, el["consumption_kwh"] - self_kwh)
    )
    phys = cert = None
    if tce_per_kwh is not None and total_tce:
        phys = self_kwh * tce_per_kwh / total_tce
        cert = (self_kwh + cert_kwh) * tce_per_kwh / total_tce
    co2 = em["scope1_tco2"] + em["scope2_location_tco2"]
    return {
        "year": year,
        "start": start,
        "end": end,
        "emissions": em,
        "emissions_hash": em["derivation_hash"],
        "scope1_tco2": em["scope1_tco2"],
        "scope2_location_tco2": em["scope2_location_tco2"],
        "scope2_market_tco2": em["scope2_market_tco2"],
        "energy_tce": total_tce,
        "electricity": el,
        "tce_per_kwh": tce_per_kwh,
        "co2_per_tce": _div(co2, total_tce),
        "co2_per_tce_market": _div(em["scope1_tco2"] + em["scope2_market_tco2"], total_tce),
        "non_fossil_share_physical": _pct(phys),
        "non_fossil_share_certificates": _pct(cert),
        "green_power_share": _pct(shares["green_power_share"]),
        "onsite_renewable_share": _pct(shares["renewable_electricity_share"]),
        "self_consumed_renewable_kwh": self_kwh,
        "certificate_kwh_counted": cert_kwh,
    }


def scorecard(
    session: Session, site: str, year: int, served_paths: Iterable[str], trend_years: int = 2
) -> dict:
    """``{"version", "site", "year", "indicators": [{"code", "name", "value", "unit",
    "threshold", "status", "evidence", "trend"}]}``; ``served_paths`` are the API paths this
    installation serves (the platform-function checklist is read from them)."""
    lib = library()
    site_row = registry.get_site(session, site)
    years = [y for y in range(year - trend_years, year + 1) if y >= offsets_mod.MIN_YEAR]
    figs = {y: base_figures(session, site, y) for y in years}
    cur = figs[year]
    off = offsets_mod.offsets(session, site, year, cur["emissions"])
    rate = collection.collection_rate(session, site, cur["start"], cur["end"])
    coll: dict = {
        "basis": rate.basis,
        "configured": rate.configured,
        "reporting": rate.reporting,
        "rate": rate.rate,
        "not_reporting": rate.not_reporting,
    }
    pcf = footprint_service.coverage(session, site, cur["start"], cur["end"])
    paths = set(served_paths)
    functions = [
        {**f, "available": any(p in paths for p in f["where"])} for f in lib["platform_functions"]
    ]
    values: dict[str, tuple[float | None, dict]] = {
        "co2_per_tce": (
            cur["co2_per_tce"],
            {
                "scope1_tco2": cur["scope1_tco2"],
                "scope2_location_tco2": cur["scope2_location_tco2"],
                "energy_tce": cur["energy_tce"],
                "co2_per_tce_market_based": cur["co2_per_tce_market"],
                "emissions_hash": cur["emissions_hash"],
            },
        ),
        "non_fossil_share_physical": (
            cur["non_fossil_share_physical"],
            {
                "self_consumed_renewable_kwh": cur["self_consumed_renewable_kwh"],
                "tce_per_kwh": cur["tce_per_kwh"],
                "energy_tce": cur["energy_tce"],
                "emissions_hash": cur["emissions_hash"],
            },
        ),
        "non_fossil_share_certificates": (
            cur["non_fossil_share_certificates"],
            {
                "self_consumed_renewable_kwh": cur["self_consumed_renewable_kwh"],
                "certificate_kwh_counted": cur["certificate_kwh_counted"],
                "tce_per_kwh": cur["tce_per_kwh"],
                "energy_tce": cur["energy_tce"],
                "emissions_hash": cur["emissions_hash"],
            },
        ),
        "green_power_share": (
            cur["green_power_share"],
            {"electricity": cur["electricity"], "emissions_hash": cur["emissions_hash"]},
        ),
        "onsite_renewable_share": (
            cur["onsite_renewable_share"],
            {"electricity": cur["electricity"], "emissions_hash": cur["emissions_hash"]},
        ),
        "auto_collection_rate": (_pct(rate.rate), coll),
        "processes_at_level_1": _measured(
            processes.share_at_level_1(session, site, cur["start"], cur["end"]),
            "no process with a rated benchmark",
        ),
        "equipment_grade_1_share": _measured(
            equipment.grade_1_share(session, site), "no graded equipment in the register"
        ),
        "pcf_coverage": (_pct(pcf["share"]), pcf),
        "offsets_within_residual": (
            float(off["residual_tco2"] - off["offsets_tco2"]),
            {
                "residual_tco2": off["residual_tco2"],
                "offsets_tco2": off["offsets_tco2"],
                "warnings": off["warnings"],
            },
        ),
        "platform_functions": (
            float(sum(f["available"] for f in functions)),
            {"functions": functions},
        ),
    }
    factory = _factory_thresholds(session, site_row.id)
    indicators = []
    for ind in lib["indicators"]:
        code = ind["code"]
        value, evidence = values[code]
        threshold = _threshold(ind, factory.get(code), lib["sources"])
        indicators.append(
            {
                "code": code,
                "name": ind["name_en"],
                "name_zh": ind["name_zh"],
                "value": None if value is None else round(value, 6),
                "unit": ind["unit"],
                "formula": ind["formula"],
                "threshold": threshold,
                "status": status(value, threshold),
                "evidence": evidence,
                "trend": [
                    {"year": y, "value": figs[y].get(code)}
                    for y in years
                    if code in figs[y] and code != "emissions" and y != year
                ]
                + ([{"year": year, "value": value}] if code in cur else []),
            }
        )
    return {"version": lib["version"], "site": site, "year": year, "indicators": indicators}


def _measured(figure: dict, empty_note: str) -> tuple[float | None, dict]:
    """A benchmarking figure as (value, evidence); "not measured" when it has no value."""
    value = figure.pop("value_pct")
    return value, figure if value is not None else {**figure, "note": empty_note}


def _threshold(ind: dict, factory: ZeroCarbonThreshold | None, sources: dict) -> dict | None:
    if factory is not None:
        return {
            "comparison": factory.comparison,
            "value": float(factory.threshold),
            "set": "factory",
            "source": factory.source,
            "verification": f"set by {factory.created_by} on {factory.created_at:%Y-%m-%d}",
        }
    park = ind.get("park_threshold")
    if park is None:
        return None
    return {
        "comparison": park["comparison"],
        "value": park["value"],
        "set": "park (shipped)",
        "source": sources.get(park["source"], park["source"]),
        "verification": park["verification"],
    }


def status(value: float | None, threshold: dict | None) -> str:
    if value is None:
        return "not measured"
    if threshold is None:
        return "no threshold"
    limit = threshold["value"]
    ok = value <= limit if threshold["comparison"] == "<=" else value >= limit
    return "met" if ok else "not met"
