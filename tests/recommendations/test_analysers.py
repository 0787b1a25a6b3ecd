"""Recommendations against hand calculation.

A plant over one week (Mon 2025-03-03 → Sun 2025-03-09, 15-minute intervals, site time
+08:00) with the default price table (valley 00–08 0.30, peak 08–11 and 17–22 1.10, flat
otherwise 0.66 CNY/kWh):

- a constant base load of 200 kW, day and night;
- production 300 kW more, 08:00–20:00 Monday to Friday;
- a flexible load (shiftable equipment) of 100 kW in every peak hour (8 h a day, every day).

Base load: base = 200 kW (median 00–05); non-production hours = 5 × 12 + 2 × 24 = 108 h of
168; per kW of base per week the off-production hours cost 5 × (8 × 0.30 + 2 × 1.10 + 2 ×
0.66) + 2 × (8 × 0.30 + 8 × 1.10 + 8 × 0.66) = 62.56 CNY. 20 % of the base (40 kW) off:
    kWh/yr = 40 × 8760 × 108 / 168 = 225 257.14;   CNY/yr = 40 × 62.56 × 8760 / 168 = 130 482.29
Load shift: peak kWh/yr = 100 × 8 × 7 × 8760 / 168 = 292 000; CNY/yr = 292 000 × (1.10 − 0.30)
= 233 600.

Power factor 0.82 against 0.90 (table: +4.0 % at 0.82, 0 at 0.90), P = 1 000 kW:
    kvar = 1000 × (tan acos 0.82 − tan acos 0.90) = 1000 × (0.698004 − 0.484322) = 213.68
    CNY/yr = 4.0 % × 1 000 000 CNY/yr (basic + energy charge) = 40 000
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pandas as pd
import pytest

from recommendations import analysers, prices

CST = timezone(timedelta(hours=8))
IDX = pd.date_range(datetime(2025, 3, 3, tzinfo=CST), periods=7 * 96, freq="15min")
PEAK = (IDX.hour >= 8) & (IDX.hour < 11) | (IDX.hour >= 17) & (IDX.hour < 22)
PRODUCTION = (IDX.hour >= 8) & (IDX.hour < 20) & (IDX.day_of_week < 5)
FLEX = pd.Series(100.0 * PEAK * 0.25, index=IDX)
SITE = pd.Series((200.0 + 300.0 * PRODUCTION) * 0.25, index=IDX) + FLEX


def test_base_load_matches_hand_calculation() -> None:
    p = analysers.base_load(SITE, prices.DEFAULT, "PLANT")
    assert p is not None and p.kind == "base_load"
    assert p.evidence["base_kw"] == pytest.approx(200.0)
    assert p.evidence["non_production_hours_per_year"] == pytest.approx(8760 * 108 / 168)
    assert p.savings_kwh_per_year == pytest.approx(40 * 8760 * 108 / 168)
    assert p.savings_cny_per_year == Decimal("130482.29")
    assert p.with_co2(0.0005306).savings_tco2_per_year == pytest.approx(
        40 * 8760 * 108 / 168 * 0.0005306
    )


def test_load_shift_matches_hand_calculation() -> None:
    p = analysers.load_shift(FLEX, prices.DEFAULT, "KILN-FAN")
    assert p is not None and p.kind == "load_shift"
    assert p.evidence["peak_kwh_per_year"] == pytest.approx(292_000.0)
    assert p.savings_kwh_per_year == 0.0
    assert p.savings_cny_per_year == Decimal("233600.00")


def test_a_load_that_never_runs_in_peak_is_not_shifted() -> None:
    night = pd.Series(50.0 * (IDX.hour < 6) * 0.25, index=IDX)
    assert analysers.load_shift(night, prices.DEFAULT, "PUMP") is None


def test_power_factor_082_against_090() -> None:
    kwh = 720_000.0
    kvarh = kwh * math.tan(math.acos(0.82))
    p = analysers.power_factor(
        kwh, kvarh, 720.0, Decimal("1000000"), prices.DEFAULT, "PLANT", target=Decimal("0.90")
    )
    assert p is not None
    assert p.evidence["power_factor"] == "0.82"
    assert Decimal(p.evidence["adjustment_pct_now"]) == Decimal("4.0")
    assert Decimal(p.evidence["adjustment_pct_at_target"]) == 0
    assert analysers.kvar_to_target(1000.0, 0.82, 0.90) == pytest.approx(213.68, abs=0.01)
    assert "214 kvar" in p.title
    assert p.savings_cny_per_year == Decimal("40000.00")
    # at 0.95 the rebate of the table (−0.75 %) adds to it
    p95 = analysers.power_factor(kwh, kvarh, 720.0, Decimal("1000000"), prices.DEFAULT, "PLANT")
    assert p95.savings_cny_per_year == Decimal("47500.00")
    assert analysers.power_factor(kwh, 0.0, 720.0, Decimal(1), prices.DEFAULT, "P") is None


def test_contracted_demand_too_high_and_too_low() -> None:
    # measured maximum 600 kW (200 + 300 + 100)
    high = replace(prices.DEFAULT, contracted_kw=1000.0)
    p = analysers.contracted_demand(SITE, high, "PLANT")
    assert p.evidence["max_15min_kw"] == pytest.approx(600.0)
    assert p.evidence["proposed_kw"] == math.ceil(600 / 1.05) == 572
    assert p.savings_cny_per_year == Decimal((1000 - 572) * 40 * 12).quantize(Decimal("0.01"))
    low = replace(prices.DEFAULT, contracted_kw=500.0)
    q = analysers.contracted_demand(SITE, low, "PLANT")
    # now: 500 × 40 + 2 × 40 × (600 − 525) = 26 000 / month; at 572: 22 880 / month
    assert q.savings_cny_per_year == Decimal((26_000 - 22_880) * 12).quantize(Decimal("0.01"))
    assert q.title.startswith("Raise")


def test_below_grade_1_payback() -> None:
    eq = {
        "code": "M1",
        "kind": "motor",
        "standard": "GB 18613-2020",
        "grade": 3,
        "rated_kw": 75.0,
        "efficiency_pct": 93.0,
        "grade_1_efficiency_pct": 95.4,
        "replacement_cost_cny": Decimal("30000"),
    }
    p = analysers.below_grade_1(eq, 300_000.0, prices.DEFAULT)
    saved = 300_000 * (1 - 93.0 / 95.4)
    assert p.savings_kwh_per_year == pytest.approx(saved)
    mean = prices.DEFAULT.mean_price(tuple(prices.DEFAULT.energy_cny_per_kwh))
    assert p.evidence["payback_years"] == pytest.approx(
        30000 / float(Decimal(str(saved)) * mean), rel=1e-3
    )
    assert analysers.below_grade_1({**eq, "grade": 1}, 300_000.0, prices.DEFAULT) is None
