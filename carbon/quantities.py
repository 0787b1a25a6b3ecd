"""Factor units: ``tCO2/MWh``, ``kgCO2/kWh``, ``tCO2/10^4 m3``, ``kgce/kWh``, ``tCO2e/t``,
``GJ/t``. A factor's coefficient per meter unit folds every conversion into one number."""

from __future__ import annotations

from dataclasses import dataclass

from core import units
from core.errors import Invalid

# numerator -> (what it measures, factor to tonnes (or to GJ for heat content))
_NUMERATORS: dict[str, tuple[str, float]] = {
    "tCO2": ("co2", 1.0),
    "kgCO2": ("co2", 1e-3),
    "gCO2": ("co2", 1e-6),
    "tCO2e": ("co2e", 1.0),
    "kgCO2e": ("co2e", 1e-3),
    "tce": ("tce", 1.0),
    "kgce": ("tce", 1e-3),
    "gce": ("tce", 1e-6),
    "GJ": ("energy", 1.0),
    "MJ": ("energy", 1e-3),
    "kJ": ("energy", 1e-6),
}
_DENOMINATOR_ALIASES = {
    "10^4 Nm3": "10^4 m3",
    "10^4Nm3": "10^4 m3",
    "10^4 nm3": "10^4 m3",
    "万Nm3": "10^4 m3",
    "万m3": "10^4 m3",
    "1000 m3": "1000 m3",
}
KIND_OF_MEASURE = {"co2": "emission", "co2e": "emission", "tce": "tce", "energy": "ncv"}


@dataclass(frozen=True)
class FactorUnit:
    measure: str  # co2 | co2e | tce | energy
    to_base: float  # numerator to t (co2, co2e, tce) or GJ (energy)
    per: str  # denominator: a unit symbol of core.units


def parse(unit: str, field: str = "unit") -> FactorUnit:
    num, sep, den = unit.partition("/")
    if not sep:
        raise Invalid(field, f"a factor unit is 'numerator/denominator' (tCO2/MWh), not {unit!r}")
    num, den = num.strip(), den.strip()
    if num not in _NUMERATORS:
        raise Invalid(field, f"unknown numerator {num!r}; known: {', '.join(_NUMERATORS)}")
    den = _DENOMINATOR_ALIASES.get(den, den)
    if den == "1000 m3":
        raise Invalid(field, "use 10^4 m3 or m3 as the volume unit")
    units.lookup(den, field)
    measure, to_base = _NUMERATORS[num]
    return FactorUnit(measure, to_base, units.lookup(den, field).symbol)


def convertible(from_unit: str, to_unit: str) -> bool:
    return units.lookup(from_unit).dimension == units.lookup(to_unit).dimension


def coefficient(value: float, unit: str, per_unit: str) -> float:
    """The factor expressed per ``per_unit`` (a meter's canonical unit), numerator in t (or GJ).

    ``0.5306 tCO2/MWh`` per ``kWh`` is 0.0005306; ``21.62 tCO2/10^4 m3`` per ``m3`` is 0.002162.
    """
    fu = parse(unit)
    factor, offset = units.conversion(per_unit, fu.per)
    if offset:
        raise Invalid("unit", f"{per_unit!r} cannot carry a factor (offset scale)")
    return value * fu.to_base * factor
