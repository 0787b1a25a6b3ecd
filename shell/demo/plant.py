"""The demo plant: an automotive body-and-assembly plant in East China.

Static description only (no I/O). Three things live here:

* ``SITES`` -- the site tree park -> enterprise -> plant -> workshops -> lines, in the
  API contract shape ``{"code", "name", "parent", "timezone", "region"}``.
* ``METERS`` -- about two dozen meters in the API contract shape ``{"code", "name",
  "site", "parent", "carrier", "unit", "kind", "interval_s", "multiplier"}`` plus the
  optional ``"rollover"`` (register maximum, in the meter's unit; counters wrap to 0 when
  they reach it).  ``parent`` is the *metering* parent: a sub-meter of the same carrier
  whose interval quantity is included in the parent's.
* ``PROFILES`` -- demo-only load-model parameters per meter code, read by
  :mod:`shell.demo.history`. Not part of the API contract.

Electricity topology (kWh; C = counter, D = delta, G = gauge)::

    EL-INCOMER (C, 10 kV grid import, rollover 99 999 999)
    |-- EL-TX1 (C, 5 MVA)                 -> EL-STAMP (C) -> EL-STAMP-L1 (D), EL-STAMP-L2 (D)
    |                                     -> EL-WELD (D)
    `-- EL-TX2 (C, 6.3 MVA)               -> EL-PAINT (C)
                                          -> EL-ASSY (C)  -> EL-ASSY-L1 (D), EL-ASSY-L2 (D)
                                          -> EL-UTIL (C)  -> EL-AIRC-1 (D), EL-AIRC-2 (D),
                                                             EL-CHILLER (D)
    PV-ROOF (pv_generation, D), EL-EXPORT (grid_export, D): no metering parent.
    EL-INCOMER-KW (G, kW demand), EL-INCOMER-PF (G, power factor "1"),
    EL-TX1-OIL-TEMP (G, degC): gauges, no metering parent.
    EL-INCOMER-KVARH (reactive_energy, C, kvarh): the incomer's reactive energy, for the
    power-factor adjustment of the bill.

The rooftop PV feeds the 10 kV bus *below* the incomer meter, so for the incomer the
balance is ``EL-INCOMER + (PV-ROOF - EL-EXPORT) >= EL-TX1 + EL-TX2`` (grid import = total
load - PV used on site). Every other parent satisfies ``parent >= sum(children)`` per
interval; the difference is unmetered loads and losses.

Other carriers: NG-MAIN (C, m3) -> NG-BOILER (C), NG-PAINT-OVEN (C); ST-PURCHASED
(steam, D, t); WA-MAIN (D, m3) -> WA-PAINT (D), WA-COOLING-TOWER (D).
"""

from __future__ import annotations

from typing import Any

TIMEZONE = "Asia/Shanghai"
REGION = "east_china"

# Meters whose incoming energy is reduced by on-site PV (see module docstring).
PV_INJECTION: dict[str, str] = {"PV-ROOF": "EL-INCOMER"}


# The plant's contract: weekday peaks reach ~9,300 kW on 5 + 6.3 MVA of transformers. Its one
# 10 kV connection also serves the enterprise and the park above it (each site's own field,
# drawn on its wall); the workshops have no contract of their own.
CONTRACT_KW = 10_000.0


def _site(
    code: str, name: str, parent: str | None, contract_kw: float | None = None
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "parent": parent,
        "timezone": TIMEZONE,
        "region": REGION,
        "contracted_demand_kw": contract_kw,
    }


