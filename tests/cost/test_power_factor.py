"""The power-factor adjustment table (力调电费, (83)水电财字第215号) against the worked lookup in
``../shared/reference/management/power_factor_adjustment_lookup.csv``, and the shipped data's
verification flags (every row of the table is single-source: one code copy of the 办法)."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from core.errors import Invalid
from cost import power_factor
from tests.support.paths import SHARED_DATA

LOOKUP = SHARED_DATA.parent / "reference" / "management" / "power_factor_adjustment_lookup.csv"


@pytest.mark.parametrize(
    ("standard", "pf", "pct"),
    [
        ("0.90", "0.80", "5.0"),  # 0.5 % per 0.01 below 0.90
        ("0.90", "0.95", "-0.75"),  # flat rebate from 0.95
        ("0.90", "0.90", "0"),
        ("0.90", "0.92", "-0.30"),
        ("0.90", "0.68", "12"),  # 10 % + 1 % per 0.01 below 0.70
        ("0.90", "0.60", "25"),  # 15 % + 2 % per 0.01 below 0.65
        ("0.85", "0.95", "-1.0"),  # source value; the progression suggests −1.10 (to verify)
        ("0.80", "0.91", "-1.15"),
    ],
)
def test_hand_worked_bands(standard: str, pf: str, pct: str) -> None:
    assert power_factor.adjustment_pct(Decimal(standard), Decimal(pf)) == Decimal(pct)


def test_the_power_factor_of_a_month() -> None:
    assert power_factor.power_factor(Decimal(36000), Decimal(27000)) == Decimal("0.80")
    assert power_factor.power_factor(Decimal(100), Decimal(33)) == Decimal("0.95")  # 0.9496
    assert power_factor.power_factor(Decimal(0), Decimal(5)) is None


def test_unknown_standard_names_the_field() -> None:
    with pytest.raises(Invalid) as err:
        power_factor.adjustment_pct(Decimal("0.95"), Decimal("0.9"))
    assert err.value.field == "power_factor_standard"


def test_every_shipped_band_is_flagged_single_source() -> None:
    assert {b.verification for b in power_factor.bands()} == {"single_source"}


@pytest.mark.shared_data
def test_table_matches_the_reference_lookup() -> None:
    if not LOOKUP.exists():
        pytest.skip("../shared/reference is absent")
    rows = list(csv.DictReader(LOOKUP.open(encoding="utf-8")))
    assert len(rows) == 51
    for r in rows:
        for std in ("0.90", "0.85", "0.80"):
            got = power_factor.adjustment_pct(Decimal(std), Decimal(r["actual_pf"]))
            assert got == Decimal(r[f"adjust_pct_std_{std}"]), (std, r["actual_pf"])
