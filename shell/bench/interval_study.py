"""How the 90 % bands of the non-baseline models cover, under each band rule, over many folds.

``python -m shell.bench.interval_study collect OUT.pkl [--folds N] [--week-hourly]`` runs the
shared suite's rolling-origin folds for ``hgb`` (per series) and ``lgbm_global`` (across all
series, as ``ecc bench forecast --suite shared`` trains it) and keeps, per model, series and
fold, what each fit calibrated its bands on (the out-of-sample forecasts and errors handed to
``ConformalBands.fit``), the fold's forecast and its actuals, and the seasonal naives' forecasts.
``python -m shell.bench.interval_study rules OUT.pkl`` then scores every band rule of
``RULES`` on those records without fitting again: coverage of the 90 % band per series, for the
tuning series apart from the held-out ones. ``python -m shell.bench.interval_study combine
OUT.pkl [--weights 0.2,0.3,0.5]`` scores, on the same records, the weighted means of the two
models' forecasts (``w`` × hgb + (1 − w) × lgbm_global, quantiles averaged the same way, each
model's bands as its default rule makes them): MASE, the ratio to the better seasonal naive,
coverage and pinball per series (forecasting/README.md, round 7).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting import backtest, base, combined, metrics
from forecasting.base import (
    POINT,
    QUANTILE_LEVELS,
    TARGET,
    ConformalBands,
    later_widen,
    steps_per,
)
from forecasting.calendar import HolidayCalendar
from forecasting.registry import GLOBAL, ModelContext, make
from shell.bench import study_cli
from shell.bench.forecast_suite import DATA, global_setup, load, select

LO, MID, HI = (QUANTILE_LEVELS.index(a) for a in (0.05, 0.5, 0.95))


class _Recording(ConformalBands):
    def fit(self, point: np.ndarray, residual: np.ndarray) -> ConformalBands:
        self.calibrated = (np.asarray(point, float).copy(), np.asarray(residual, float).copy())
        return super().fit(point, residual)


def _record(model_name: str, names: list[str], folds: int, week_hourly: bool) -> list[dict]:
    import forecasting.gbm
    import forecasting.global_model

    # this process only: every fit keeps what it calibrated on
    forecasting.gbm.ConformalBands = _Recording  # type: ignore[misc]
    forecasting.global_model.ConformalBands = _Recording  # type: ignore[misc]
    specs = [s for s in select("shared") if s.name in names]
    frames, horizons = load(specs, DATA, week_hourly)
    factory = None
    if model_name == GLOBAL:
        frames, factory = global_setup(specs, frames)
    starts = {n: backtest.fold_bounds(len(f), horizons[n], folds) for n, f in frames.items()}
    out = []
    for k in range(folds):
        trains = {n: f.iloc[: starts[n][k]] for n, f in frames.items()}
        tests = {n: f.iloc[starts[n][k] : starts[n][k] + horizons[n]] for n, f in frames.items()}
        if factory is not None:
            model = factory()
            model.fit_many(trains, horizons)  # type: ignore[attr-defined]
            ex = {n: t.drop(columns=[TARGET]) if t.shape[1] > 1 else None for n, t in tests.items()}
            forecasts = model.predict_many(horizons, ex)  # type: ignore[attr-defined]
            bands = {n: model._bands[n] for n in frames}  # type: ignore[attr-defined]
        else:
            forecasts, bands = {}, {}
            for s in specs:
                context = ModelContext(horizons[s.name], HolidayCalendar(s.holidays), s.exog)
                test = tests[s.name]
                model = make(model_name, context).fit(trains[s.name])
                forecasts[s.name] = model.predict(
                    horizons[s.name], test[list(s.exog)] if s.exog else None
                )
                bands[s.name] = model._bands  # type: ignore[attr-defined]
        for n, forecast in forecasts.items():
            train, test, h = trains[n], tests[n], horizons[n]
            y = train[TARGET].to_numpy(float)
            week = steps_per(pd.DatetimeIndex(frames[n].index), "week")
            naive = {
                name: make(name, ModelContext(h)).fit(train[[TARGET]]).predict(h)[POINT].to_numpy()
                for name in ("naive_daily", "naive_weekly")
            }
            out.append(
                {
                    "model": model_name,
                    "series": n,
                    "fold": k,
                    "calibrated": bands[n].calibrated,
                    "point": forecast[POINT].to_numpy(float),
                    "actual": test[TARGET].to_numpy(float),
                    "scale": metrics.seasonal_naive_scale(y, week),
                    "floor": base.floor_of(y),
                    "naive": naive,
                }
            )
        print(f"{model_name} fold {k + 1}/{folds}", flush=True)
    return out


def collect(out: Path, folds: int, week_hourly: bool) -> None:
    names = [s.name for s in select("shared")]
    tasks = [(GLOBAL, names)] + [("hgb", [n]) for n in names]
    records: list[dict] = []
    with ProcessPoolExecutor(2) as pool:
        run = partial(_run, folds=folds, week_hourly=week_hourly)
        for part in pool.map(run, tasks):
            records.extend(part)
    out.write_bytes(pickle.dumps({"folds": folds, "week_hourly": week_hourly, "records": records}))


def _run(task: tuple[str, list[str]], folds: int, week_hourly: bool) -> list[dict]:
    return _record(task[0], task[1], folds, week_hourly)


Rule = Callable[[np.ndarray, np.ndarray], ConformalBands]


def _fixed(factor: float | None) -> Rule:
    return lambda p, r: ConformalBands(widen=factor).fit(p, r)


def _newer(share: float) -> Rule:
    def rule(p: np.ndarray, r: np.ndarray) -> ConformalBands:
        keep = int(len(r) * share)
        return ConformalBands().fit(p[-keep:], r[-keep:])

    return rule


def _measured(p: np.ndarray, r: np.ndarray) -> ConformalBands:
    return ConformalBands(widen=later_widen(p, r)).fit(p, r)


RULES: dict[str, Rule] = {
    "widen 1.0": _fixed(1.0),
    "widen 1.2": _fixed(1.2),
    "measured": _measured,  # base.later_widen taken whole (round 3)
    "halfway": _fixed(None),  # base.shrunk_widen of it (round 4, lgbm_global's default)
    "newer half": _newer(0.5),
}
# each model's default: hgb refits through the origin (no drift step to allow for); the
# global model takes the measured stretch halfway day-ahead, whole for a longer horizon
KEPT = {"hgb": "widen 1.0", GLOBAL: "halfway"}
KEPT_LONG = {"hgb": "widen 1.0", GLOBAL: "measured"}


def kept(week_hourly: bool) -> dict[str, str]:
    """Each model's default band rule at the records' horizon."""
    return KEPT_LONG if week_hourly else KEPT


def _quantiles(record: dict, rule: Rule) -> np.ndarray:
    """The fold's 99 quantiles as ``rule`` makes the bands from what the fit calibrated on."""
    q = rule(*record["calibrated"]).quantiles(record["point"])
    return np.maximum(q, record["floor"]) if record["floor"] is not None else q


