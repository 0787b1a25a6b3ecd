"""Verified savings on constructed data: a 10 % drop after a date is found within its 95 %
uncertainty; no change is not claimed as a saving."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from recommendations import verification

WEEK = (1000.0, 1010.0, 990.0, 1005.0, 995.0, 600.0, 400.0)
CHANGE = date(2025, 5, 1)


def _days(drop: float, seed: int = 7) -> tuple[list, list, float]:
    rng = np.random.default_rng(seed)
    days = [CHANGE - timedelta(days=120) + timedelta(days=i) for i in range(181)]
    base, rep, expected = [], [], 0.0
    for d in days:
        truth = WEEK[d.weekday()]
        noise = float(rng.normal(0, 15))
        if d < CHANGE:
            base.append((d, truth + noise))
        elif d > CHANGE:
            rep.append((d, truth * (1 - drop) + noise))
            expected += truth * drop
    return base, rep, expected


def test_ten_percent_drop_is_found_within_its_uncertainty() -> None:
    base, rep, expected = _days(0.10)
    r = verification.verify(base, rep)
    assert r["status"] == "verified"
    assert abs(r["avoided_kwh"] - expected) <= r["uncertainty_kwh"]
    assert r["uncertainty_kwh"] < 0.1 * expected  # tight enough that a wrong model fails
    assert r["savings_pct"] == pytest.approx(10.0, abs=0.5)
    assert r["reporting_days"] == 60 and r["baseline_days"] == 120
    assert r["r2"] > 0.95


def test_no_change_is_not_significant() -> None:
    base, rep, _ = _days(0.0)
    r = verification.verify(base, rep)
    assert abs(r["avoided_kwh"]) <= r["uncertainty_kwh"]
    assert r["status"] == "not_significant"


def test_too_little_baseline() -> None:
    base, rep, _ = _days(0.1)
    assert verification.verify(base[-10:], rep)["status"] == "insufficient_data"
