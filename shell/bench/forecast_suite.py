"""``ecc bench forecast --suite shared``: every shared real series, one table.

Each series of ``../shared/data`` (the steel plant; the household; transformer station 2 —
each of its six load columns and the oil temperature; Victoria's demand; each Tetouan zone)
goes through the same rolling-origin backtest with the per-series models and the global
LightGBM model (trained across every series of the run, ``backtest.rolling_origin_group``);
beyond a day ``linear`` pools its maps across the series of one site (``pooled_linear``), as
the nightly pools a site's meters.
Per series the table gives the best non-baseline model's MASE over the best seasonal naive's
(``ratio``), and that model's 90 % coverage and pinball loss over 99 quantiles.

``tuning`` marks the series the settings were chosen on; ``--suite tuning`` runs only those
(the global model then trains on them only), ``--suite holdout`` only the others,
``--suite shared`` all.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pandas as pd
from rich.console import Console

from core.errors import Invalid
from dashboard.i18n import fmt_pct
from forecasting import backtest, combined
from forecasting.base import TARGET, Forecaster, steps_per
from forecasting.calendar import HolidayCalendar
from forecasting.data import freq_text, read_series_csv
from forecasting.linear import NAME as LINEAR
from forecasting.linear import LinearGroup, pools_history
from forecasting.registry import (
    BASELINES,
    COMBINED,
    GLOBAL,
    SEASONAL_NAIVE,
    ModelContext,
    factories,
    make,
)

# beside the repository's checkout; ECC_SHARED_DATA points elsewhere (a git worktree, say)
DATA = Path(
    os.environ.get("ECC_SHARED_DATA")
    or Path(__file__).resolve().parents[2].parent / "shared" / "data"
)
LOCAL_MODELS = ("naive_daily", "naive_weekly", "sf_naive", "sf_mstl", "hgb")
COVERAGE_RANGE = (0.85, 0.95)


@dataclass(frozen=True)
class SuiteSeries:
    name: str
    file: str
    ts_col: str
    value_col: str
    holidays: str
    tuning: bool = False
    site: str | None = None  # the series of one site: a week ahead their linear maps pool
    exog: tuple[str, ...] = ()
    freq: str | None = None
    tz: str | None = None
    ts_format: str | None = None
    fix_midnight: bool = False
    loaded: dict = field(default_factory=dict, compare=False, hash=False)


_ETT = "ett_station2/ETTm2.csv.gz"
_TET = "tetouan_city_power/tetouan_city_power_consumption.csv"
SHARED: tuple[SuiteSeries, ...] = (
    SuiteSeries(
        "steel Usage_kWh",
        "steel_industry_energy/Steel_industry_data.csv",
        "date",
        "Usage_kWh",
        "KR",
        tuning=True,
        tz="Asia/Seoul",
        ts_format="%d/%m/%Y %H:%M",
        fix_midnight=True,
    ),
    SuiteSeries(
        "household Global_active_power",
        "household_power_consumption/household_power_consumption.csv.gz",
        "date_time",
        "Global_active_power",
        "FR",
        freq="15min",
    ),
    *(
        SuiteSeries(f"ETTm2 {col}", _ETT, "date", col, "CN", tuning=col == "HUFL", site="ETTm2")
        for col in ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL")
    ),
    # the oil temperature: a gauge, one unit of its own as in the nightly (forecasting.groups)
    SuiteSeries("ETTm2 OT", _ETT, "date", "OT", "CN"),
    SuiteSeries(
        "vic_elec Demand",
        "vic_elec/vic_elec.csv",
        "Time",
        "Demand",
        "AU-VIC",
        exog=("Temperature",),
        tz="Australia/Melbourne",
    ),
    *(
        SuiteSeries(
            f"tetouan zone {z}",
            _TET,
            "DateTime",
            f"Zone {z} Power Consumption",
            "MA",
            tuning=z == 1,
            site="tetouan",
            exog=("Temperature",),
            ts_format="%m/%d/%y %H:%M",
        )
        for z in (1, 2, 3)
    ),
)


def select(part: str) -> tuple[SuiteSeries, ...]:
    if part in ("shared", "all"):
        return SHARED
    if part == "tuning":
        return tuple(s for s in SHARED if s.tuning)
    if part == "holdout":
        return tuple(s for s in SHARED if not s.tuning)
    raise Invalid("suite", "shared, tuning or holdout")


def _load(spec: SuiteSeries, data: Path, week_hourly: bool) -> pd.DataFrame:
    series = read_series_csv(
        data / spec.file,
        spec.ts_col,
        spec.value_col,
        spec.exog,
        freq="1h" if week_hourly else spec.freq,
        tz=spec.tz,
        ts_format=spec.ts_format,
        fix_midnight=spec.fix_midnight,
    )
    return series.frame


def load(
    specs: Sequence[SuiteSeries], data: Path, week_hourly: bool
) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """Each series' frame and horizon (day-ahead at its resolution, or 168 hourly steps)."""
    if not (data / specs[0].file).exists():
        raise Invalid("suite", f"the shared data are not at {data}")
    frames = {s.name: _load(s, data, week_hourly) for s in specs}
    horizons = {
        n: (168 if week_hourly else steps_per(pd.DatetimeIndex(f.index), "day"))
        for n, f in frames.items()
    }
    return frames, horizons


