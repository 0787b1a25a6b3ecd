"""Working-day calendars: China's holidays and make-up working days (调休), other countries."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from core.errors import Invalid
from forecasting.calendar import HolidayCalendar, _chinese_calendar, _country_table

# State Council notice for 2025: Spring Festival 28 Jan–4 Feb off, Sunday 26 Jan and
# Saturday 8 Feb worked; National Day 1–8 Oct off, Sunday 28 Sep and Saturday 11 Oct worked.
MAKEUP_2025 = {
    date(2025, 1, 26),
    date(2025, 2, 8),
    date(2025, 4, 27),
    date(2025, 9, 28),
    date(2025, 10, 11),
}


def test_china_2025_from_the_state_council_table() -> None:
    cn = HolidayCalendar("CN")
    assert cn.makeup_workdays(2025) == MAKEUP_2025
    flags = cn.day_flags(pd.date_range("2025-01-25", "2025-02-09"))
    off = {d.date() for d in flags.index[flags["off"]]}
    assert off == {
        date(2025, 1, 25),
        *(date(2025, 1, d) for d in range(28, 32)),
        *(date(2025, 2, d) for d in range(1, 5)),
        date(2025, 2, 9),
    }
    assert flags.at[pd.Timestamp("2025-01-26"), "makeup_workday"]


def test_both_sources_agree_on_china_2025() -> None:
    official = _chinese_calendar(2025)
    fallback = _country_table("CN", 2025)
    assert official is not None
    assert official[1] == fallback[1] == MAKEUP_2025  # read from "substituted from …" names
    assert set(fallback[0]) <= set(official[0])  # weekend days inside a break are not listed


def test_other_countries_subdivisions_and_none() -> None:
    kr = HolidayCalendar("KR")
    assert date(2018, 12, 25) in kr.holidays(2018)  # the steel plant's Christmas
    assert date(2013, 11, 5) in HolidayCalendar("AU-VIC").holidays(2013)  # Melbourne Cup
    none = HolidayCalendar("none")
    flags = none.day_flags(pd.date_range("2025-10-01", "2025-10-05"))
    assert flags["off"].tolist() == [False, False, False, True, True]  # weekends only
    with pytest.raises(Invalid, match="holidays"):
        HolidayCalendar("XX")
