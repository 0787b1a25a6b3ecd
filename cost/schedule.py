"""Time-of-use schedules: hours of the site's local day → period, by month and day type.

A schedule row is ``{"period", "hours": ["HH:MM-HH:MM", …], "months": [1..12], "day_type"}``;
``"22:00-24:00"`` ends at midnight and ``"23:00-06:00"`` wraps past it. The rows of a tariff
must cover every minute of every (month, day type) exactly once: a gap or an overlap is an
``Invalid`` naming the row, the month and the hours. Templates (``cost/data``) are resolved
into such exclusive rows: unlisted hours are flat and ``overlay`` rows (sharp, deep valley)
replace the base period for their hours.

**Event days.** Rows with ``day_type`` ``event`` are overlays too, on the event days of the
tariff code (``cost.event_days``: days a notice's condition declares, e.g. Guangdong's sharp
hours on any day Guangzhou's daily maximum reaches 35 °C): on such a day their hours replace
whatever the workday or non-workday rows say; on other days they do nothing. They need not
cover the day, and must not overlap one another.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from core.errors import Invalid

DATA_DIR = Path(__file__).resolve().parent / "data"
PERIODS = ("sharp", "peak", "flat", "valley", "deep_valley")
DAY_TYPES = ("all", "workday", "non_workday", "event")
EVENT_LAYER = 2  # period_grid's layer of the event-day overlay
MINUTES = 1440
ALL_MONTHS = tuple(range(1, 13))


def _minute(text: str, field: str) -> int:
    try:
        hh, mm = text.strip().split(":")
        h, m = int(hh), int(mm)
    except ValueError:
        raise Invalid(field, f"{text!r} is not HH:MM") from None
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise Invalid(field, f"{text!r} is not a time of day (00:00 to 24:00)")
    return h * 60 + m


def parse_range(text: str, field: str) -> list[tuple[int, int]]:
    """``"HH:MM-HH:MM"`` → minute spans [a, b) of the day (two when it wraps midnight)."""
    try:
        a_txt, b_txt = text.split("-")
    except ValueError:
        raise Invalid(field, f"{text!r} is not HH:MM-HH:MM") from None
    a, b = _minute(a_txt, field), _minute(b_txt, field)
    if a == b:
        raise Invalid(field, f"{text!r} is empty")
    if a == MINUTES:
        raise Invalid(field, f"{text!r} starts at 24:00")
    return [(a, b)] if a < b else [(a, MINUTES), (0, b)]


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _spans(mask: np.ndarray) -> list[str]:
    """Minute mask → ``"HH:MM-HH:MM"`` runs."""
    out, i = [], 0
    while i < MINUTES:
        if mask[i]:
            j = i
            while j < MINUTES and mask[j]:
                j += 1
            out.append(f"{_hhmm(i)}-{_hhmm(j)}")
            i = j
        else:
            i += 1
    return out


@dataclass(frozen=True)
class Row:
    period: str
    hours: tuple[str, ...]
    months: tuple[int, ...]
    day_type: str
    price_cny_per_kwh: Decimal


def check_row(raw: dict[str, Any], i: int) -> None:
    field = f"energy_prices[{i}]"
    if raw.get("period") not in PERIODS:
        raise Invalid(f"{field}.period", f"must be one of {', '.join(PERIODS)}")
    if not raw.get("hours"):
        raise Invalid(f"{field}.hours", "give at least one HH:MM-HH:MM range")
    for h in raw["hours"]:
        parse_range(h, f"{field}.hours")
    months = raw.get("months") or list(ALL_MONTHS)
    if any(not isinstance(m, int) or not 1 <= m <= 12 for m in months):
        raise Invalid(f"{field}.months", "months are 1 to 12")
    if raw.get("day_type", "all") not in DAY_TYPES:
        raise Invalid(f"{field}.day_type", f"must be one of {', '.join(DAY_TYPES)}")


def period_grid(rows: list[Row]) -> np.ndarray:
    """``[day_type (0 workday, 1 non-workday, 2 event overlay), month - 1, minute]`` → index
    into ``rows`` (−1 in the event layer where no event row applies).

    Raises ``Invalid`` naming the first gap (workday and non-workday layers) or overlap."""
    grid = np.full((3, 12, MINUTES), -1, np.int32)
    for i, row in enumerate(rows):
        kinds = {"all": (0, 1), "workday": (0,), "non_workday": (1,), "event": (EVENT_LAYER,)}[
            row.day_type
        ]
        for h in row.hours:
            for a, b in parse_range(h, f"energy_prices[{i}].hours"):
                for k in kinds:
                    for m in row.months:
                        cell = grid[k, m - 1, a:b]
                        if (cell >= 0).any():
                            j = int(cell[cell >= 0][0])
                            at = a + int(np.argmax(cell >= 0))
                            raise Invalid(
                                f"energy_prices[{i}].hours",
                                f"overlap: {rows[j].period} (energy_prices[{j}]) and "
                                f"{row.period} both cover {_hhmm(at)} in month {m}"
                                + (" on an event day" if k == EVENT_LAYER else ""),
                            )
                        cell[:] = i
    for k, kind in enumerate(("workday", "non_workday")):
        for m in range(12):
            gap = grid[k, m] < 0
            if gap.any():
                raise Invalid(
                    "energy_prices",
                    f"gap: no period covers {', '.join(_spans(gap))} in month {m + 1}"
                    + (f" on a {kind}" if (grid[1 - k, m] >= 0).any() else ""),
                )
    return grid


# --- templates ----------------------------------------------------------------------------


@lru_cache
def manifest() -> dict[str, Any]:
    return yaml.safe_load((DATA_DIR / "MANIFEST.yaml").read_text(encoding="utf-8"))


@lru_cache
def _template_rows() -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    with (DATA_DIR / "tou_templates.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            out.setdefault(r["template"], []).append(r)
    return out


def templates() -> dict[str, dict[str, Any]]:
    """Every shipped template: its manifest entry and its source rows."""
    meta = manifest()["templates"]
    return {name: {**meta[name], "rows": rows} for name, rows in _template_rows().items()}


def _months(text: str) -> tuple[int, ...]:
    return ALL_MONTHS if text.strip() == "all" else tuple(int(m) for m in text.split(","))


def expand_template(name: str, flat_price: Decimal) -> list[dict[str, Any]]:
    """A template as exclusive schedule rows with absolute prices (flat × multiplier)."""
    rows = _template_rows().get(name)
    if rows is None:
        raise Invalid(
            "template", f"unknown template {name!r}; known: {', '.join(_template_rows())}"
        )
    # per month: minute → source row index (flat where nothing is listed)
    out: list[dict[str, Any]] = []
    for month in ALL_MONTHS:
        owner = np.full(MINUTES, -1, np.int32)
        mine = [
            (i, r)
            for i, r in enumerate(rows)
            if month in _months(r["months"]) and r["overlay"] != "event"
        ]
        for overlay in ("no", "yes"):
            for i, r in mine:
                if r["overlay"] != overlay:
                    continue
                for h in r["hours"].split(";"):
                    for a, b in parse_range(h, "template"):
                        owner[a:b] = i
        periods: dict[tuple[str, Decimal, str], np.ndarray] = {}
        for i in range(-1, len(rows)):
            mask = owner == i
            if not mask.any():
                continue
            if i < 0:
                key = ("flat", Decimal(1), "unlisted hours are flat (notice)")
            else:
                r = rows[i]
                key = (r["period"], Decimal(r["multiplier_to_flat"]), r["verification"])
            periods[key] = periods.get(key, np.zeros(MINUTES, bool)) | mask
        for (period, mult, verification), mask in periods.items():
            out.append(
                {
                    "period": period,
                    "hours": _spans(mask),
                    "months": [month],
                    "day_type": "all",
                    "multiplier_to_flat": mult,
                    "price_cny_per_kwh": flat_price * mult,
                    "verification": verification,
                }
            )
    for r in rows:  # event-day overlays: their own hours, on the tariff code's event days
        if r["overlay"] == "event":
            mult = Decimal(r["multiplier_to_flat"])
            out.append(
                {
                    "period": r["period"],
                    "hours": r["hours"].split(";"),
                    "months": list(_months(r["months"])),
                    "day_type": "event",
                    "multiplier_to_flat": mult,
                    "price_cny_per_kwh": flat_price * mult,
                    "verification": r["verification"],
                }
            )
    return _merge_months(out)


def _merge_months(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows that differ only in their month become one row with several months."""
    merged: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        key = (r["period"], tuple(r["hours"]), r["day_type"], r["price_cny_per_kwh"])
        if key in merged:
            merged[key]["months"].append(r["months"][0])
        else:
            merged[key] = {**r, "months": list(r["months"])}
    return list(merged.values())
