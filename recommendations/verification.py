"""Verified savings (IPMVP option B for a retrofit-isolated meter, option C for the whole site):
a baseline model fitted on the days before the change predicts the counterfactual of the days
after it; avoided energy = Σ (predicted − measured), with the 95 % uncertainty of that sum.

The model is an ordinary least-squares regression of daily energy on day-of-week indicators
(and a holiday/non-workday indicator when given). The uncertainty is exact for OLS: the
variance of Σ(predicted − measured) over the reporting days is
``s² × (m + 1ᵀ X_r (XᵀX)⁻¹ X_rᵀ 1)`` with ``s²`` the residual variance of the fit and ``m``
the reporting days.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np

Z95 = 1.96
MIN_BASELINE_DAYS = 21


def _design(days: list[date], off: set[date]) -> np.ndarray:
    x = np.zeros((len(days), 8))
    for i, d in enumerate(days):
        x[i, d.weekday()] = 1.0
        x[i, 7] = 1.0 if d in off and d.weekday() < 5 else 0.0
    return x


def verify(
    baseline: list[tuple[date, float]],
    reporting: list[tuple[date, float]],
    non_workdays: set[date] | None = None,
) -> dict:
    """``{"avoided_kwh", "uncertainty_kwh" (95 %), "predicted_kwh", "measured_kwh",
    "savings_pct", "cv_rmse", "r2", ...}`` — or ``{"status": "insufficient_data"}``."""
    off = non_workdays or set()
    if len(baseline) < MIN_BASELINE_DAYS or not reporting:
        return {
            "status": "insufficient_data",
            "baseline_days": len(baseline),
            "reporting_days": len(reporting),
            "min_baseline_days": MIN_BASELINE_DAYS,
        }
    xb = _design([d for d, _ in baseline], off)
    yb = np.array([v for _, v in baseline])
    keep: np.ndarray = np.asarray(xb.any(axis=0))  # drop indicators never seen in the baseline
    if not keep[7]:
        keep[7] = False
    xb = xb[:, keep]
    beta, *_ = np.linalg.lstsq(xb, yb, rcond=None)
    resid = yb - xb @ beta
    p = xb.shape[1]
    dof = max(1, len(yb) - p)
    s2 = float(resid @ resid) / dof
    xr = _design([d for d, _ in reporting], off)[:, keep]
    yr = np.array([v for _, v in reporting])
    pred = xr @ beta
    ones = xr.sum(axis=0)
    xtx_inv = np.linalg.pinv(xb.T @ xb)
    var_sum = s2 * (len(yr) + float(ones @ xtx_inv @ ones))
    avoided = float(pred.sum() - yr.sum())
    u = Z95 * math.sqrt(var_sum)
    mean_b = float(yb.mean())
    ss_tot = float(((yb - mean_b) ** 2).sum())
    return {
        "status": "verified" if avoided - u > 0 else "not_significant",
        "method": "IPMVP option B/C: OLS of daily kWh on day-of-week (+ non-workday) "
        "fitted before the change",
        "baseline_days": len(yb),
        "reporting_days": len(yr),
        "predicted_kwh": float(pred.sum()),
        "measured_kwh": float(yr.sum()),
        "avoided_kwh": avoided,
        "uncertainty_kwh": u,
        "confidence_level": 0.95,
        "savings_pct": 100.0 * avoided / float(pred.sum()) if pred.sum() else None,
        "cv_rmse": math.sqrt(s2) / mean_b if mean_b else None,
        "r2": 1 - float(resid @ resid) / ss_tot if ss_tot else None,
        "daily": [
            {"day": d.isoformat(), "measured_kwh": float(v), "predicted_kwh": float(pv)}
            for (d, v), pv in zip(reporting, pred, strict=True)
        ],
    }
