"""The footprint formula: pure, on the JSON inputs a derivation stores, so a verifier re-runs it.

Cradle-to-gate kgCO₂e per declared unit (GB/T 24067-2024 / ISO 14067, partial PCF)::

    raw_materials = Σ quantity_i × unit_conversion_i × factor_i          (stage raw_materials)
    packaging     = Σ quantity_j × unit_conversion_j × factor_j          (stage packaging)
    transport     = Σ mass_kg_k / 1000 × distance_km_k × factor_k        (kgCO₂e per t·km)
    energy        = Σ_meters kWh_m × share_m / output × electricity carbon-footprint factor
    share_m       = weight(product) / Σ weight(co-products on meter m)
                    weight = output × mass per unit (mass)  |  output value in CNY (economic)
    process       = process emissions per declared unit (site data)
    total         = raw_materials + transport + energy + process + packaging

Arithmetic is decimal; results are rounded to 6 decimals only when reported.
"""

from __future__ import annotations

from decimal import Decimal

from core.errors import Invalid

STAGES = ("raw_materials", "transport", "energy", "process", "packaging")
# kg-based and volume-based conversions between a BOM unit and a factor's unit
_MASS_KG = {"g": Decimal("0.001"), "kg": Decimal(1), "t": Decimal(1000)}
_VOLUME_L = {"l": Decimal(1), "m3": Decimal(1000)}
_ENERGY_KWH = {"kWh": Decimal(1), "MWh": Decimal(1000)}
FORMULAS = {
    "material": "kgco2e_per_unit = quantity × conversion(unit → factor unit) × factor",
    "transport": "kgco2e_per_unit = mass_kg / 1000 × distance_km × factor_kgco2e_per_tkm",
    "energy": "kgco2e_per_unit = Σ_m kwh_m × weight_self_m / Σ weight_m ÷ output_quantity "
    "× electricity_factor (weight = output × mass_kg_per_unit, or output value CNY)",
    "process": "kgco2e_per_unit = process_kgco2e_per_unit",
    "total": "raw_materials + transport + energy + process + packaging",
    "primary_data_share": "(energy + process + supplier-specific materials) ÷ total",
}
SIX = Decimal("0.000001")


def D(x: object) -> Decimal:  # noqa: N802
    return x if isinstance(x, Decimal) else Decimal(str(x))


LIMIT = Decimal("1e14")  # the stored columns hold 15 digits before the point


def check_number(field: str, value: Decimal | None, *, positive: bool = False) -> None:
    """A stored quantity: finite, not negative (positive when asked), below 10^14."""
    if value is None:
        return
    if not value.is_finite():
        raise Invalid(field, "must be a finite number")
    if value < 0 or (positive and value == 0):
        raise Invalid(field, "must be positive" if positive else "must not be negative")
    if value >= LIMIT:
        raise Invalid(field, "too large")


def check_text(field: str, value: str | None, max_len: int) -> None:
    if value is not None and len(value) > max_len:
        raise Invalid(field, f"at most {max_len} characters")


def conversion(unit: str, factor_unit: str) -> Decimal | None:
    """Multiplier from a quantity in ``unit`` to ``factor_unit``; None when incompatible."""
    if unit == factor_unit:
        return Decimal(1)
    for table in (_MASS_KG, _VOLUME_L, _ENERGY_KWH):
        if unit in table and factor_unit in table:
            return table[unit] / table[factor_unit]
    return None


def q6(x: Decimal) -> Decimal:
    return x.quantize(SIX)


def compute(inputs: dict) -> dict:
    """Results (decimal strings) of one footprint from its inputs (see the module formula)."""
    stages = dict.fromkeys(STAGES, Decimal(0))
    primary = Decimal(0)
    materials: list[dict] = []
    findings: list[dict] = []
    bom = inputs.get("bom") or {"items": [], "transport": [], "process": None}
    covered = 0
    for item in bom["items"]:
        f = item.get("factor")
        row = {k: item[k] for k in ("material", "supplier", "stage", "quantity", "unit")}
        if f is None:
            findings.append(
                {"code": "missing_factor", "subject": item["material"], "detail": "no factor"}
            )
            materials.append({**row, "factor": None, "kgco2e_per_unit": "0"})
            continue
        conv = conversion(item["unit"], f["unit"])
        if conv is None:
            findings.append(
                {
                    "code": "unit_mismatch",
                    "subject": item["material"],
                    "detail": f"BOM unit {item['unit']} vs factor unit {f['unit']}",
                }
            )
            materials.append({**row, "factor": f, "kgco2e_per_unit": "0"})
            continue
        covered += 1
        kg = D(item["quantity"]) * conv * D(f["value"])
        stages[item["stage"]] += kg
        if f["data_type"] == "primary":
            primary += kg
        materials.append({**row, "factor": f, "kgco2e_per_unit": str(q6(kg))})
    legs = []
    for leg in bom.get("transport") or []:
        kg = D(leg["mass_kg"]) / 1000 * D(leg["distance_km"]) * D(leg["factor_kgco2e_per_tkm"])
        stages["transport"] += kg
        legs.append({**leg, "kgco2e_per_unit": str(q6(kg))})
    if bom.get("process"):
        stages["process"] += D(bom["process"]["kgco2e_per_unit"])
        primary += D(bom["process"]["kgco2e_per_unit"])
    energy = _energy(inputs.get("energy"))
    stages["energy"] += energy["kgco2e_per_unit"]
    primary += energy["kgco2e_per_unit"]
    total = sum(stages.values(), Decimal(0))
    share = primary / total if total > 0 else Decimal(0)
    n_items = len(bom["items"])
    coverage = Decimal(covered) / n_items if n_items else Decimal(1)
    return {
        "kgco2e_per_unit": str(q6(total)),
        "by_stage": {k: str(q6(v)) for k, v in stages.items()},
        "by_material": materials,
        "transport": legs,
        "energy": {k: str(q6(v)) for k, v in energy.items()},
        "primary_data_share": str(share.quantize(Decimal("0.0001"))),
        "data_quality": {
            "rating": rating(share, coverage),
            "factor_coverage": str(coverage.quantize(Decimal("0.0001"))),
        },
        "findings": findings,
    }


def rating(primary_share: Decimal, coverage: Decimal) -> str:
    """good: every material has a factor and ≥ 50 % of emissions are primary data; fair:
    coverage ≥ 95 % and ≥ 20 % primary; poor otherwise."""
    if coverage >= 1 and primary_share >= Decimal("0.5"):
        return "good"
    if coverage >= Decimal("0.95") and primary_share >= Decimal("0.2"):
        return "fair"
    return "poor"


def _energy(energy: dict | None) -> dict:
    if not energy or not energy.get("meters"):
        return {
            "kwh_allocated": Decimal(0),
            "kwh_per_unit": Decimal(0),
            "kgco2e_per_unit": Decimal(0),
        }
    allocated = Decimal(0)
    for m in energy["meters"]:
        weights = {c["product"]: D(c["weight"]) for c in m["co_products"]}
        total = sum(weights.values(), Decimal(0))
        if total <= 0:
            raise Invalid("output", f"no allocatable output on meter {m['meter']!r} in the period")
        allocated += D(m["kwh"]) * weights[energy["product"]] / total
    output = D(energy["output_quantity"])
    if output <= 0:
        raise Invalid("output", "no production output of the product recorded in the period")
    per_unit = allocated / output
    kg = per_unit * D(energy["electricity_factor"]["value"])
    return {
        "kwh_allocated": q6(allocated),
        "kwh_per_unit": q6(per_unit),
        "kgco2e_per_unit": kg,
    }