def _inside(actual: np.ndarray, q: np.ndarray) -> np.ndarray:
    """For each observed actual, whether it lies in the 90 % band of ``q``."""
    ok = np.isfinite(actual)
    return (actual[ok] >= q[ok, LO]) & (actual[ok] <= q[ok, HI])


def _coverage(record: dict, rule: Rule) -> np.ndarray:
    return _inside(record["actual"], _quantiles(record, rule))


def combine(path: Path, weights: Sequence[float]) -> dict:
    """Per series: MASE of hgb, lgbm_global, the two seasonal naives and each weighted mean
    ``w`` × hgb + (1 − w) × lgbm_global (keys ``"w=0.2"`` …), the ratio of each combination to
    the better naive, and its coverage of the 90 % band and pinball over the 99 quantiles
    (the two models' quantiles, each from its default band rule, averaged with the same
    weights)."""
    data = pickle.loads(path.read_bytes())
    rules = {m: RULES[name] for m, name in kept(data["week_hourly"]).items()}
    tuning = {s.name for s in select("tuning")}
    by: dict[tuple[str, str], dict[int, dict]] = {}
    for r in data["records"]:
        by.setdefault((r["series"], r["model"]), {})[r["fold"]] = r
    table = {}
    for series in dict.fromkeys(r["series"] for r in data["records"]):
        hgb, glob = by[(series, "hgb")], by[(series, GLOBAL)]
        errors: dict[str, list[np.ndarray]] = {}
        hits: dict[str, list[np.ndarray]] = {}
        losses: dict[str, list[float]] = {}
        for fold in sorted(glob):
            h, g = hgb[fold], glob[fold]
            y, ok = g["actual"], np.isfinite(g["actual"])
            points = {
                "hgb": h["point"],
                GLOBAL: g["point"],
                "naive_daily": g["naive"]["naive_daily"],
                "naive_weekly": g["naive"]["naive_weekly"],
            }
            quantiles = {"hgb": _quantiles(h, rules["hgb"]), GLOBAL: _quantiles(g, rules[GLOBAL])}
            parts = {"hgb": h["point"], GLOBAL: g["point"]}
            for w in weights:
                key, share = f"w={w:g}", {"hgb": w, GLOBAL: 1 - w}
                points[key] = combined.weighted_mean(parts, share)
                q = combined.weighted_mean(quantiles, share)
                hits.setdefault(key, []).append(_inside(y, q))
                losses.setdefault(key, []).append(metrics.pinball(y[ok], q[ok], QUANTILE_LEVELS))
            for name, point in points.items():
                errors.setdefault(name, []).append(np.abs(y - point)[ok] / g["scale"])
        mase = {n: float(np.mean(np.concatenate(e))) for n, e in errors.items()}
        naive = min(mase["naive_daily"], mase["naive_weekly"])
        row: dict = {"tuning": series in tuning, "mase": mase, "naive": naive}
        for key in hits:
            row[key] = {
                "ratio": mase[key] / naive,
                "coverage": float(np.concatenate(hits[key]).mean()),
                "pinball": float(np.mean(losses[key])),
            }
        table[series] = row
    return table