SITES: list[dict[str, Any]] = [
    _site("DEMO-PARK", "Demo industrial park 示范产业园", None, CONTRACT_KW),
    _site("DEMO-ENT", "Demo Auto Co., Ltd. 示范汽车有限公司", "DEMO-PARK", CONTRACT_KW),
    _site("DEMO-PLANT", "Demo vehicle plant 示范整车工厂", "DEMO-ENT", CONTRACT_KW),
    _site("WS-STAMP", "Stamping workshop 冲压车间", "DEMO-PLANT"),
    _site("WS-WELD", "Welding workshop 焊装车间", "DEMO-PLANT"),
    _site("WS-PAINT", "Painting workshop 涂装车间", "DEMO-PLANT"),
    _site("WS-ASSY", "Assembly workshop 总装车间", "DEMO-PLANT"),
    _site("WS-UTIL", "Utilities / power station 动力站", "DEMO-PLANT"),
    _site("LN-STAMP-1", "Press line 1 冲压一线", "WS-STAMP"),
    _site("LN-STAMP-2", "Press line 2 冲压二线", "WS-STAMP"),
    _site("LN-ASSY-1", "Trim & chassis line 内饰底盘线", "WS-ASSY"),
    _site("LN-ASSY-2", "Final & test line 最终检测线", "WS-ASSY"),
]

# Level of each site in the tree (demo metadata, not part of the site contract shape).
SITE_LEVELS: dict[str, str] = {
    "DEMO-PARK": "park",
    "DEMO-ENT": "enterprise",
    "DEMO-PLANT": "plant",
    **{s["code"]: "workshop" for s in SITES if s["code"].startswith("WS-")},
    **{s["code"]: "line" for s in SITES if s["code"].startswith("LN-")},
}


def _meter(
    code: str,
    name: str,
    site: str,
    parent: str | None,
    carrier: str,
    unit: str,
    kind: str,
    *,
    rollover: float | None = None,
    multiplier: float = 1.0,
    interval_s: int = 60,
) -> dict[str, Any]:
    m: dict[str, Any] = {
        "code": code,
        "name": name,
        "site": site,
        "parent": parent,
        "carrier": carrier,
        "unit": unit,
        "kind": kind,
        "interval_s": interval_s,
        "multiplier": multiplier,
    }
    if rollover is not None:
        m["rollover"] = rollover
    return m