def global_setup(
    specs: Sequence[SuiteSeries], frames: Mapping[str, pd.DataFrame], params: dict | None = None
) -> tuple[dict[str, pd.DataFrame], Callable[[], Forecaster]]:
    """The frames as the global model takes them (every series with every exogenous column of
    the run) and its factory: one model, each series with its own holiday calendar."""
    exog = sorted({c for s in specs for c in s.exog})
    grouped = {n: f.reindex(columns=[TARGET, *exog]) for n, f in frames.items()}
    for n, f in grouped.items():
        f.index.freq = frames[n].index.freq
    params = {"calendars": {s.name: HolidayCalendar(s.holidays) for s in specs}, **(params or {})}
    context = ModelContext(1, HolidayCalendar("none"), tuple(exog))
    return grouped, partial(make, GLOBAL, context, **params)


def pooled_linear(
    specs: Sequence[SuiteSeries],
    frames: Mapping[str, pd.DataFrame],
    horizons: Mapping[str, int],
    folds: int,
) -> dict[str, backtest.ModelResult]:
    """``linear`` as the nightly fits it beyond a day (``linear.pools``): the series of one
    site with their maps pooled (``linear.LinearGroup``), every other series alone."""
    sites: dict[str, list[str]] = {}
    for spec in specs:
        sites.setdefault(spec.site or spec.name, []).append(spec.name)
    out: dict[str, backtest.ModelResult] = {}
    for names in sites.values():
        data = {n: frames[n][[TARGET]] for n in names}
        horizon = max(horizons[n] for n in names)
        out.update(
            backtest.rolling_origin_group(
                data, lambda h=horizon: LinearGroup(h), {n: horizons[n] for n in names}, folds
            )
        )
    return out


def pools_linear(frames: Mapping[str, pd.DataFrame], horizons: Mapping[str, int]) -> bool:
    """Whether this run's horizon pools ``linear`` (every series of a run shares it)."""
    name, frame = next(iter(frames.items()))
    return pools_history(horizons[name], frame)


def _local(
    args: tuple[SuiteSeries, pd.DataFrame, int, int, Sequence[str]],
) -> dict[str, backtest.ModelResult]:
    spec, frame, horizon, folds, models = args
    context = ModelContext(horizon, HolidayCalendar(spec.holidays), spec.exog)
    return backtest.rolling_origin(frame, factories(models, context), horizon, folds)


