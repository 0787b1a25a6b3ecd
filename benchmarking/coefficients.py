"""Standard-coal and grid-emission coefficients from the shipped carbon library (GB/T 2589
当量值; the newest national average grid CO2 factor) as numbers per canonical meter unit."""

from __future__ import annotations

from functools import lru_cache

from carbon import library as carbon_library
from carbon import quantities
from core.errors import Invalid

# Generation meters measure electricity: they take its coefficient.
_AS_CARRIER = {"pv_generation": "electricity", "wind_generation": "electricity"}


@lru_cache(maxsize=1)
def _tce_rows() -> dict[str, dict]:
    return {
        r["carrier"]: r
        for r in carbon_library.factor_rows()
        if r["kind"] == "tce" and r["variant"] == "equivalent" and not r["region"]
    }


def tce_row(carrier: str) -> dict | None:
    """The shipped GB/T 2589 equivalent-value row of a carrier, or None."""
    return _tce_rows().get(_AS_CARRIER.get(carrier, carrier))


def tce_per_unit(carrier: str, canonical_unit: str) -> float | None:
    """tce per canonical unit of a meter (0.1229 kgce/kWh → 0.0001229 tce/kWh), or None when
    the library has no coefficient for the carrier or the units do not match."""
    row = tce_row(carrier)
    if row is None:
        return None
    try:
        return quantities.coefficient(row["value"], row["unit"], canonical_unit)
    except Invalid:
        return None


@lru_cache(maxsize=1)
def grid_factor() -> dict:
    """The newest national average grid CO2 factor: ``{"key", "tco2_per_kwh", "source"}``."""
    rows = [
        r
        for r in carbon_library.factor_rows()
        if r["kind"] == "emission"
        and r["carrier"] == "electricity"
        and r["variant"] == "average"
        and r["region"] == "national"
    ]
    row = max(rows, key=lambda r: r["valid_from"])
    return {
        "key": row["key"],
        "tco2_per_kwh": quantities.coefficient(row["value"], row["unit"], "kWh"),
        "source": row["source_document"],
        "verification": row["verification"],
    }