_E = "electricity"
METERS: list[dict[str, Any]] = [
    # --- electricity: grid connection -------------------------------------------------
    _meter(
        "EL-INCOMER",
        "10 kV grid incomer 10kV电网进线",
        "DEMO-PLANT",
        None,
        _E,
        "kWh",
        "counter",
        rollover=99_999_999,
    ),
    _meter(
        "EL-INCOMER-KW", "Incomer active demand 进线有功需量", "DEMO-PLANT", None, _E, "kW", "gauge"
    ),
    _meter(
        "EL-INCOMER-PF", "Incomer power factor 进线功率因数", "DEMO-PLANT", None, _E, "1", "gauge"
    ),
    _meter(
        "EL-INCOMER-KVARH",
        "10 kV incomer reactive energy 进线无功电量",
        "DEMO-PLANT",
        None,
        "reactive_energy",
        "kvarh",
        "counter",
        rollover=99_999_999,
    ),
    _meter(
        "EL-TX1",
        "Transformer T1 5 MVA 1#变压器",
        "DEMO-PLANT",
        "EL-INCOMER",
        _E,
        "kWh",
        "counter",
        rollover=99_999_999,
    ),
    _meter(
        "EL-TX2",
        "Transformer T2 6.3 MVA 2#变压器",
        "DEMO-PLANT",
        "EL-INCOMER",
        _E,
        "kWh",
        "counter",
        rollover=99_999_999,
    ),
    _meter(
        "EL-TX1-OIL-TEMP",
        "T1 top-oil temperature 1#变压器油温",
        "DEMO-PLANT",
        None,
        _E,
        "degC",
        "gauge",
    ),
    # --- electricity: workshop feeders and lines ---------------------------------------
    _meter(
        "EL-STAMP",
        "Stamping feeder 冲压车间馈线",
        "WS-STAMP",
        "EL-TX1",
        _E,
        "kWh",
        "counter",
        rollover=99_999_999,
    ),
    _meter("EL-STAMP-L1", "Press line 1 冲压一线", "LN-STAMP-1", "EL-STAMP", _E, "kWh", "delta"),
    _meter("EL-STAMP-L2", "Press line 2 冲压二线", "LN-STAMP-2", "EL-STAMP", _E, "kWh", "delta"),
    _meter("EL-WELD", "Welding feeder 焊装车间馈线", "WS-WELD", "EL-TX1", _E, "kWh", "delta"),
    _meter(
        "EL-PAINT",
        "Painting feeder 涂装车间馈线",
        "WS-PAINT",
        "EL-TX2",
        _E,
        "kWh",
        "counter",
        rollover=99_999_999,
    ),
    _meter(
        "EL-ASSY",
        "Assembly feeder 总装车间馈线",
        "WS-ASSY",
        "EL-TX2",
        _E,
        "kWh",
        "counter",
        rollover=99_999_999,
    ),
    _meter(
        "EL-ASSY-L1", "Trim & chassis line 内饰底盘线", "LN-ASSY-1", "EL-ASSY", _E, "kWh", "delta"
    ),
    _meter(
        "EL-ASSY-L2", "Final & test line 最终检测线", "LN-ASSY-2", "EL-ASSY", _E, "kWh", "delta"
    ),
    _meter(
        "EL-UTIL",
        "Utilities feeder 动力站馈线",
        "WS-UTIL",
        "EL-TX2",
        _E,
        "kWh",
        "counter",
        rollover=99_999_999,
    ),
    _meter(
        "EL-AIRC-1", "Air compressor 1 (base) 1#空压机", "WS-UTIL", "EL-UTIL", _E, "kWh", "delta"
    ),
    _meter(
        "EL-AIRC-2", "Air compressor 2 (trim) 2#空压机", "WS-UTIL", "EL-UTIL", _E, "kWh", "delta"
    ),
    _meter("EL-CHILLER", "Chiller plant 冷冻站", "WS-UTIL", "EL-UTIL", _E, "kWh", "delta"),
    # --- PV and export ------------------------------------------------------------------
    _meter(
        "PV-ROOF", "Rooftop PV 4 MWp 屋顶光伏", "DEMO-PLANT", None, "pv_generation", "kWh", "delta"
    ),
    _meter(
        "EL-EXPORT", "Export to grid 上网电量", "DEMO-PLANT", None, "grid_export", "kWh", "delta"
    ),
    # --- natural gas ----------------------------------------------------------------------
    _meter(
        "NG-MAIN",
        "Natural gas main 天然气总表",
        "DEMO-PLANT",
        None,
        "natural_gas",
        "m3",
        "counter",
        rollover=9_999_999,
    ),
    _meter(
        "NG-BOILER",
        "Gas boiler 燃气锅炉",
        "WS-UTIL",
        "NG-MAIN",
        "natural_gas",
        "m3",
        "counter",
        rollover=9_999_999,
    ),
    _meter(
        "NG-PAINT-OVEN",
        "Paint oven burners 涂装烘房燃烧器",
        "WS-PAINT",
        "NG-MAIN",
        "natural_gas",
        "m3",
        "counter",
        rollover=9_999_999,
    ),
    # --- steam and water --------------------------------------------------------------
    _meter("ST-PURCHASED", "Purchased steam 外购蒸汽", "WS-PAINT", None, "steam", "t", "delta"),
    _meter("WA-MAIN", "Water main 自来水总表", "DEMO-PLANT", None, "water", "m3", "delta"),
    _meter(
        "WA-PAINT",
        "Painting process water 涂装工艺用水",
        "WS-PAINT",
        "WA-MAIN",
        "water",
        "m3",
        "delta",
    ),
    _meter(
        "WA-COOLING-TOWER",
        "Cooling tower make-up 冷却塔补水",
        "WS-UTIL",
        "WA-MAIN",
        "water",
        "m3",
        "delta",
    ),
]

