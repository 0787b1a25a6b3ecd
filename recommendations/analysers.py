"""The analysers: pure functions over interval data and prices that return a proposal with its
evidence and savings per year. No database here (``recommendations.service`` feeds them).

Interval data is a pandas Series of energy (kWh) per interval indexed by the interval's local
start (tz-aware, site time zone). A year is 8760 h: a window's figures are scaled by
8760 ÷ the hours the window covers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from recommendations.prices import (
    DEMAND_EXCESS_RATIO,
    PEAK_PERIODS,
    VALLEY_PERIODS,
    Prices,
    pf_adjustment_pct,
)

HOURS_PER_YEAR = 8760.0
CENT = Decimal("0.01")
NIGHT_HOURS = (0, 5)  # [00:00, 05:00) local: where the night base load is read
BASE_LOAD_REDUCTION = 0.20  # share of the base load an audit typically switches off
LEAK_REDUCTION = 0.50  # share of off-production compressor load removed by fixing leaks


@dataclass
class Proposal:
    kind: str
    subject: str
    title: str
    title_zh: str
    evidence: dict
    savings_kwh_per_year: float
    savings_cny_per_year: Decimal
    confidence: str
    savings_tco2_per_year: float = 0.0
    meters: list[str] = field(default_factory=list)

    def with_co2(self, tco2_per_kwh: float) -> Proposal:
        self.savings_tco2_per_year = self.savings_kwh_per_year * tco2_per_kwh
        return self


def _cny(x: float | Decimal) -> Decimal:
    return Decimal(str(x)).quantize(CENT)


def interval_hours(kwh: pd.Series) -> float:
    if len(kwh) < 2:
        return 0.25
    step = pd.Series(kwh.index).diff().dropna().median()
    return step.total_seconds() / 3600.0


def production_mask(
    index: pd.DatetimeIndex, hours: tuple[int, int] = (8, 20), workdays: bool = True
) -> np.ndarray:
    """True for intervals inside production hours (local, Monday–Friday by default)."""
    in_hours = (index.hour >= hours[0]) & (index.hour < hours[1])
    if workdays:
        in_hours &= index.day_of_week < 5
    return np.asarray(in_hours)


def _window(kwh: pd.Series) -> dict:
    return {
        "start": kwh.index.min().isoformat(),
        "end": kwh.index.max().isoformat(),
        "intervals": len(kwh),
        "interval_h": interval_hours(kwh),
    }


def base_load(
    kwh: pd.Series,
    prices: Prices,
    subject: str,
    production_hours: tuple[int, int] = (8, 20),
    reduction: float = BASE_LOAD_REDUCTION,
) -> Proposal | None:
    """Night/weekend base load: base kW = median load over 00:00–05:00; savings = reduction ×
    base kW over the non-production hours of a year, valued at the prices of those hours."""
    if kwh.empty:
        return None
    dt = interval_hours(kwh)
    kw = kwh / dt
    night = kw[(kw.index.hour >= NIGHT_HOURS[0]) & (kw.index.hour < NIGHT_HOURS[1])]
    if night.empty:
        return None
    base_kw = float(night.median())
    if base_kw <= 0:
        return None
    off = ~production_mask(kwh.index, production_hours)
    scale = HOURS_PER_YEAR / (len(kwh) * dt)
    off_hours_per_year = float(off.sum()) * dt * scale
    saved_kw = reduction * base_kw
    kwh_year = saved_kw * off_hours_per_year
    cny_window = sum((prices.price(t) for t in kwh.index[off]), Decimal(0)) * Decimal(
        str(saved_kw * dt)
    )
    cny_year = cny_window * Decimal(str(scale))
    return Proposal(
        kind="base_load",
        subject=subject,
        title=f"Base load {base_kw:,.0f} kW at night and weekends: switch off idle loads "
        f"(−{reduction:.0%} of it)",
        title_zh=f"夜间及周末基础负荷 {base_kw:,.0f} kW：关停空载设备（削减 {reduction:.0%}）",
        evidence={
            "window": _window(kwh),
            "base_kw": base_kw,
            "base_kw_method": "median load 00:00–05:00 local",
            "production_hours": list(production_hours),
            "non_production_hours_per_year": off_hours_per_year,
            "reduction_share": reduction,
            "formula": "kWh/yr = reduction × base kW × non-production h/yr; CNY at the "
            "prices of those hours",
            "prices": prices.to_dict(),
        },
        savings_kwh_per_year=kwh_year,
        savings_cny_per_year=_cny(cny_year),
        confidence="medium",
    )


def load_shift(kwh: pd.Series, prices: Prices, subject: str) -> Proposal | None:
    """A load that moves (``shiftable`` equipment): its energy in peak periods moved to the
    valley; CNY/yr = peak kWh/yr × (mean peak price − mean valley price); no kWh saved."""
    if kwh.empty:
        return None
    dt = interval_hours(kwh)
    periods = np.array([prices.period(t) for t in kwh.index])
    peak = np.isin(periods, PEAK_PERIODS)
    scale = HOURS_PER_YEAR / (len(kwh) * dt)
    peak_kwh_year = float(kwh[peak].sum()) * scale
    if peak_kwh_year <= 0:
        return None
    spread = prices.mean_price(PEAK_PERIODS) - prices.mean_price(VALLEY_PERIODS)
    if spread <= 0:
        return None
    # value each peak interval at its own price minus the mean valley price
    saved = sum(
        (prices.price(t) * Decimal(str(v)) for t, v in kwh[peak].items()), Decimal(0)
    ) - prices.mean_price(VALLEY_PERIODS) * Decimal(str(float(kwh[peak].sum())))
    return Proposal(
        kind="load_shift",
        subject=subject,
        title=f"Move {peak_kwh_year:,.0f} kWh/yr of {subject} from peak to valley hours",
        title_zh=f"将 {subject} 每年 {peak_kwh_year:,.0f} kWh 用电由峰段移至谷段",
        evidence={
            "window": _window(kwh),
            "peak_kwh_in_window": float(kwh[peak].sum()),
            "peak_kwh_per_year": peak_kwh_year,
            "valley_price": str(prices.mean_price(VALLEY_PERIODS)),
            "formula": "CNY/yr = Σ peak kWh × (its price − mean valley price) × 8760 / window h",
            "prices": prices.to_dict(),
        },
        savings_kwh_per_year=0.0,
        savings_cny_per_year=_cny(saved * Decimal(str(scale))),
        confidence="high",
    )


def kvar_to_target(p_kw: float, pf_now: float, pf_target: float) -> float:
    """Capacitor kvar to raise cos φ from ``pf_now`` to ``pf_target`` at active power P:
    Qc = P × (tan φ1 − tan φ2)."""

    def tan(pf: float) -> float:
        return math.sqrt(1 - pf * pf) / pf

    return p_kw * (tan(pf_now) - tan(pf_target))


def power_factor(
    kwh: float,
    kvarh: float,
    hours: float,
    bill_base_cny_per_year: Decimal,
    prices: Prices,
    subject: str,
    target: Decimal = Decimal("0.95"),
) -> Proposal | None:
    """Power-factor correction: kvar to reach ``target`` at the mean active power, and the
    力调 saved = (adjustment now − adjustment at target) % × (basic + energy charge) per year."""
    if kwh <= 0 or hours <= 0:
        return None
    pf_now = kwh / math.sqrt(kwh * kwh + kvarh * kvarh)
    pf_q = Decimal(str(pf_now)).quantize(CENT)
    if pf_q >= target:
        return None
    p_kw = kwh / hours
    kvar = kvar_to_target(p_kw, float(pf_q), float(target))
    adj_now = pf_adjustment_pct(prices.power_factor_standard, pf_q)
    adj_target = pf_adjustment_pct(prices.power_factor_standard, target)
    cny = (adj_now - adj_target) / 100 * bill_base_cny_per_year
    return Proposal(
        kind="power_factor",
        subject=subject,
        title=f"Power factor {pf_q}: add {kvar:,.0f} kvar of compensation to reach {target}",
        title_zh=f"功率因数 {pf_q}：增设 {kvar:,.0f} kvar 无功补偿至 {target}",
        evidence={
            "kwh": kwh,
            "kvarh": kvarh,
            "hours": hours,
            "power_factor": str(pf_q),
            "mean_kw": p_kw,
            "target": str(target),
            "standard": str(prices.power_factor_standard),
            "adjustment_pct_now": str(adj_now),
            "adjustment_pct_at_target": str(adj_target),
            "bill_base_cny_per_year": str(bill_base_cny_per_year),
            "table": "power_factor_adjustment (83)水电财字第215号 (single source)",
            "formula": "kvar = P × (tan φ1 − tan φ2); CNY/yr = Δ adjustment % × (basic + "
            "energy charge) per year",
        },
        savings_kwh_per_year=0.0,
        savings_cny_per_year=_cny(cny),
        confidence="high",
    )


def contracted_demand(kwh: pd.Series, prices: Prices, subject: str) -> Proposal | None:
    """Contracted demand against the measured 15-minute maximum: the smallest contract whose
    105 % covers the maximum, and the basic charge it saves (or the penalty it avoids)."""
    if kwh.empty or prices.contracted_kw is None or prices.demand_cny_per_kw_month is None:
        return None
    dt = interval_hours(kwh)
    max_kw = float((kwh / dt).max())
    contract = prices.contracted_kw
    new = math.ceil(max_kw / DEMAND_EXCESS_RATIO)
    now_cny = prices.demand_month_cny(contract, max_kw)
    new_cny = prices.demand_month_cny(new, max_kw)
    saved = (now_cny - new_cny) * 12
    if saved <= 0:
        return None
    direction = "lower" if new < contract else "raise"
    return Proposal(
        kind="contracted_demand",
        subject=subject,
        title=f"{direction.capitalize()} the contracted demand from {contract:,.0f} kW to "
        f"{new:,} kW (15-min maximum {max_kw:,.0f} kW)",
        title_zh=f"{'下调' if direction == 'lower' else '上调'}合同需量 {contract:,.0f} kW → "
        f"{new:,} kW（15 分钟最大需量 {max_kw:,.0f} kW）",
        evidence={
            "window": _window(kwh),
            "max_15min_kw": max_kw,
            "contracted_kw": contract,
            "proposed_kw": new,
            "demand_cny_per_kw_month": str(prices.demand_cny_per_kw_month),
            "formula": "month = price × contract + 2 × price × max(0, max − 1.05 × contract)",
            "note": "the 40 % floor of the transformer capacity still applies",
        },
        savings_kwh_per_year=0.0,
        savings_cny_per_year=_cny(saved),
        confidence="medium",
    )


def compressed_air_leakage(
    kwh: pd.Series,
    prices: Prices,
    subject: str,
    production_hours: tuple[int, int] = (8, 20),
    reduction: float = LEAK_REDUCTION,
) -> Proposal | None:
    """Compressor load while production is off is mostly leakage: median off-production kW;
    savings = reduction × that kW over the non-production hours of a year."""
    if kwh.empty:
        return None
    dt = interval_hours(kwh)
    off = ~production_mask(kwh.index, production_hours)
    if not off.any():
        return None
    leak_kw = float((kwh[off] / dt).median())
    if leak_kw <= 0:
        return None
    scale = HOURS_PER_YEAR / (len(kwh) * dt)
    kwh_year = reduction * leak_kw * float(off.sum()) * dt * scale
    cny = sum((prices.price(t) for t in kwh.index[off]), Decimal(0)) * Decimal(
        str(reduction * leak_kw * dt * scale)
    )
    return Proposal(
        kind="compressed_air_leakage",
        subject=subject,
        title=f"Compressed air {subject}: {leak_kw:,.0f} kW while production is off — fix leaks",
        title_zh=f"空压机 {subject} 停产时仍耗 {leak_kw:,.0f} kW：治理泄漏",
        evidence={
            "window": _window(kwh),
            "off_production_kw": leak_kw,
            "reduction_share": reduction,
            "production_hours": list(production_hours),
            "formula": "kWh/yr = reduction × median off-production kW × off h/yr",
        },
        savings_kwh_per_year=kwh_year,
        savings_cny_per_year=_cny(cny),
        confidence="medium",
    )


def transformer_below_economic(loading: dict, prices: Prices, subject: str) -> Proposal | None:
    """A transformer below its economic range: move its load to another unit and switch it
    off; saves its no-load loss P0 over the year (if another unit can carry the load)."""
    if loading.get("position") != "below":
        return None
    p0 = loading["no_load_loss_kw"]
    kwh_year = p0 * HOURS_PER_YEAR
    mean_price = prices.mean_price(tuple(prices.energy_cny_per_kwh))
    return Proposal(
        kind="transformer_economic_load",
        subject=subject,
        title=f"Transformer {subject} at load rate {loading['load_rate']:.0%}, below its "
        f"economic range: consolidate load and switch it off",
        title_zh=f"变压器 {subject} 负载率 {loading['load_rate']:.0%} 低于经济运行区："
        "合并负荷、停运",
        evidence={
            **{k: v for k, v in loading.items() if k != "code"},
            "formula": "kWh/yr = P0 × 8760 (no-load loss avoided)",
        },
        savings_kwh_per_year=kwh_year,
        savings_cny_per_year=_cny(Decimal(str(kwh_year)) * mean_price),
        confidence="low",
    )


def below_grade_1(equipment: dict, kwh_per_year: float | None, prices: Prices) -> Proposal | None:
    """Equipment below grade 1 with nameplate and grade-1 efficiencies: kWh/yr × (1 − η/η1)
    saved by a grade-1 replacement, and the payback in years."""
    g, eta, eta1 = (
        equipment["grade"],
        equipment["efficiency_pct"],
        equipment["grade_1_efficiency_pct"],
    )
    if g in (None, 1) or not eta or not eta1 or eta1 <= eta:
        return None
    estimated = kwh_per_year is None
    if estimated:
        kwh_per_year = equipment["rated_kw"] * 4000.0
    saved = kwh_per_year * (1 - eta / eta1)
    mean_price = prices.mean_price(tuple(prices.energy_cny_per_kwh))
    cny = Decimal(str(saved)) * mean_price
    cost = equipment.get("replacement_cost_cny")
    payback = float(Decimal(str(cost)) / cny) if cost and cny > 0 else None
    return Proposal(
        kind="equipment_grade",
        subject=equipment["code"],
        title=f"{equipment['code']} ({equipment['kind']}, grade {g} under "
        f"{equipment['standard']}): replace with grade 1"
        + (f", payback {payback:.1f} years" if payback else ""),
        title_zh=f"{equipment['code']}（{equipment['standard']} {g} 级能效）更换为 1 级"
        + (f"，回收期 {payback:.1f} 年" if payback else ""),
        evidence={
            "kwh_per_year": kwh_per_year,
            "kwh_estimated_from_rating_4000h": estimated,
            "efficiency_pct": eta,
            "grade_1_efficiency_pct": eta1,
            "replacement_cost_cny": cost and str(cost),
            "payback_years": payback,
            "formula": "kWh/yr × (1 − η / η1)",
        },
        savings_kwh_per_year=saved,
        savings_cny_per_year=_cny(cny),
        confidence="low" if estimated else "medium",
    )
