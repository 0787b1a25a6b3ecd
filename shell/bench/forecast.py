"""``ecc bench forecast``: backtest every model on any CSV series, one JSON line out.

The series is read and regularised by ``forecasting.data`` (unsorted rows, gaps, repeated
stamps, DST, naive or offset timestamps), every model goes through the same rolling-origin
backtest (``forecasting.backtest``), and the line reports, per model, the scores the issue
asks for and which model is best by MASE against the weekly seasonal naive.

``--fleet N`` measures throughput instead: N series made from the file's series (each a
different slice of the year, scaled and with 2 % noise, one year long at most) are fitted and
predicted day-ahead with one model, in one process per core.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from forecasting import backtest
from forecasting.base import TARGET, steps_per
from forecasting.calendar import HolidayCalendar
from forecasting.data import LoadedSeries, freq_text, read_series_csv
from forecasting.registry import ModelContext, factories, make

REPORTED = ("mase", "wape", "cv_rmse", "nmbe", "coverage_90", "pinball", "fit_s")


def load(
    csv: Path,
    ts_col: str,
    value_col: str,
    exog_cols: Sequence[str],
    *,
    freq: str | None,
    tz: str | None,
    ts_format: str | None,
    fix_midnight: bool,
) -> LoadedSeries:
    return read_series_csv(
        csv,
        ts_col,
        value_col,
        exog_cols,
        freq=freq,
        tz=tz,
        ts_format=ts_format,
        fix_midnight=fix_midnight,
    )


def run_forecast_bench(
    series: LoadedSeries,
    *,
    horizon: int | None,
    folds: int,
    step: int | None,
    models: Sequence[str],
    holidays: str | None,
    plot: Path | None,
    console: Console,
) -> dict:
    """Backtest ``models`` on the series; the JSON-ready summary."""
    frame = series.frame
    index = pd.DatetimeIndex(frame.index)
    horizon = horizon or steps_per(index, "day")
    context = ModelContext(
        horizon, HolidayCalendar(holidays), tuple(c for c in frame.columns if c != TARGET)
    )
    with _progress(console) as progress:
        task = progress.add_task("backtest", total=folds * len(models))

        def advance(name: str, fold: int) -> None:
            progress.update(task, advance=1, description=f"{name} fold {fold + 1}/{folds}")

        results = backtest.rolling_origin(
            frame, factories(models, context), horizon, folds, step, on_fold=advance
        )
    best = backtest.best_model(results)
    if plot is not None:
        from forecasting.plot import last_fold_figure

        fig = last_fold_figure(
            frame[TARGET],
            results,
            best,
            f"{series.name}: last fold, {horizon} steps of {_freq(series)}",
        )
        fig.savefig(plot, dpi=110)
    for name, result in results.items():
        if result.error:
            console.print(f"[yellow]{name}: {result.error}[/]")
    return {
        "series": series.name,
        "rows": series.rows,
        "freq": _freq(series),
        "horizon": horizon,
        "folds": folds,
        "models": {
            name: (_rounded(r.scores) if r.error is None else {"error": r.error})
            for name, r in results.items()
        },
        "best": best,
    }


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _rounded(scores: dict[str, float]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key in REPORTED:
        value = scores.get(key, float("nan"))
        out[key] = round(value, 4) if math.isfinite(value) else None
    return out


def _freq(series: LoadedSeries) -> str:
    return freq_text(series.freq)


def run_fleet_bench(
    series: LoadedSeries,
    *,
    count: int,
    model: str,
    holidays: str | None,
    workers: int | None,
    console: Console,
    seed: int = 0,
) -> dict:
    """Fit and predict ``count`` one-year series derived from ``series`` with ``model``."""
    frame = series.frame[[TARGET]]
    index = pd.DatetimeIndex(frame.index)
    day = steps_per(index, "day")
    rows = min(len(frame), 365 * day)
    horizon = day
    rng = np.random.default_rng(seed)
    values = frame[TARGET].to_numpy(dtype=float)
    jobs = []
    for i in range(count):
        shift = (i * 3 * day) % len(values)
        y = np.roll(values, -shift)[-rows:] * rng.uniform(0.5, 2.0)
        y = y * (1 + 0.02 * rng.standard_normal(rows))
        jobs.append(pd.DataFrame({TARGET: y}, index=index[-rows:]))
    workers = workers or os.cpu_count() or 1
    began, cpu_began = time.perf_counter(), time.process_time()
    cpu_children = _children_cpu()
    with _progress(console) as progress, ProcessPoolExecutor(workers) as pool:
        task = progress.add_task(f"{model} × {count}", total=count)
        for done, _ in enumerate(
            pool.map(_fit_predict, jobs, [model] * count, [horizon] * count, [holidays] * count),
            start=1,
        ):
            progress.update(task, completed=done)
    wall = time.perf_counter() - began
    cpu = time.process_time() - cpu_began + _children_cpu() - cpu_children
    return {
        "fleet": count,
        "model": model,
        "rows_per_series": rows,
        "freq": _freq(series),
        "horizon": horizon,
        "workers": workers,
        "total_s": round(wall, 2),
        "per_series_s": round(wall / count, 3),
        "cpu_s": round(cpu, 2),
    }


def _fit_predict(history: pd.DataFrame, model: str, horizon: int, holidays: str | None) -> int:
    context = ModelContext(horizon, HolidayCalendar(holidays))
    forecast = make(model, context).fit(history).predict(horizon)
    return len(forecast)


def _children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system