# ---------------------------------------------------------------------------------------
# Load-model parameters (demo only). Rates are per hour in the meter's unit (kW, m3/h,
# t/h). "load" model: rate = base * idle(day type) + prod * production(t)
#   + cool * max(T - cool_t, 0) + heat * max(heat_t - T, 0) * (1 + morning boost)
#   + meals * canteen(t), times (1 + sigma * AR(1) noise(tau_min) + white * N(0, 1)).
# For a meter with children, the "load" part is its *own* unmetered load, and
# ``loss`` is the fraction added on top of the children's sum.
# ---------------------------------------------------------------------------------------
PROFILES: dict[str, dict[str, Any]] = {
    "EL-INCOMER": {"model": "grid", "loss": 0.002, "aux_kw": 12.0},
    "EL-TX1": {
        "model": "transformer",
        "kva": 5000.0,
        "no_load_kw": 4.8,
        "load_loss_kw": 38.0,
        "aux_kw": 5.0,
        "loss": 0.003,
    },
    "EL-TX2": {
        "model": "transformer",
        "kva": 6300.0,
        "no_load_kw": 5.6,
        "load_loss_kw": 46.0,
        "aux_kw": 6.0,
        "loss": 0.003,
    },
    "EL-STAMP": {
        "model": "load",
        "base": 25.0,
        "prod": 100.0,
        "night_mult": 0.4,
        "cool": 6.0,
        "sigma": 0.04,
        "tau_min": 30.0,
        "loss": 0.008,
    },
    "EL-STAMP-L1": {
        "model": "load",
        "base": 40.0,
        "prod": 900.0,
        "night_mult": 0.4,
        "sigma": 0.06,
        "tau_min": 15.0,
        "white": 0.12,
    },
    "EL-STAMP-L2": {
        "model": "load",
        "base": 30.0,
        "prod": 650.0,
        "night_mult": 0.4,
        "sigma": 0.06,
        "tau_min": 15.0,
        "white": 0.12,
    },
    "EL-WELD": {
        "model": "load",
        "base": 150.0,
        "prod": 2200.0,
        "night_mult": 0.9,
        "cool": 15.0,
        "sigma": 0.04,
        "tau_min": 20.0,
        "white": 0.04,
    },
    "EL-PAINT": {
        "model": "load",
        "base": 700.0,
        "prod": 1800.0,
        "night_mult": 0.9,
        "cool": 60.0,
        "cool_t": 22.0,
        "heat": 20.0,
        "heat_t": 10.0,
        "sigma": 0.025,
        "tau_min": 40.0,
        "white": 0.01,
    },
    "EL-ASSY": {
        "model": "load",
        "base": 15.0,
        "prod": 50.0,
        "night_mult": 0.6,
        "cool": 4.0,
        "sigma": 0.03,
        "tau_min": 30.0,
        "loss": 0.008,
    },
    "EL-ASSY-L1": {
        "model": "load",
        "base": 40.0,
        "prod": 450.0,
        "night_mult": 0.6,
        "sigma": 0.04,
        "tau_min": 20.0,
        "white": 0.03,
    },
    "EL-ASSY-L2": {
        "model": "load",
        "base": 30.0,
        "prod": 350.0,
        "night_mult": 0.6,
        "sigma": 0.04,
        "tau_min": 20.0,
        "white": 0.04,
    },
    "EL-UTIL": {
        "model": "load",
        "base": 25.0,
        "prod": 20.0,
        "sigma": 0.03,
        "tau_min": 45.0,
        "loss": 0.008,
    },
    "EL-CHILLER": {
        "model": "load",
        "base": 180.0,
        "prod": 250.0,
        "cool": 90.0,
        "cool_t": 20.0,
        "sigma": 0.03,
        "tau_min": 45.0,
        "white": 0.01,
    },
    "EL-AIRC-1": {
        "model": "compressor",
        "kw": 250.0,
        "start": 0.0,
        "period_s": 240.0,
        "unload": 0.3,
        "phase": 0.13,
    },
    "EL-AIRC-2": {
        "model": "compressor",
        "kw": 250.0,
        "start": 0.85,
        "period_s": 360.0,
        "unload": 0.3,
        "phase": 0.61,
    },
    "PV-ROOF": {"model": "pv", "kwp": 4000.0, "pr": 0.82, "lat": 31.23, "lon": 121.47},
    "EL-EXPORT": {"model": "export", "pv": "PV-ROOF", "grid": "EL-INCOMER"},
    "EL-INCOMER-KW": {"model": "demand", "source": "EL-INCOMER"},
    "EL-INCOMER-PF": {"model": "power_factor", "source": "EL-INCOMER"},
    "EL-INCOMER-KVARH": {"model": "reactive", "source": "EL-INCOMER"},
    "EL-TX1-OIL-TEMP": {
        "model": "oil_temp",
        "source": "EL-TX1",
        "kva": 5000.0,
        "rated_rise": 55.0,
        "tau_min": 150.0,
    },
    # natural gas, m3/h
    "NG-MAIN": {
        "model": "load",
        "base": 2.0,
        "meals": 25.0,
        "sigma": 0.05,
        "tau_min": 20.0,
        "loss": 0.004,
    },
    "NG-BOILER": {
        "model": "load",
        "base": 25.0,
        "prod": 30.0,
        "heat": 28.0,
        "heat_t": 16.0,
        "morning_boost": 0.8,
        "sigma": 0.06,
        "tau_min": 25.0,
        "white": 0.03,
    },
    "NG-PAINT-OVEN": {
        "model": "load",
        "base": 40.0,
        "prod": 260.0,
        "night_mult": 0.9,
        "heat": 3.0,
        "heat_t": 12.0,
        "sigma": 0.03,
        "tau_min": 20.0,
    },
    # steam, t/h
    "ST-PURCHASED": {
        "model": "load",
        "base": 0.6,
        "prod": 2.4,
        "night_mult": 0.9,
        "heat": 0.08,
        "heat_t": 12.0,
        "sigma": 0.04,
        "tau_min": 30.0,
        "white": 0.02,
    },
    # water, m3/h
    "WA-MAIN": {
        "model": "load",
        "base": 0.8,
        "prod": 2.0,
        "meals": 2.0,
        "sigma": 0.08,
        "tau_min": 15.0,
        "white": 0.05,
        "loss": 0.015,
    },
    "WA-PAINT": {
        "model": "load",
        "base": 4.0,
        "prod": 10.0,
        "night_mult": 0.9,
        "sigma": 0.05,
        "tau_min": 20.0,
        "white": 0.05,
    },
    "WA-COOLING-TOWER": {
        "model": "load",
        "base": 1.5,
        "prod": 2.0,
        "cool": 0.9,
        "cool_t": 15.0,
        "sigma": 0.06,
        "tau_min": 30.0,
        "white": 0.05,
    },
}


