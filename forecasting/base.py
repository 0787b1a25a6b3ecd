"""The forecaster protocol every model follows, and what models share.

A model is fitted on a *history* frame and predicts the next ``horizon`` steps:

- history: a ``pandas.DataFrame`` with a regular ``DatetimeIndex`` (its ``freq`` set; naive
  wall-clock time or tz-aware in the plant's zone), the target in column ``y`` (NaN where a
  value is missing) and optional exogenous columns (production plan, outdoor temperature, …);
- forecast: a frame indexed by the next ``horizon`` timestamps with the point forecast in
  ``yhat`` and the 99 quantiles ``q01`` … ``q99`` (non-decreasing along each row). The 90 %
  interval is ``q05``–``q95``.

Exogenous columns seen in ``fit`` must be supplied for the forecast period in ``predict``
(a production plan, a weather forecast; backtests use the observed values).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd

from core.errors import Invalid

TARGET = "y"
POINT = "yhat"
QUANTILE_LEVELS: tuple[float, ...] = tuple(i / 100 for i in range(1, 100))


def qcol(level: float) -> str:
    """Column name of a quantile: 0.05 → ``q05``."""
    return f"q{round(level * 100):02d}"


QUANTILE_COLUMNS: tuple[str, ...] = tuple(qcol(q) for q in QUANTILE_LEVELS)
LOWER_90, UPPER_90 = qcol(0.05), qcol(0.95)


@dataclass(frozen=True)
class Capabilities:
    """What a model can do, so callers choose without trying.

    ``intervals`` says how its quantiles are made: ``conformal`` (empirical quantiles of
    out-of-sample residuals), ``native`` (the model's own predictive distribution).
    ``max_horizon`` is the longest forecast in steps (None: any); ``min_history`` the
    shortest history in steps it can be fitted on.
    """

    intervals: str
    exogenous: bool = False
    holidays: bool = False
    max_horizon: int | None = None
    min_history: int = 1


@runtime_checkable
class Forecaster(Protocol):
    name: str
    capabilities: Capabilities

    def fit(self, history: pd.DataFrame) -> Self:
        """Estimate the model on the history; returns the fitted model."""
        ...

    def update(self, history: pd.DataFrame) -> Self:
        """Move the forecast origin to the end of a newer history without re-estimating
        (cheap; what the 15-minute refresh uses between nightly fits)."""
        ...

    def predict(self, horizon: int, exog: pd.DataFrame | None = None) -> pd.DataFrame:
        """The next ``horizon`` steps after the history: ``yhat`` and ``q01`` … ``q99``."""
        ...

    def params(self) -> dict:
        """The parameters that define the model (stored with every forecast run)."""
        ...


def check_history(history: pd.DataFrame, min_steps: int, model: str) -> pd.DatetimeIndex:
    """The history's index, after checking the frame follows the contract."""
    if TARGET not in history.columns:
        raise Invalid("history", f"needs a {TARGET!r} column")
    index = history.index
    if not isinstance(index, pd.DatetimeIndex) or index.freq is None:
        raise Invalid("history", "needs a regular DatetimeIndex with its freq set")
    if len(index) < min_steps or history[TARGET].notna().sum() < min(min_steps, 2):
        raise Invalid("history", f"{model} needs at least {min_steps} steps, got {len(index)}")
    return index


def steps_per(index: pd.DatetimeIndex, period: str) -> int:
    """Steps per ``day`` or ``week`` at the index's frequency."""
    step = pd.Timedelta(index.freq)
    span = pd.Timedelta(days=1 if period == "day" else 7)
    if span % step != pd.Timedelta(0):
        raise Invalid("freq", f"a {period} is not a whole number of {step} steps")
    return int(span / step)


def future_index(index: pd.DatetimeIndex, horizon: int) -> pd.DatetimeIndex:
    if horizon < 1:
        raise Invalid("horizon", "must be at least one step")
    return pd.date_range(index[-1] + index.freq, periods=horizon, freq=index.freq)


def check_exog(
    columns: list[str], future: pd.DatetimeIndex, exog: pd.DataFrame | None
) -> pd.DataFrame | None:
    """The exogenous values for the forecast period, aligned on its timestamps."""
    if not columns:
        return None
    if exog is None:
        raise Invalid(
            "exog",
            f"the model was fitted with {', '.join(columns)}; "
            "give their values for the forecast period",
        )
    missing = [c for c in columns if c not in exog.columns]
    if missing:
        raise Invalid("exog", f"missing columns {', '.join(missing)}")
    return exog.reindex(future)[columns]


def forecast_frame(
    index: pd.DatetimeIndex, point: np.ndarray, quantiles: np.ndarray, floor: float | None = None
) -> pd.DataFrame:
    """The forecast frame; quantiles (steps × 99) are sorted along each row so they never
    cross, and everything is kept at or above ``floor`` (0 for a series that never went
    negative: energy and load meters)."""
    q = np.sort(np.asarray(quantiles, dtype=float), axis=1)
    point = np.asarray(point, dtype=float)
    if floor is not None:
        q, point = np.maximum(q, floor), np.maximum(point, floor)
    frame = pd.DataFrame(q, index=index, columns=list(QUANTILE_COLUMNS))
    frame.insert(0, POINT, point)
    return frame


def floor_of(y: pd.Series | np.ndarray) -> float | None:
    """0 when the history never went negative (forecasts then stay non-negative), else None."""
    values = np.asarray(y, dtype=float)
    values = values[np.isfinite(values)]
    return 0.0 if values.size and values.min() >= 0 else None


class ConformalBands:
    """Split-conformal residual quantiles, grouped by the size of the point forecast
    (Mondrian conformal): load residuals are wider at full production than at night, so one
    global band would be too wide at night and too narrow at the peak.

    ``fit(point, residual)`` takes out-of-sample forecasts and their errors (actual − point),
    oldest first; ``quantiles(point)`` returns point + the residual quantiles of each point's
    group. ``widen`` > 1 stretches the quantiles away from the residual median by that
    factor: the errors of the days calibrated on understate those of later days when the
    series drifts. ``widen=None`` chooses the factor per fit from the residuals themselves
    (``chosen_widen``): ``measured_widen``, how much bands fitted on the older residuals had
    to be stretched to cover the newer ones (``later_widen``) — the same step forward in
    time the bands then take to the days they forecast —, taken halfway to 1
    (``shrunk_widen``; ``shrink`` says how far: 0.5 by default, 1 whole). Only what ``fit``
    is given is used, so in a
    backtest (the residuals come from inside a fold's training data) the factor is never
    chosen on the fold scored.
    """

    def __init__(
        self,
        groups: int = 4,
        min_per_group: int = 200,
        widen: float | None = 1.0,
        shrink: float | None = None,
    ) -> None:
        if widen is not None and widen <= 0:
            raise Invalid("widen", "must be positive (or None: chosen from the residuals)")
        self.groups = groups
        self.min_per_group = min_per_group
        self.widen = widen
        self.shrink = WIDEN_SHRINK if shrink is None else shrink
        self.chosen_widen = 1.0 if widen is None else widen
        self.measured_widen: float | None = None
        self.edges: np.ndarray = np.array([])
        self.table: np.ndarray = np.zeros((1, len(QUANTILE_LEVELS)))

    def fit(self, point: np.ndarray, residual: np.ndarray) -> ConformalBands:
        ok = np.isfinite(point) & np.isfinite(residual)
        point, residual = np.asarray(point)[ok], np.asarray(residual)[ok]
        if residual.size == 0:
            raise Invalid("history", "no out-of-sample residuals to calibrate intervals on")
        if self.widen is None:
            self.measured_widen = later_widen(point, residual, self.groups, self.min_per_group)
            self.chosen_widen = shrunk_widen(self.measured_widen, self.shrink)
        else:
            self.chosen_widen = self.widen
        groups = int(max(1, min(self.groups, residual.size // self.min_per_group)))
        self.edges = np.quantile(point, np.linspace(0, 1, groups + 1)[1:-1])
        labels = np.searchsorted(self.edges, point, side="right")
        levels = np.asarray(QUANTILE_LEVELS)
        self.table = np.vstack(
            [
                _finite_sample_quantiles(
                    residual[labels == g] if np.any(labels == g) else residual, levels
                )
                for g in range(groups)
            ]
        )
        if self.chosen_widen != 1.0:
            median = self.table[:, [QUANTILE_LEVELS.index(0.5)]]
            self.table = median + self.chosen_widen * (self.table - median)
        return self

    def quantiles(self, point: np.ndarray) -> np.ndarray:
        labels = np.searchsorted(self.edges, np.asarray(point), side="right")
        return np.asarray(point)[:, None] + self.table[labels]


def _finite_sample_quantiles(residual: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Residual quantiles widened by the split-conformal finite-sample correction: level
    ``a`` of a band is read at ``0.5 + (a − 0.5)·(n + 1)/n``, so the central interval
    between ``a`` and ``1 − a`` covers at least ``1 − 2a`` of new points."""
    n = residual.size
    adjusted = np.clip(0.5 + (levels - 0.5) * (n + 1) / n, 0.0, 1.0)
    return np.quantile(residual, adjusted)


# ``later_widen``: the newer ``LATER_SHARE`` of the residuals is scored against bands fitted
# on the older rest; the factor is kept within ``WIDEN_BOUNDS``; fewer than ``MIN_SPLIT``
# residuals on either side leave the bands as fitted (factor 1).
LATER_SHARE = 0.5
WIDEN_BOUNDS = (0.5, 3.0)
MIN_SPLIT = 20


# ``shrunk_widen``: the measured factor is taken this far (in log scale) from 1
WIDEN_SHRINK = 0.5


def shrunk_widen(measured: float, shrink: float = WIDEN_SHRINK) -> float:
    """The factor applied: ``measured ** shrink``, by default (``WIDEN_SHRINK``) halfway (in
    log scale) between the bands as calibrated and the stretch ``later_widen`` measured.
    The measurement compares two weeks of residuals with two weeks, so it is noisy from fit
    to fit; taken whole it over-stretched and over-shrank single fits, halfway it landed
    closest to 90 % on the tuning series over 42 rolling day-ahead origins
    (``shell.bench.interval_study``; forecasting/README.md, round 4). The global model takes
    it whole for a horizon longer than a day (``GlobalGBM.long_shrink``, round 6)."""
    return float(measured**shrink)


def beyond_a_day(horizon: int, day: int) -> bool:
    """Whether a horizon of ``horizon`` steps (``day`` steps a day) reaches past a day ahead:
    the one line between the day-ahead and the longer settings (bands, combination)."""
    return horizon > day


def horizon_shrink(horizon: int, day: int, long_shrink: float = 1.0) -> float | None:
    """How much of the measured stretch a model's bands take for a horizon (``day`` steps a
    day): day-ahead halfway (None: ``ConformalBands``' default, ``WIDEN_SHRINK``), for a
    longer horizon ``long_shrink`` — whole by default: week-ahead the measurement rests on
    forecasts a day apart and the forecast steps up to a week past the calibration days
    (forecasting/README.md, round 6 for ``lgbm_global``, round 8 for ``linear``)."""
    return long_shrink if beyond_a_day(horizon, day) else None


def later_widen(
    point: np.ndarray,
    residual: np.ndarray,
    groups: int = 4,
    min_per_group: int = 200,
    coverage: float = 0.90,
) -> float:
    """The widening factor the newer residuals call for (an inner rolling-origin check).

    ``point`` and ``residual`` are out-of-sample forecasts and their errors, oldest first.
    Bands are fitted (unwidened) on the older half; each newer residual ``r`` gets the score
    ``(r − m) / (q95 − m)`` above its group's residual median ``m``, ``(m − r) / (m − q05)``
    below it: the factor by which the 90 % band would have to be stretched around ``m`` to
    reach it. The factor is the split-conformal quantile of those scores (the
    ``⌈(k + 1)·coverage⌉``-th smallest of ``k``), so the stretched band covers ``coverage`` of
    the newer residuals. Steady series get a factor near or below 1 (their bands tighten), a
    drifting one above.
    """
    point, residual = np.asarray(point, dtype=float), np.asarray(residual, dtype=float)
    later = int(round(residual.size * LATER_SHARE))
    split = residual.size - later
    if later < MIN_SPLIT or split < MIN_SPLIT:
        return 1.0
    old = ConformalBands(groups, min_per_group).fit(point[:split], residual[:split])
    labels = np.searchsorted(old.edges, point[split:], side="right")
    row = old.table[labels]
    low, mid, high = (row[:, QUANTILE_LEVELS.index(a)] for a in (0.05, 0.5, 0.95))
    r = residual[split:]
    reach = np.where(r >= mid, r - mid, mid - r)
    half = np.where(r >= mid, high - mid, mid - low)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(half > 0, reach / half, np.where(reach > 0, np.inf, 0.0))
    rank = min(later, math.ceil((later + 1) * coverage))
    factor = float(np.sort(score)[rank - 1])
    return float(np.clip(factor, *WIDEN_BOUNDS))