def score(path: Path, rules: dict[str, Rule] = RULES) -> dict:
    data = pickle.loads(path.read_bytes())
    records = data["records"]
    tuning = {s.name for s in select("tuning")}
    by: dict[tuple[str, str], list[dict]] = {}
    for r in records:
        by.setdefault((r["series"], r["model"]), []).append(r)
    table = {}
    for series in dict.fromkeys(r["series"] for r in records):
        mase = {}
        for model in ("hgb", GLOBAL):
            rs = by[(series, model)]
            err = np.concatenate([np.abs(r["actual"] - r["point"]) / r["scale"] for r in rs])
            mase[model] = float(np.nanmean(err))
        rs = by[(series, GLOBAL)]
        for naive in ("naive_daily", "naive_weekly"):
            err = np.concatenate([np.abs(r["actual"] - r["naive"][naive]) / r["scale"] for r in rs])
            mase[naive] = float(np.nanmean(err))
        best = min(("hgb", GLOBAL), key=mase.__getitem__)
        ratio = mase[best] / min(mase["naive_daily"], mase["naive_weekly"])
        row: dict = {"tuning": series in tuning, "best": best, "ratio": round(ratio, 3)}
        for model in ("hgb", GLOBAL):
            for name, rule in rules.items():
                hits = [_coverage(r, rule) for r in by[(series, model)]]
                row[(model, name)] = round(float(np.concatenate(hits).mean()), 3)
        table[series] = row
    return table


