"""Features for the tree model: calendar, working-day type, seasonal lags and rolling levels.

Every lag reaches at least ``horizon`` steps back, so the same features exist for every step
of a forecast made at the end of the history (a direct multi-step model: no recursion, no
error feedback). With a day-ahead horizon that means "yesterday at this time" and older.

Industrial load follows the working-day type more than the weekday: the Monday after a
holiday week looks like the Friday before it, not like last Monday (a holiday). So besides
the plain seasonal lags the features hold the values at the same time of day on the most
recent days of the same type (working day or day off).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forecasting.base import TARGET, steps_per
from forecasting.calendar import HolidayCalendar

SAME_TYPE_DAYS = 3


def lag_plan(index: pd.DatetimeIndex, horizon: int) -> dict[str, int]:
    """Named lags in steps; each is at least ``horizon``."""
    day, week = steps_per(index, "day"), steps_per(index, "week")
    gap_days = math.ceil(horizon / day)
    gap_weeks = math.ceil(horizon / week)
    plan = {
        "lag_day": gap_days * day,
        "lag_day2": (gap_days + 1) * day,
        "lag_week": gap_weeks * week,
        "lag_week2": (gap_weeks + 1) * week,
    }
    if horizon % day:
        plan["lag_latest"] = horizon
    return plan


def history_needed(index: pd.DatetimeIndex, horizon: int) -> int:
    """Steps of history the features of one forecast reach back."""
    day = steps_per(index, "day")
    return max(lag_plan(index, horizon).values()) + day * (2 * SAME_TYPE_DAYS + 14)


def build(
    frame: pd.DataFrame,
    horizon: int,
    calendar: HolidayCalendar,
    exog: list[str],
    yearly: bool = False,
) -> pd.DataFrame:
    """Features for every row of ``frame`` (history followed by the forecast period, with
    ``y`` NaN there). ``yearly`` adds the day of the year: only worth it when the training
    data hold two years or more (with one, the trees would memorise dates)."""
    index = pd.DatetimeIndex(frame.index)
    y = frame[TARGET].to_numpy(dtype=float)
    day = steps_per(index, "day")
    out = calendar_features(index, calendar)
    if not yearly:
        out = out.drop(columns=["day_of_year"])
    shifted = pd.Series(y)
    for name, lag in lag_plan(index, horizon).items():
        out[name] = shifted.shift(lag).to_numpy()
    base = shifted.shift(horizon)
    out["mean_day"] = base.rolling(day, min_periods=day // 2).mean().to_numpy()
    out["max_day"] = base.rolling(day, min_periods=day // 2).max().to_numpy()
    out["mean_week"] = base.rolling(7 * day, min_periods=3 * day).mean().to_numpy()
    same = same_type_values(
        y, out["off"].to_numpy(), out["day_number"].to_numpy(), day, math.ceil(horizon / day)
    )
    out["same_type_1"] = same[:, 0]
    count = np.isfinite(same).sum(axis=1)
    total = np.where(np.isfinite(same), same, 0.0).sum(axis=1)
    out["same_type_mean"] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    for col in exog:
        out[col] = frame[col].to_numpy(dtype=float)
    return out.drop(columns=["day_number"])


def calendar_features(index: pd.DatetimeIndex, calendar: HolidayCalendar) -> pd.DataFrame:
    """Time of day, weekday, season and day type of each stamp, in the index's local time."""
    wall = index.tz_localize(None) if index.tz is not None else index
    days = wall.normalize()
    span = pd.date_range(days[0] - pd.Timedelta(days=1), days[-1] + pd.Timedelta(days=1), freq="D")
    flags = calendar.day_flags(span)
    off = flags["off"]
    position = span.get_indexer(days)
    off_arr = off.to_numpy()
    out = pd.DataFrame(
        {
            "minute_of_day": wall.hour * 60 + wall.minute,
            "weekday": wall.day_of_week,
            "day_of_year": wall.day_of_year,
            "holiday": flags["holiday"].to_numpy()[position],
            "makeup_workday": flags["makeup_workday"].to_numpy()[position],
            "off": off_arr[position],
            "off_before": off_arr[np.maximum(position - 1, 0)],
            "off_after": off_arr[np.minimum(position + 1, len(span) - 1)],
            "day_number": position,
        }
    )
    return out.astype(
        {
            "holiday": float,
            "makeup_workday": float,
            "off": float,
            "off_before": float,
            "off_after": float,
        }
    )


def same_type_values(
    y: np.ndarray, off: np.ndarray, day_number: np.ndarray, day: int, gap_days: int
) -> np.ndarray:
    """For each row, the values at the same time of day on the ``SAME_TYPE_DAYS`` most recent
    days of the same type (working day / day off) at least ``gap_days`` back."""
    n_days = int(day_number.max()) + 1
    day_off = np.zeros(n_days, dtype=bool)
    day_off[day_number] = off.astype(bool)
    back = np.full((n_days, SAME_TYPE_DAYS), -1, dtype=np.int64)
    seen: dict[bool, list[int]] = {True: [], False: []}
    for d in range(n_days):
        ready = d - gap_days
        if ready >= 0:
            seen[bool(day_off[ready])].append(ready)
        recent = seen[bool(day_off[d])][-SAME_TYPE_DAYS:][::-1]
        for k, j in enumerate(recent):
            back[d, k] = d - j
    rows = np.arange(y.size)
    out = np.full((y.size, SAME_TYPE_DAYS), np.nan)
    for k in range(SAME_TYPE_DAYS):
        gap = back[day_number, k]
        source = rows - gap * day
        ok = (gap > 0) & (source >= 0)
        out[ok, k] = y[source[ok]]
    return out


def same_type_by_gap(
    y: np.ndarray, off: np.ndarray, day_number: np.ndarray, day: int, horizon: int
) -> np.ndarray:
    """The same-type values (``same_type_values``) for every gap a forecast of
    ``horizon`` steps needs, 1 … ⌈horizon / day⌉ days: gaps × rows × ``SAME_TYPE_DAYS``.
    A target ``g`` days past the origin's day reads the days at least ``g`` back — the most
    recent ones the origin has seen. With one gap (a week ahead, seven) the first day of a
    week-ahead forecast read days a week old; per gap, the tuning series' week-ahead mean
    ratio fell from 0.846 to 0.829 (forecasting/README.md, round 11). Day-ahead there is one
    gap: unchanged."""
    gaps = range(1, math.ceil(horizon / day) + 1)
    return np.stack([same_type_values(y, off, day_number, day, g) for g in gaps])
