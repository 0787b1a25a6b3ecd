"""Which weights the combination (``forecasting.combined``) should take, read off the tuning
series only.

``python -m shell.bench.combination_study collect OUT.pkl [--folds N] [--week-hourly]`` runs
the shared suite's rolling-origin folds for the seasonal naives and every part of the
combination (``hgb`` and ``linear`` per series, ``lgbm_global`` across all series, as
``ecc bench forecast --suite shared`` fits them) and keeps every fold's forecast.
``python -m shell.bench.combination_study grid OUT.pkl`` then scores, without fitting again,
every weighting of the three parts on a 0.1 grid of the simplex: per tuning series the
combination's MASE over the better seasonal naive's, their mean, and the mean distance of
its 90 % coverage from 90 %, best first; ``--all`` adds the held-out series' rows, for the
record (choose on the tuning rows: forecasting/README.md, round 9).
"""

from __future__ import annotations

import pickle
import statistics
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecasting import backtest, combined
from forecasting.registry import GLOBAL
from shell.bench import study_cli
from shell.bench.forecast_suite import (
    DATA,
    _local,
    global_setup,
    load,
    pooled_linear,
    pools_linear,
    select,
)

NAIVES = ("naive_daily", "naive_weekly")
LOCAL = (*NAIVES, "hgb", "linear")
STEP = 0.1


@dataclass(frozen=True)
class Scored:
    weights: dict[str, float]
    ratios: dict[str, float]  # series → the combination's MASE over the better naive's
    mean: float  # over the series scored
    coverage_distance: float  # mean |coverage of the 90 % band − 90 %|, points


def collect(path: Path, folds: int, week_hourly: bool, data: Path = DATA) -> None:
    specs = select("shared")
    frames, horizons = load(specs, data, week_hourly)
    results: dict[str, dict[str, backtest.ModelResult]] = {}
    pooled = pools_linear(frames, horizons)
    local = [m for m in LOCAL if not (pooled and m == "linear")]
    jobs = [(s, frames[s.name], horizons[s.name], folds, local) for s in specs]
    with ProcessPoolExecutor(2) as pool:
        for spec, result in zip(specs, pool.map(_local, jobs), strict=True):
            results[spec.name] = result
            print(f"{spec.name}: local models done", flush=True)
    if pooled:  # as the suite and the nightly fit it beyond a day
        for name, result in pooled_linear(specs, frames, horizons, folds).items():
            results[name]["linear"] = result
    grouped, factory = global_setup(specs, frames)
    for name, result in backtest.rolling_origin_group(grouped, factory, horizons, folds).items():
        results[name][GLOBAL] = result
    print("global model done", flush=True)
    record = {
        "week_hourly": week_hourly,
        "folds": folds,
        "tuning": {s.name: s.tuning for s in specs},
        "step": {n: pd.Timedelta(f.index.freq) for n, f in frames.items()},
        "results": results,
    }
    path.write_bytes(pickle.dumps(record))


def simplex(step: float = STEP) -> list[dict[str, float]]:
    """Every weighting of ``hgb``, ``lgbm_global``, ``linear`` on a grid of ``step``."""
    n = round(1 / step)
    return [
        {"hgb": h / n, GLOBAL: (n - h - k) / n, "linear": k / n}
        for h in range(n + 1)
        for k in range(n + 1 - h)
    ]


def score(record: dict, weights: dict[str, float], names: list[str]) -> Scored:
    """The weighted mean of the parts' recorded folds on each series of ``names``."""
    ratios, distances = {}, []
    for name in names:
        results = record["results"][name]
        found = combined.combined_result(
            results, record["step"][name], {p: w for p, w in weights.items() if w > 0}
        )
        if found is None or found.error is not None:
            raise ValueError(f"{name}: the record lacks a part's folds")
        naive = min(results[n].scores["mase"] for n in NAIVES)
        ratios[name] = found.scores["mase"] / naive
        distances.append(abs(100 * found.scores["coverage_90"] - 90))
    return Scored(weights, ratios, statistics.mean(ratios.values()), statistics.mean(distances))


def grid(record: dict, step: float = STEP) -> list[Scored]:
    """Every weighting scored on the tuning series, lowest mean ratio first."""
    tuning = [n for n, t in record["tuning"].items() if t]
    return sorted((score(record, w, tuning) for w in simplex(step)), key=lambda s: s.mean)


def _show(scored: Scored) -> str:
    w = " ".join(f"{p} {v:.1f}" for p, v in scored.weights.items())
    rows = ", ".join(f"{n} {r:.3f}" for n, r in scored.ratios.items())
    off = scored.coverage_distance
    return f"{w}: mean {scored.mean:.4f}, coverage off 90 % by {off:.2f} ({rows})"


def main() -> None:
    made = study_cli.parser("combination_study", ("collect", "grid"), folds=16)
    made.add_argument("--top", type=int, default=10)
    made.add_argument("--all", action="store_true", help="the held-out rows of the best too")
    args = made.parse_args()
    if study_cli.collected(made, args, collect):
        return
    if args.top < 1:
        made.error("--top: at least 1")
    try:
        record = pickle.loads(args.path.read_bytes())
        ranked = grid(record)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as exc:
        made.error(f"path: {args.path} is not a record of this study's collect ({exc!r})")
    for scored in ranked[: args.top]:
        print(_show(scored))
    if args.all:
        everyone = score(record, ranked[0].weights, list(record["results"]))
        print("every series, the best weighting:", _show(everyone))


if __name__ == "__main__":
    main()