def meter_tree(meters: list[dict[str, Any]] | None = None) -> dict[str, list[str]]:
    """Metering parent code -> child codes (in ``meters`` order). Roots are not keys."""
    tree: dict[str, list[str]] = {}
    for m in METERS if meters is None else meters:
        if m.get("parent"):
            tree.setdefault(m["parent"], []).append(m["code"])
    return tree


# ---------------------------------------------------------------------------------------
# Cost and budgets (demo values): the plant bills under the Jiangsu two-part TOU template
# (苏发改价格发〔2025〕426号) with an illustrative flat purchase price, a demand charge on the
# month's maximum demand against a contracted demand, and the 0.90 power-factor standard.
# Prices change monthly and demand prices are per customer: these are NOT reference values.
# ---------------------------------------------------------------------------------------
TARIFF: dict[str, Any] = {
    "code": "DEMO-JS-TWO-PART",
    "name": "Jiangsu two-part TOU (demo prices) 江苏两部制分时电价（示例价格）",
    "valid_from": "2025-06-01",
    "template": "jiangsu-2025-two-part",
    "flat_price_cny_per_kwh": "0.6200",
    "demand_charge": {
        "basis": "max_demand",
        "price_cny_per_kw_month": "40.00",
        "contracted_kw": "10000",
    },
    "power_factor_standard": "0.90",
    "source": "苏发改价格发〔2025〕426号 hours and ratios; demo prices",
}
BILLING_SITE = "DEMO-PLANT"
# yearly budgets: this share of the consumption extrapolated from the history (a budget the
# plant is close to, so the wall shows a projection near 100 %)
BUDGET_SHARE = 1.02
BUDGET_QUANTITIES = ("electricity_kwh", "cost_cny", "co2_t")
WORKSHOP_BUDGETS = ("WS-STAMP", "WS-WELD", "WS-PAINT", "WS-ASSY", "WS-UTIL")
