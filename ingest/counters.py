"""Energy from cumulative registers: the one rule, in numpy here and in SQL
(``ecc_counter_delta``, migration ``0001``); tests prove both agree.

The increase between consecutive readings is the energy of the interval ending at the later
one. A decrease is a rollover when the register was in the top 10 % of its configured maximum
and is now in the bottom 10 %; any other decrease is a reset to zero (meter replaced or
cleared), after which the new value is what was consumed since the reset.
"""

from __future__ import annotations

import numpy as np


def counter_delta(prev: np.ndarray, cur: np.ndarray, rollover: float | None) -> np.ndarray:
    """Element-wise energy; NaN where ``prev`` is NaN (no earlier reading)."""
    prev = np.asarray(prev, np.float64)
    cur = np.asarray(cur, np.float64)
    out = np.where(cur >= prev, cur - prev, cur)
    if rollover is not None:
        wrapped = (cur < prev) & (prev >= 0.9 * rollover) & (cur <= 0.1 * rollover)
        out = np.where(wrapped, (rollover - prev) + cur, out)
    return np.where(np.isnan(prev), np.nan, out)
