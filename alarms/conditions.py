"""Alarm conditions on a series: limit with deadband (hysteresis), then on-/off-delay.

Pure numpy over the new readings of one alarm point, in reading time:

1. ``on``: the value is beyond the limit (``x > high``, ``x < low``); ``off``: it is back
   inside by at least the deadband (``x <= high - deadband``, ``x >= low + deadband``);
   neither (inside the band, or no value): the raw condition holds.
2. the raw condition must hold for ``on_delay`` (``off_delay``) of reading time before the
   debounced condition turns active (normal).

Everything is carried between calls in :class:`DebounceState`, so a series evaluated in
pieces gives the same transitions as in one go; readings at or before ``eval_ts`` are the
caller's to drop (never evaluated twice).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEVER = np.iinfo(np.int64).min // 2  # "raw since the beginning of time"


@dataclass(frozen=True)
class DebounceState:
    eval_ts: int | None = None  # µs of the newest reading evaluated
    raw: bool = False
    raw_since: int | None = None  # µs: reading time the raw condition took its value
    active: bool = False  # debounced condition


@dataclass(frozen=True)
class Change:
    index: int  # position in the evaluated arrays
    active: bool


def limit_masks(
    x: np.ndarray, condition: str, limit: float, deadband: float
) -> tuple[np.ndarray, np.ndarray]:
    """(on, off) for one limit; NaN values are neither."""
    with np.errstate(invalid="ignore"):
        if condition.endswith("high"):
            return x > limit, x <= limit - deadband
        return x < limit, x >= limit + deadband


def _ffill(events: np.ndarray, initial: bool) -> np.ndarray:
    """events: 1 set, 0 reset, -1 hold → the held boolean sequence."""
    n = len(events)
    pos = np.where(events >= 0, np.arange(n), -1)
    np.maximum.accumulate(pos, out=pos)
    return np.where(pos >= 0, events[np.maximum(pos, 0)] == 1, initial)


def debounce(
    ts: np.ndarray,
    on: np.ndarray,
    off: np.ndarray,
    state: DebounceState,
    on_delay_us: int = 0,
    off_delay_us: int = 0,
) -> tuple[DebounceState, list[Change]]:
    """Run the hysteresis and the delays over new readings (``ts`` ascending)."""
    n = len(ts)
    if n == 0:
        return state, []
    if state.raw == state.active and not (off if state.raw else on).any():
        # the common case: nothing moves the raw condition away from the debounced one
        return DebounceState(int(ts[-1]), state.raw, state.raw_since, state.active), []
    ev = np.full(n, -1, np.int8)
    ev[off] = 0
    ev[on] = 1
    raw = _ffill(ev, state.raw)
    prev = np.empty(n, bool)
    prev[0] = state.raw
    prev[1:] = raw[:-1]
    started = np.where(raw != prev, np.arange(n), -1)
    np.maximum.accumulate(started, out=started)
    carried = state.raw_since if state.raw_since is not None else NEVER
    since = np.where(started >= 0, ts[np.maximum(started, 0)], carried)
    held = ts - since
    dv = np.full(n, -1, np.int8)
    dv[~raw & (held >= off_delay_us)] = 0
    dv[raw & (held >= on_delay_us)] = 1
    active = _ffill(dv, state.active)
    before = np.empty(n, bool)
    before[0] = state.active
    before[1:] = active[:-1]
    changes = [Change(int(i), bool(active[i])) for i in np.flatnonzero(active != before)]
    last_since = int(since[-1])
    new = DebounceState(
        eval_ts=int(ts[-1]),
        raw=bool(raw[-1]),
        raw_since=None if last_since == NEVER else last_since,
        active=bool(active[-1]),
    )
    return new, changes