def run_suite(
    part: str,
    *,
    folds: int,
    models: Sequence[str],
    week_hourly: bool = False,
    data: Path = DATA,
    workers: int = 2,
    global_params: dict | None = None,
    console: Console,
) -> dict:
    """Backtest every series of the suite; the JSON-ready table and summary."""
    in_days = (7, 1) if week_hourly else (1, 1)  # the horizon and a day, in days
    combined.check_parts(models, combined.weights_for(*in_days))
    specs = select(part)
    frames, horizons = load(specs, data, week_hourly)
    pooled = LINEAR in models and pools_linear(frames, horizons)
    local = [m for m in models if m not in (GLOBAL, COMBINED) and not (pooled and m == LINEAR)]
    console.print(f"suite {part}: {len(specs)} series, local models {', '.join(local)}")
    results: dict[str, dict[str, backtest.ModelResult]] = {}
    jobs = [(s, frames[s.name], horizons[s.name], folds, local) for s in specs]
    with ProcessPoolExecutor(workers) as pool:
        for spec, result in zip(specs, pool.map(_local, jobs), strict=True):
            results[spec.name] = result
            console.print(f"  {spec.name}: local models done")
    if pooled:
        for name, result in pooled_linear(specs, frames, horizons, folds).items():
            results[name][LINEAR] = result
        console.print("  linear, pooled per site, done")
    if GLOBAL in models:
        grouped, factory = global_setup(specs, frames, global_params)
        glob = backtest.rolling_origin_group(grouped, factory, horizons, folds)
        for name, result in glob.items():
            results[name][GLOBAL] = result
        console.print("  global model done")
    if COMBINED in models:  # from its parts' folds, not fitted again
        for spec in specs:
            combined.derive(results[spec.name], frames[spec.name])
    rows = [_row(s, frames[s.name], horizons[s.name], results[s.name]) for s in specs]
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    covered = [r for r in rows if r["coverage_90"] is not None]
    return {
        "suite": part,
        "folds": folds,
        "horizon": "7 days hourly" if week_hourly else "day-ahead at the series' resolution",
        "models": list(models),
        "global_params": global_params or {},
        "series": rows,
        "summary": {
            "series": len(rows),
            "ratio_median": round(statistics.median(ratios), 3) if ratios else None,
            "ratio_max": round(max(ratios), 3) if ratios else None,
            "ratio_le_1": sum(r <= 1.0 for r in ratios),
            "coverage_in_85_95": sum(
                COVERAGE_RANGE[0] <= r["coverage_90"] <= COVERAGE_RANGE[1] for r in covered
            ),
            "holdout_ratio_median": _median([r["ratio"] for r in rows if not r["tuning"]]),
        },
    }


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def _num(value: float | None, digits: int = 3) -> float | None:
    return round(value, digits) if value is not None and math.isfinite(value) else None


def _row(
    spec: SuiteSeries, frame: pd.DataFrame, horizon: int, results: dict[str, backtest.ModelResult]
) -> dict:
    scored = {n: r.scores for n, r in results.items() if r.error is None and r.scores}
    naive = {n: s["mase"] for n, s in scored.items() if n in SEASONAL_NAIVE}
    others = {n: s["mase"] for n, s in scored.items() if n not in BASELINES}
    best_naive = min(naive, key=naive.__getitem__) if naive else None
    best_other = min(others, key=others.__getitem__) if others else None
    ratio = (
        others[best_other] / naive[best_naive]
        if best_naive and best_other and naive[best_naive] > 0
        else None
    )
    chosen = scored.get(best_other or "", {})
    return {
        "series": spec.name,
        "tuning": spec.tuning,
        "freq": freq_text(pd.Timedelta(frame.index.freq)),
        "rows": len(frame),
        "horizon": horizon,
        "exog": list(spec.exog),
        "best": backtest.best_model(results),
        "best_non_baseline": best_other,
        "best_naive": best_naive,
        "ratio": _num(ratio),
        "coverage_90": _num(chosen.get("coverage_90")),
        "pinball": _num(chosen.get("pinball"), 4),
        "mase": {n: _num(s["mase"]) for n, s in scored.items()},
        "coverage": {n: _num(s["coverage_90"]) for n, s in scored.items()},
        "errors": {n: r.error for n, r in results.items() if r.error},
    }


def _or_dash(value: float | None) -> str:
    return "—" if value is None else str(value)


def table(result: dict) -> str:
    """The suite as a Markdown table (what forecasting/README.md holds)."""
    lines = [
        "| series | tuned on? | freq | best non-baseline | MASE | best seasonal naive | MASE "
        "| ratio | coverage 90 % | pinball |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["series"]:
        other, naive = r["best_non_baseline"], r["best_naive"]
        lines.append(
            f"| {r['series']}{' (+temp.)' if r['exog'] else ''} | "
            f"{'tuning' if r['tuning'] else 'held out'} | {r['freq']} | {other} | "
            f"{r['mase'].get(other)} | {naive} | {r['mase'].get(naive)} | {r['ratio']} | "
            f"{fmt_pct(r['coverage_90'])} | {r['pinball']} |"
        )
    s = result["summary"]
    lines.append("")
    lines.append(
        f"median ratio {s['ratio_median']} (held out {_or_dash(s['holdout_ratio_median'])}), "
        f"max ratio "
        f"{s['ratio_max']}, ratio ≤ 1.00 on {s['ratio_le_1']} of {s['series']}, coverage "
        f"in 85–95 % on {s['coverage_in_85_95']} of {s['series']}"
    )
    return "\n".join(lines)
