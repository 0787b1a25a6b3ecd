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
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from forecasting import backtest, combined
from forecasting.base import TARGET, steps_per
from forecasting.calendar import HolidayCalendar
from forecasting.data import LoadedSeries, freq_text, read_series_csv
from forecasting.registry import COMBINED, GLOBAL, ModelContext, factories, make

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
    combined.check_parts(models, combined.weights_for(horizon, steps_per(index, "day")))
    context = ModelContext(
        horizon, HolidayCalendar(holidays), tuple(c for c in frame.columns if c != TARGET)
    )
    own = [m for m in models if m != COMBINED]  # combined: from its parts' folds
    with _progress(console) as progress:
        task = progress.add_task("backtest", total=folds * len(own))

        def advance(name: str, fold: int) -> None:
            progress.update(task, advance=1, description=f"{name} fold {fold + 1}/{folds}")

        results = backtest.rolling_origin(
            frame, factories(own, context), horizon, folds, step, on_fold=advance
        )
    if COMBINED in models:
        combined.derive(results, frame)
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


class SyntheticFleet(Sequence[pd.DataFrame]):
    """``count`` realistic load series (kW) on one grid, each made when it is read (the same
    series every time: seeded by its number), so a fleet of 10,000 never sits in memory: an
    office, plant (two shifts), residential or round-the-clock daily profile, weekends and
    public holidays lower (the calendar's make-up working days worked), a yearly swing,
    AR(1) noise and a few outage days; levels from 5 kW to 5 MW."""

    def __init__(
        self,
        count: int,
        *,
        days: int = 365,
        freq: str = "15min",
        start: str = "2025-01-01",
        holidays: str | None = "CN",
        seed: int = 0,
    ) -> None:
        self.count, self.days, self.freq, self.seed = count, days, freq, seed
        self.index = pd.date_range(
            start, periods=days * (pd.Timedelta(days=1) // pd.Timedelta(freq)), freq=freq
        )
        days_index = self.index.normalize()
        flags = HolidayCalendar(holidays).day_flags(days_index.unique())
        self.off = flags["off"].reindex(days_index).to_numpy()
        hour = (self.index.hour + self.index.minute / 60).to_numpy()
        self.day_no = (days_index - days_index[0]).days.to_numpy()
        self.profiles = np.vstack(
            [
                0.25 + 0.75 * ((hour >= 8) & (hour < 18)),  # office
                0.3 + 0.7 * ((hour >= 6) & (hour < 22)),  # plant, two shifts
                0.4
                + 0.5 * np.exp(-(((hour - 7.5) / 1.5) ** 2))
                + 0.8 * np.exp(-(((hour - 19.5) / 2.0) ** 2)),  # residential
                0.8 + 0.2 * np.sin(2 * np.pi * (hour - 9) / 24),  # round the clock
            ]
        )

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i):  # noqa: ANN001, ANN204 - Sequence's overloads
        from scipy.signal import lfilter

        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.count))]
        if not 0 <= i < self.count:
            raise IndexError(i)
        rng = np.random.default_rng((self.seed, i))
        kind = int(rng.integers(0, 4))
        level = float(np.exp(rng.uniform(np.log(5.0), np.log(5000.0))))
        profile = self.profiles[kind]
        offday = rng.uniform(0.2, 0.6) if kind in (0, 1) else rng.uniform(0.9, 1.15)
        shape = np.where(self.off, profile * offday, profile) if kind < 3 else profile
        swing = rng.uniform(0, 0.3)
        yearly = 1 + swing * np.cos(2 * np.pi * (self.day_no - rng.uniform(0, 365)) / 365)
        noise = lfilter([1.0], [1.0, -0.9], rng.normal(0, 0.03, self.index.size))
        outage = np.repeat(rng.random(self.days) < 0.005, self.index.size // self.days)
        y = level * shape * yearly * (1 + noise)
        y = np.where(outage, 0.1 * y, y)
        frame = pd.DataFrame({TARGET: np.maximum(y, 0.0)}, index=self.index)
        frame.index.freq = self.freq
        return frame


def synthetic_fleet(count: int, **kwargs: object) -> SyntheticFleet:
    return SyntheticFleet(count, **kwargs)  # type: ignore[arg-type]


class _Named(Mapping[str, pd.DataFrame]):
    """A sequence of series as the name → history mapping ``fit_many`` takes, lazily."""

    def __init__(self, series: Sequence[pd.DataFrame]) -> None:
        self.series = series

    def __getitem__(self, key: str) -> pd.DataFrame:
        return self.series[int(key)]

    def __iter__(self) -> Iterator[str]:
        return (str(i) for i in range(len(self.series)))

    def __len__(self) -> int:
        return len(self.series)


def _from_file(series: LoadedSeries, count: int, seed: int) -> list[pd.DataFrame]:
    """N one-year series from the file's series: shifted, scaled, 2 % noise."""
    frame = series.frame[[TARGET]]
    index = pd.DatetimeIndex(frame.index)
    day = steps_per(index, "day")
    rows = min(len(frame), 365 * day)
    rng = np.random.default_rng(seed)
    values = frame[TARGET].to_numpy(dtype=float)
    jobs = []
    for i in range(count):
        shift = (i * 3 * day) % len(values)
        y = np.roll(values, -shift)[-rows:] * rng.uniform(0.5, 2.0)
        y = y * (1 + 0.02 * rng.standard_normal(rows))
        part = pd.DataFrame({TARGET: y}, index=index[-rows:])
        part.index.freq = index.freq
        jobs.append(part)
    return jobs


def run_fleet_bench(
    series: LoadedSeries | None,
    *,
    count: int,
    model: str,
    holidays: str | None,
    workers: int | None,
    console: Console,
    seed: int = 0,
    days: int = 365,
    params: dict | None = None,
) -> dict:
    """Fit and forecast day-ahead ``count`` one-year series (from ``series`` or synthetic
    15-minute loads): the global model once across all of them (one thread), any
    other model per series in ``workers`` processes; the weekly seasonal naive beside it."""
    import resource

    jobs = (
        _from_file(series, count, seed)
        if series is not None
        else synthetic_fleet(count, days=days, holidays=holidays, seed=seed)
    )
    index = pd.DatetimeIndex(jobs[0].index)
    horizon = steps_per(index, "day")
    workers = workers or os.cpu_count() or 1
    began, cpu_began = time.perf_counter(), time.process_time()
    cpu_children = _children_cpu()
    models: dict[str, dict] = {}
    if model == GLOBAL:
        t0 = time.perf_counter()
        fitted = make(GLOBAL, ModelContext(horizon, HolidayCalendar(holidays)), **(params or {}))
        fitted.fit_many(_Named(jobs))  # type: ignore[attr-defined]
        t1 = time.perf_counter()
        forecasts = fitted.predict_many()  # type: ignore[attr-defined]
        t2 = time.perf_counter()
        assert len(forecasts) == count
        models[GLOBAL] = {
            "fit_s": round(t1 - t0, 2),
            "predict_s": round(t2 - t1, 2),
            "trained_rows": fitted.trained_rows,  # type: ignore[attr-defined]
            "bags": fitted.trained_bags,  # type: ignore[attr-defined]
            "threads": 1,
        }
        t0 = time.perf_counter()
        for f in jobs:
            make("naive_weekly", ModelContext(horizon)).fit(f).predict(horizon)
        models["naive_weekly"] = {"fit_predict_s": round(time.perf_counter() - t0, 2)}
    else:
        t0 = time.perf_counter()
        with _progress(console) as progress, ProcessPoolExecutor(workers) as pool:
            task = progress.add_task(f"{model} × {count}", total=count)
            for done, _ in enumerate(
                pool.map(
                    _fit_predict, jobs, [model] * count, [horizon] * count, [holidays] * count
                ),
                start=1,
            ):
                progress.update(task, completed=done)
        models[model] = {"fit_predict_s": round(time.perf_counter() - t0, 2), "processes": workers}
    wall = time.perf_counter() - began
    cpu = time.process_time() - cpu_began + _children_cpu() - cpu_children
    rss_kb = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    return {
        "series": count,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "per_series_ms": round(1000 * wall / count, 1),
        "models": models,
        "peak_rss_mb": round(rss_kb / 1024, 1),
        "source": series.name if series is not None else "synthetic",
        "rows_per_series": len(index),
        "freq": freq_text(pd.Timedelta(index.freq)),
        "horizon": horizon,
        "workers": workers,
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def _fit_predict(history: pd.DataFrame, model: str, horizon: int, holidays: str | None) -> int:
    context = ModelContext(horizon, HolidayCalendar(holidays))
    forecast = make(model, context).fit(history).predict(horizon)
    return len(forecast)


def _children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system