def main() -> None:
    parser = study_cli.parser("interval_study", ("collect", "rules", "combine"), folds=28)
    parser.add_argument("--weights", default="0.2,0.3,0.5", help="hgb's weights, comma-separated")
    args = parser.parse_args()
    if study_cli.collected(parser, args, collect):
        return
    if args.action == "combine":
        try:
            weights = [float(w) for w in args.weights.split(",")]
        except ValueError:
            parser.error("--weights: numbers between 0 and 1, comma-separated")
        if not all(0 <= w <= 1 for w in weights):
            parser.error("--weights: numbers between 0 and 1, comma-separated")
        _print_combinations(combine(args.path, weights), weights)
        return
    table = score(args.path)
    print(f"{'series':32s} {'best':12s} ratio  " + "  ".join(f"{n[:9]:>9s}" for n in RULES))
    for series, row in table.items():
        for model in ("hgb", GLOBAL):
            mark = "*" if model == row["best"] else " "
            cells = "  ".join(f"{row[(model, n)]:9.3f}" for n in RULES)
            tag = "T" if row["tuning"] else " "
            print(f"{tag} {series[:30]:30s} {mark}{model:11s} {row['ratio']:.3f}  {cells}")
    tuning = [row for row in table.values() if row["tuning"]]
    for model in ("hgb", GLOBAL):
        gaps = {n: np.mean([abs(row[(model, n)] - 0.9) for row in tuning]) for n in RULES}
        print(
            f"tuning series, {model}: mean |coverage - 90 %| "
            + ", ".join(f"{n} {g:.4f}" for n, g in gaps.items())
        )
    rules_kept = kept(pickle.loads(args.path.read_bytes())["week_hourly"])
    covered = [row[(row["best"], rules_kept[row["best"]])] for row in table.values()]
    print(
        f"kept ({', '.join(f'{m}: {n}' for m, n in rules_kept.items())}): best model's "
        f"coverage in 85-95 % on {sum(0.85 <= c <= 0.95 for c in covered)} of "
        f"{len(covered)}, mean |coverage - 90 %| {np.mean([abs(c - 0.9) for c in covered]):.3f}"
    )
    for name in RULES:
        best = [row[(row["best"], name)] for row in table.values()]
        inside = sum(0.85 <= c <= 0.95 for c in best)
        gap = np.mean([abs(c - 0.9) for c in best])
        print(
            f"{name}: best model's coverage in 85-95 % on {inside} of {len(best)}, "
            f"mean |coverage - 90 %| {gap:.3f}"
        )


def _print_combinations(table: dict, weights: Sequence[float]) -> None:
    keys = [f"w={w:g}" for w in weights]
    print(f"{'series':32s} {'hgb':>6s} {'lgbm':>6s} {'naive':>6s}  " + "  ".join(keys))
    for series, row in table.items():
        m = row["mase"]
        cells = "  ".join(
            f"{row[k]['ratio']:.3f}/{row[k]['coverage']:.3f}/{row[k]['pinball']:.4g}" for k in keys
        )
        tag = "T" if row["tuning"] else " "
        print(
            f"{tag} {series[:30]:30s} {m['hgb'] / row['naive']:6.3f} "
            f"{m[GLOBAL] / row['naive']:6.3f} {row['naive']:6.3f}  {cells}"
        )
    for key in ("hgb", GLOBAL, *keys):
        ratios = {s: r["mase"][key] / r["naive"] for s, r in table.items()}
        tuning = [ratios[s] for s, r in table.items() if r["tuning"]]
        best = [
            min(r["mase"][k] for k in ("hgb", GLOBAL, key)) / r["naive"] for r in table.values()
        ]
        print(
            f"{key}: tuning mean ratio {np.mean(tuning):.3f}; best of hgb, lgbm_global and it: "
            f"median {np.median(best):.3f}, max {max(best):.3f}, ≤ 1 on "
            f"{sum(b <= 1 for b in best)} of {len(best)}"
        )
    for key in keys:
        inside = sum(0.85 <= r[key]["coverage"] <= 0.95 for r in table.values())
        print(f"{key}: coverage in 85-95 % on {inside} of {len(table)}")


if __name__ == "__main__":
    main()
