"""The footprint formula on hand-worked inputs (no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import Invalid
from footprints import calc


def _inputs(allocation: str = "mass") -> dict:
    weights = {"mass": ("600", "400"), "economic": ("6000", "2000")}[allocation]
    return {
        "product": {"code": "A", "declared_unit": "kg", "mass_kg_per_unit": "1"},
        "bom": {
            "version": 1,
            "items": [
                {
                    "material": "steel",
                    "supplier": "S1",
                    "stage": "raw_materials",
                    "quantity": "0.8",
                    "unit": "kg",
                    "factor": {"value": "2.0", "unit": "t", "data_type": "primary"},
                },
                {
                    "material": "resin",
                    "supplier": None,
                    "stage": "raw_materials",
                    "quantity": "100",
                    "unit": "g",
                    "factor": {"value": "3.0", "unit": "kg", "data_type": "secondary"},
                },
                {
                    "material": "carton",
                    "supplier": None,
                    "stage": "packaging",
                    "quantity": "0.05",
                    "unit": "kg",
                    "factor": {"value": "1.2", "unit": "kg", "data_type": "secondary"},
                },
                {
                    "material": "ink",
                    "supplier": None,
                    "stage": "raw_materials",
                    "quantity": "1",
                    "unit": "pcs",
                    "factor": None,
                },
            ],
            "transport": [{"mass_kg": "0.9", "distance_km": "100", "factor_kgco2e_per_tkm": "0.1"}],
            "process": {"kgco2e_per_unit": "0.02", "source": "site"},
        },
        "energy": {
            "product": "A",
            "allocation": allocation,
            "output_quantity": "600",
            "meters": [
                {
                    "meter": "LINE",
                    "kwh": "1000",
                    "co_products": [
                        {"product": "A", "weight": weights[0]},
                        {"product": "B", "weight": weights[1]},
                    ],
                }
            ],
            "electricity_factor": {"value": "0.5777"},
        },
    }


def test_hand_worked_stages() -> None:
    r = calc.compute(_inputs())
    # steel: 0.8 kg = 0.0008 t × 2.0 kgCO2e/t (a factor per tonne) = 0.0016
    # resin: 100 g = 0.1 kg × 3.0 = 0.3; carton 0.05 × 1.2 = 0.06
    # transport 0.9 kg / 1000 × 100 km × 0.1 = 0.009; process 0.02
    # energy: 1000 kWh × 600 / (600 + 400) ÷ 600 kg × 0.5777 = 0.5777
    assert r["by_stage"] == {
        "raw_materials": "0.301600",
        "transport": "0.009000",
        "energy": "0.577700",
        "process": "0.020000",
        "packaging": "0.060000",
    }
    assert Decimal(r["kgco2e_per_unit"]) == Decimal("0.968300")
    # primary: steel (supplier-specific) + energy + process = 0.5993 / 0.9683
    assert Decimal(r["primary_data_share"]) == (Decimal("0.5993") / Decimal("0.9683")).quantize(
        Decimal("0.0001")
    )
    assert [f["code"] for f in r["findings"]] == ["missing_factor"]
    assert r["data_quality"] == {"rating": "poor", "factor_coverage": "0.7500"}


def test_economic_allocation() -> None:
    r = calc.compute(_inputs("economic"))
    # 1000 kWh × 6000 / 8000 ÷ 600 = 1.25 kWh per kg × 0.5777
    assert r["energy"]["kwh_per_unit"] == "1.250000"
    assert Decimal(r["by_stage"]["energy"]) == Decimal("0.722125")


def test_no_output_is_named() -> None:
    inputs = _inputs()
    inputs["energy"]["output_quantity"] = "0"
    with pytest.raises(Invalid) as e:
        calc.compute(inputs)
    assert e.value.field == "output"


@pytest.mark.parametrize(
    ("unit", "factor_unit", "expected"),
    [("g", "kg", Decimal("0.001")), ("t", "kg", Decimal(1000)), ("m3", "l", Decimal(1000))],
)
def test_conversion(unit: str, factor_unit: str, expected: Decimal) -> None:
    assert calc.conversion(unit, factor_unit) == expected
    assert calc.conversion("pcs", "kg") is None


@given(
    kwh=st.decimals(min_value=0, max_value=10**7, places=3),
    weights=st.lists(st.decimals(min_value=1, max_value=10**6, places=2), min_size=1, max_size=5),
)
def test_allocation_hands_out_the_whole_meter(kwh: Decimal, weights: list[Decimal]) -> None:
    """Σ over co-products of allocated kWh = the meter's kWh (nothing lost or counted twice)."""
    co = [{"product": f"P{i}", "weight": str(w)} for i, w in enumerate(weights)]
    total = Decimal(0)
    for i in range(len(weights)):
        energy = {
            "product": f"P{i}",
            "output_quantity": "1",
            "meters": [{"meter": "M", "kwh": str(kwh), "co_products": co}],
            "electricity_factor": {"value": "0.5777"},
        }
        total += calc._energy(energy)["kwh_allocated"]
    assert abs(total - kwh) <= Decimal("0.000001") * len(weights)
