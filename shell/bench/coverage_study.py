"""The interval-widening check on the tuning series only (forecasting/README.md, round 3).

``python -m shell.bench.coverage_study [DATA_DIR]`` (default ``ECC_SHARED_DATA`` or
``../shared/data``): on steel, ETTm2 HUFL and Tetouan zone 1 the daily seasonal naive stands in
for a model; at each of the last 150 day origins its band is calibrated on the 28 days before
(``ConformalBands``) with the widening of each rule, and the day after is scored. Prints per
series and rule the mean coverage of the 90 % band, the standard deviation of an 8-day
coverage and the share of 8-day windows inside 85-95 %.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.base import QUANTILE_LEVELS, ConformalBands, later_widen, steps_per
from shell.bench.forecast_suite import _load, select

LO, HI = QUANTILE_LEVELS.index(0.05), QUANTILE_LEVELS.index(0.95)
ORIGINS, CALIBRATION_DAYS, WINDOW = 150, 28, 8
RULES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "widen 1.0": lambda p, r: 1.0,
    "widen 1.2": lambda p, r: 1.2,
    "per series": later_widen,
}


def study(data: Path) -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for spec in select("tuning"):
        frame = _load(spec, data, False)
        y = frame["y"].to_numpy(float)
        day = steps_per(pd.DatetimeIndex(frame.index), "day")
        days = len(y) // day
        cover: dict[str, list[float]] = {k: [] for k in RULES}
        for d in range(days - ORIGINS, days):
            start = d * day
            cal = np.arange(start - CALIBRATION_DAYS * day, start)
            point, residual = y[cal - day], y[cal] - y[cal - day]
            today, actual = y[start - day : start], y[start : start + day]
            ok = np.isfinite(actual)
            for name, rule in RULES.items():
                bands = ConformalBands(widen=rule(point, residual)).fit(point, residual)
                q = bands.quantiles(today)
                inside = (actual[ok] >= q[ok, LO]) & (actual[ok] <= q[ok, HI])
                cover[name].append(float(inside.mean()))
        out[spec.name] = {}
        for name, c in cover.items():
            windows = np.array([np.mean(c[i : i + WINDOW]) for i in range(0, len(c) - 7, WINDOW)])
            out[spec.name][name] = {
                "mean_coverage": round(float(np.mean(c)), 3),
                "window_sd": round(float(windows.std()), 3),
                "windows_in_range": round(float(np.mean((windows >= 0.85) & (windows <= 0.95))), 2),
            }
    return out


def main() -> None:
    default = os.environ.get("ECC_SHARED_DATA") or Path.cwd().parent / "shared" / "data"
    data = Path(sys.argv[1] if len(sys.argv) > 1 else default)
    if not data.is_dir():
        sys.exit(f"DATA_DIR: {data} is not a folder (the shared data: ../shared/data)")
    for series, rules in study(data).items():
        print(series)
        for name, figures in rules.items():
            print(f"  {name:11s} {figures}")


if __name__ == "__main__":
    main()
