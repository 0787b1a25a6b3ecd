"""Units and energy carriers: every quantity is converted once, at ingest, to a canonical unit.

An explicit table (not pint): the set of units a meter can report is small and known, and an
explicit table is fast, reviewable and has no surprises. ``to_canonical(value, unit, carrier)``
is ``value * factor + offset``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.errors import Invalid


class Carrier(StrEnum):
    ELECTRICITY = "electricity"
    NATURAL_GAS = "natural_gas"
    STEAM = "steam"
    HEAT = "heat"
    HOT_WATER = "hot_water"
    COOLING = "cooling"
    WATER = "water"
    DIESEL = "diesel"
    GASOLINE = "gasoline"
    COAL = "coal"
    LPG = "lpg"
    FUEL_OIL = "fuel_oil"
    COMPRESSED_AIR = "compressed_air"
    PV_GENERATION = "pv_generation"
    WIND_GENERATION = "wind_generation"
    GRID_EXPORT = "grid_export"
    REACTIVE_ENERGY = "reactive_energy"  # kvarh, for the power-factor adjustment (力调电费)
    OTHER = "other"


class MeterKind(StrEnum):
    COUNTER = "counter"  # cumulative register
    DELTA = "delta"  # quantity in the interval ending at ts
    GAUGE = "gauge"  # instantaneous value


@dataclass(frozen=True)
class Unit:
    symbol: str
    dimension: str
    factor: float  # to the dimension's base unit
    offset: float = 0.0


# dimension -> base unit symbol (the factor of each unit is relative to this)
BASE_UNITS: dict[str, str] = {
    "energy": "kWh",
    "volume": "m3",
    "mass": "t",
    "power": "kW",
    "reactive_energy": "kvarh",
    "reactive_power": "kvar",
    "apparent_power": "kVA",
    "ratio": "1",
    "temperature": "degC",
    "voltage": "V",
    "current": "A",
    "pressure": "kPa",
    "volume_flow": "m3/h",
    "mass_flow": "t/h",
    "frequency": "Hz",
}

_UNITS: list[Unit] = [
    Unit("Wh", "energy", 1e-3),
    Unit("kWh", "energy", 1.0),
    Unit("MWh", "energy", 1e3),
    Unit("GWh", "energy", 1e6),
    Unit("J", "energy", 1 / 3.6e6),
    Unit("kJ", "energy", 1 / 3.6e3),
    Unit("MJ", "energy", 1 / 3.6),
    Unit("GJ", "energy", 1e3 / 3.6),
    Unit("m3", "volume", 1.0),
    Unit("Nm3", "volume", 1.0),
    Unit("L", "volume", 1e-3),
    Unit("10^4 m3", "volume", 1e4),
    Unit("kg", "mass", 1e-3),
    Unit("t", "mass", 1.0),
    Unit("W", "power", 1e-3),
    Unit("kW", "power", 1.0),
    Unit("MW", "power", 1e3),
    Unit("varh", "reactive_energy", 1e-3),
    Unit("kvarh", "reactive_energy", 1.0),
    Unit("Mvarh", "reactive_energy", 1e3),
    Unit("var", "reactive_power", 1e-3),
    Unit("kvar", "reactive_power", 1.0),
    Unit("Mvar", "reactive_power", 1e3),
    Unit("VA", "apparent_power", 1e-3),
    Unit("kVA", "apparent_power", 1.0),
    Unit("MVA", "apparent_power", 1e3),
    Unit("1", "ratio", 1.0),
    Unit("%", "ratio", 0.01),
    Unit("degC", "temperature", 1.0),
    Unit("K", "temperature", 1.0, -273.15),
    Unit("degF", "temperature", 5 / 9, -32 * 5 / 9),
    Unit("V", "voltage", 1.0),
    Unit("kV", "voltage", 1e3),
    Unit("A", "current", 1.0),
    Unit("kA", "current", 1e3),
    Unit("Pa", "pressure", 1e-3),
    Unit("kPa", "pressure", 1.0),
    Unit("MPa", "pressure", 1e3),
    Unit("bar", "pressure", 100.0),
    Unit("m3/h", "volume_flow", 1.0),
    Unit("t/h", "mass_flow", 1.0),
    Unit("kg/h", "mass_flow", 1e-3),
    Unit("Hz", "frequency", 1.0),
]
UNITS: dict[str, Unit] = {u.symbol: u for u in _UNITS}
_ALIASES = {
    "kwh": "kWh",
    "mwh": "MWh",
    "wh": "Wh",
    "gwh": "GWh",
    "gj": "GJ",
    "mj": "MJ",
    "kj": "kJ",
    "m³": "m3",
    "nm³": "Nm3",
    "nm3": "Nm3",
    "kw": "kW",
    "mw": "MW",
    "w": "W",
    "°c": "degC",
    "℃": "degC",
    "c": "degC",
    "celsius": "degC",
    "°f": "degF",
    "kvar": "kvar",
    "kvarh": "kvarh",
    "kva": "kVA",
    "ton": "t",
    "tonne": "t",
    "t": "t",
    "kg": "kg",
    "l": "L",
    "litre": "L",
    "liter": "L",
    "pf": "1",
    "": "1",
    "m3/h": "m3/h",
    "t/h": "t/h",
}

# Energy is kWh for electricity-like carriers and GJ for thermal ones (as energy statistics
# report them); other dimensions use their base unit for every carrier.
_THERMAL = {Carrier.STEAM, Carrier.HEAT, Carrier.HOT_WATER, Carrier.COOLING}


def lookup(symbol: str, field: str = "unit") -> Unit:
    """The unit for a symbol (common spellings accepted); ``Invalid`` naming ``field``
    if unknown."""
    unit = UNITS.get(symbol) or UNITS.get(_ALIASES.get(symbol.strip().lower(), "\0"))
    if unit is None:
        raise Invalid(field, f"unknown unit {symbol!r}; known: {', '.join(sorted(UNITS))}")
    return unit


def canonical_unit(carrier: Carrier, unit: str, field: str = "unit") -> str:
    """The canonical unit that readings in ``unit`` are stored in for ``carrier``."""
    dim = lookup(unit, field).dimension
    if dim == "energy" and carrier in _THERMAL:
        return "GJ"
    return BASE_UNITS[dim]


def conversion(from_unit: str, to_unit: str, field: str = "unit") -> tuple[float, float]:
    """``(factor, offset)`` such that ``value_to = value_from * factor + offset``."""
    src, dst = lookup(from_unit, field), lookup(to_unit, field)
    if src.dimension != dst.dimension:
        raise Invalid(
            field,
            f"unit {from_unit!r} ({src.dimension}) cannot be converted to {to_unit!r} "
            f"({dst.dimension})",
        )
    factor = src.factor / dst.factor
    offset = (src.offset - dst.offset) / dst.factor
    return factor, offset


def is_quantity_unit(unit: str) -> bool:
    """True for units that can be summed over time (energy, volume, mass, reactive energy)."""
    return lookup(unit).dimension in {"energy", "volume", "mass", "reactive_energy"}
