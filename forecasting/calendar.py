"""Working-day calendars: public holidays and make-up working days (调休).

China moves weekend days to build week-long holidays: the State Council's yearly notice
names the days off and the weekend days worked instead (e.g. 2025: Sunday 26 January and
Saturday 8 February were working days for the Spring Festival). A plant's load follows that
arrangement, not the weekday, so every model sees one ``off`` flag per day.

Sources, in order:

- China, 2004 to the newest notice it carries: ``chinese_calendar`` (PyPI
  ``chinesecalendar``), a table of the State Council notices with both holidays and make-up
  working days;
- China outside that range, and every other country (``KR``) or subdivision (``AU-VIC``):
  ``holidays`` (PyPI), public holidays only; its substituted days ("Day off (substituted
  from 01/26/2025)") also name the make-up working day, which is read from the name.

``country=None`` gives weekends only.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd

from core.errors import Invalid

_SUBSTITUTED = re.compile(r"substituted from (\d{2})/(\d{2})/(\d{4})")


class HolidayCalendar:
    """Day types for one country: ``holiday``, ``makeup_workday`` and ``off`` (a holiday,
    or a weekend day that is not a make-up working day)."""

    def __init__(self, country: str | None = "CN") -> None:
        code = (country or "").strip().upper()
        self.country: str | None = None if code in ("", "NONE") else code
        if self.country is not None:
            _country_table(self.country, 2020)  # fail early on an unknown code

    def __repr__(self) -> str:
        return f"HolidayCalendar({self.country!r})"

    def holidays(self, year: int) -> dict[date, str]:
        return {} if self.country is None else _year(self.country, year)[0]

    def makeup_workdays(self, year: int) -> set[date]:
        return set() if self.country is None else _year(self.country, year)[1]

    def day_flags(self, days: pd.DatetimeIndex) -> pd.DataFrame:
        """One row per day in ``days`` (midnights, naive or tz-aware): ``holiday``,
        ``makeup_workday``, ``weekend`` and ``off`` as booleans."""
        dates = [d.date() for d in days]
        holiday: set[date] = set()
        makeup: set[date] = set()
        for year in sorted({d.year for d in dates}):
            holiday.update(self.holidays(year))
            makeup.update(self.makeup_workdays(year))
        hol = np.fromiter((d in holiday for d in dates), bool, len(dates))
        mkp = np.fromiter((d in makeup for d in dates), bool, len(dates))
        weekend = np.asarray(days.day_of_week >= 5)
        return pd.DataFrame(
            {
                "holiday": hol,
                "makeup_workday": mkp,
                "weekend": weekend,
                "off": hol | (weekend & ~mkp),
            },
            index=days,
        )

    def holiday_table(self, start: int, end: int) -> pd.DataFrame:
        """Prophet's ``holidays`` frame (``holiday``, ``ds``) for the years start…end."""
        rows = [
            (name, pd.Timestamp(d))
            for y in range(start, end + 1)
            for d, name in self.holidays(y).items()
        ]
        return pd.DataFrame(rows, columns=["holiday", "ds"])


@lru_cache(maxsize=256)
def _year(country: str, year: int) -> tuple[dict[date, str], set[date]]:
    if country == "CN":
        official = _chinese_calendar(year)
        if official is not None:
            return official
    return _country_table(country, year)


def _chinese_calendar(year: int) -> tuple[dict[date, str], set[date]] | None:
    import chinese_calendar

    first, last = date(year, 1, 1), date(year, 12, 31)
    try:
        days = pd.date_range(first, last, freq="D")
        holidays: dict[date, str] = {}
        makeup: set[date] = set()
        for ts in days:
            d = ts.date()
            is_holiday, name = chinese_calendar.get_holiday_detail(d)
            if is_holiday and name is not None:
                holidays[d] = str(name)
            elif not is_holiday and d.weekday() >= 5:
                makeup.add(d)
    except NotImplementedError:  # the year is outside the notices it carries
        return None
    return holidays, makeup


def _country_table(country: str, year: int) -> tuple[dict[date, str], set[date]]:
    import holidays

    code, _, subdivision = country.partition("-")
    try:
        table = holidays.country_holidays(code, subdiv=subdivision or None, years=year)
    except NotImplementedError:
        raise Invalid(
            "holidays",
            f"no holiday calendar for {country!r} (an ISO 3166 code "
            "such as CN, KR or AU-VIC, or 'none')",
        ) from None
    days = {d: str(name) for d, name in table.items()}
    makeup = set()
    for name in days.values():
        for month, day, yr in _SUBSTITUTED.findall(name):
            makeup.add(date(int(yr), int(month), int(day)))
    return days, makeup
