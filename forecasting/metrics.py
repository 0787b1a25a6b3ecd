"""Forecast accuracy measures. Plain numpy on arrays of actuals and forecasts; NaN actuals
(missing readings) are left out of every measure.

- ``mae``, ``rmse``: in the series' unit.
- ``wape``: Σ|y − ŷ| / Σ|y| (a fraction).
- ``mase``: MAE divided by the in-sample MAE of the seasonal-naive forecast on the training
  data (Hyndman & Koehler 2006); with the weekly season it reads "compared with same time
  last week": below 1 is better than the weekly seasonal naive was in-sample.
- ``cv_rmse`` and ``nmbe``: ASHRAE Guideline 14-2014 calibration measures (fractions,
  0.30 = 30 %): CV(RMSE) = √(Σ(y − ŷ)² / (n − p)) / ȳ and NMBE = Σ(y − ŷ) / ((n − p) · ȳ),
  with p model parameters (0 for an out-of-sample forecast). NMBE > 0: the forecast is
  too low. Guideline 14 asks CV(RMSE) ≤ 30 % and |NMBE| ≤ 10 % for hourly data.
- ``coverage``: share of actuals inside [lower, upper].
- ``pinball``: mean quantile (pinball) loss over the given levels, the GEFCom 2014 measure
  when the levels are the 99 percentiles 0.01 … 0.99.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _pair(y: ArrayLike, yhat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y, yhat = np.asarray(y, dtype=float), np.asarray(yhat, dtype=float)
    ok = np.isfinite(y)
    return y[ok], yhat[ok]


def mae(y: ArrayLike, yhat: ArrayLike) -> float:
    y, yhat = _pair(y, yhat)
    return float(np.mean(np.abs(y - yhat))) if y.size else float("nan")


def rmse(y: ArrayLike, yhat: ArrayLike) -> float:
    y, yhat = _pair(y, yhat)
    return float(np.sqrt(np.mean((y - yhat) ** 2))) if y.size else float("nan")


def wape(y: ArrayLike, yhat: ArrayLike) -> float:
    y, yhat = _pair(y, yhat)
    total = np.sum(np.abs(y))
    return float(np.sum(np.abs(y - yhat)) / total) if total > 0 else float("nan")


def seasonal_naive_scale(history: ArrayLike, season: int) -> float:
    """In-sample MAE of the seasonal-naive forecast ``y[t − season]`` (the MASE denominator)."""
    h = np.asarray(history, dtype=float)
    if h.size <= season:
        return float("nan")
    diff = np.abs(h[season:] - h[:-season])
    diff = diff[np.isfinite(diff)]
    return float(np.mean(diff)) if diff.size else float("nan")


def mase(y: ArrayLike, yhat: ArrayLike, scale: float) -> float:
    return mae(y, yhat) / scale if scale > 0 else float("nan")


def cv_rmse(y: ArrayLike, yhat: ArrayLike, p: int = 0) -> float:
    y, yhat = _pair(y, yhat)
    n, mean = y.size, np.mean(y) if y.size else 0.0
    if n - p <= 0 or mean == 0:
        return float("nan")
    return float(np.sqrt(np.sum((y - yhat) ** 2) / (n - p)) / mean)


def nmbe(y: ArrayLike, yhat: ArrayLike, p: int = 0) -> float:
    y, yhat = _pair(y, yhat)
    n, mean = y.size, np.mean(y) if y.size else 0.0
    if n - p <= 0 or mean == 0:
        return float("nan")
    return float(np.sum(y - yhat) / ((n - p) * mean))


def coverage(y: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    y, lo, hi = (np.asarray(a, dtype=float) for a in (y, lower, upper))
    ok = np.isfinite(y)
    if not ok.any():
        return float("nan")
    return float(np.mean((y[ok] >= lo[ok]) & (y[ok] <= hi[ok])))


def pinball(y: ArrayLike, quantiles: np.ndarray, levels: ArrayLike) -> float:
    """Mean pinball loss; ``quantiles`` is n × len(levels), column j the forecast of level j."""
    y = np.asarray(y, dtype=float)
    q = np.asarray(quantiles, dtype=float)
    ok = np.isfinite(y)
    if not ok.any():
        return float("nan")
    diff = y[ok, None] - q[ok]
    tau = np.asarray(levels, dtype=float)[None, :]
    return float(np.mean(np.maximum(tau * diff, (tau - 1) * diff)))
