"""metering.clock: local days, months and years of a zone as UTC instants, worked by hand.

Asia/Shanghai is UTC+8 (midnight 16:00 UTC), Asia/Seoul UTC+9 (15:00 UTC), Asia/Kolkata
UTC+5:30 (18:30 UTC, not on a whole hour); Europe/Berlin changes clocks on 30 March 2025
(02:00 → 03:00, a 23-hour day) and 26 October 2025 (03:00 → 02:00, a 25-hour day).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.errors import Invalid
from core.settings import get_settings
from metering import clock


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "midnight"),
    [
        ("Asia/Shanghai", utc(2025, 3, 10, 16)),
        ("Asia/Seoul", utc(2025, 3, 10, 15)),
        ("Asia/Kolkata", utc(2025, 3, 10, 18, 30)),
        ("UTC", utc(2025, 3, 11)),
    ],
)
def test_local_midnight_of_each_zone(tz: str, midnight: datetime) -> None:
    assert clock.local_midnight(date(2025, 3, 11), tz) == midnight
    assert clock.is_midnight(midnight, tz)
    assert not clock.is_midnight(midnight + timedelta(microseconds=1), tz)
    # the day holding an instant starts at the midnight before it (or at it)
    assert clock.day_start(midnight, tz) == midnight
    assert clock.day_start(midnight + timedelta(hours=23, minutes=59), tz) == midnight
    assert clock.day_start(midnight - timedelta(microseconds=1), tz) == midnight - timedelta(days=1)
    # end-closed day buckets: a reading stamped at midnight closes the day before
    assert clock.day_bucket_start(midnight, tz) == midnight - timedelta(days=1)
    assert clock.day_bucket_start(midnight + timedelta(microseconds=1), tz) == midnight
    assert clock.next_midnight(midnight, tz) == midnight
    assert clock.next_midnight(midnight + timedelta(seconds=1), tz) == midnight + timedelta(days=1)


def test_day_span_covers_days_starting_in_the_window() -> None:
    # days whose start lies in [start, end): Kolkata midnights 18:30 UTC
    lo, hi = clock.day_span(utc(2025, 3, 10), utc(2025, 3, 13), "Asia/Kolkata")
    assert (lo, hi) == (utc(2025, 3, 10, 18, 30), utc(2025, 3, 13, 18, 30))
    # a window that is one local day exactly
    day = clock.local_midnight(date(2025, 3, 11), "Asia/Seoul")
    assert clock.day_span(day, day + timedelta(days=1), "Asia/Seoul") == (
        day,
        day + timedelta(days=1),
    )
    # no local midnight inside: empty
    lo, hi = clock.day_span(utc(2025, 3, 10, 17), utc(2025, 3, 10, 18), "Asia/Kolkata")
    assert lo == hi


def test_day_level_follows_the_offset() -> None:
    lo, hi = utc(2025, 1, 1), utc(2025, 12, 31)
    assert clock.day_level("Asia/Shanghai", lo, hi) == "1h"
    assert clock.day_level("Asia/Seoul", lo, hi) == "1h"
    assert clock.day_level("Europe/Berlin", lo, hi) == "1h"  # DST shifts whole hours
    assert clock.day_level("Asia/Kolkata", lo, hi) == "15m"
    assert clock.day_level("Asia/Kathmandu", lo, hi) == "15m"  # +05:45
    # Australia/Lord_Howe: +10:30 in winter, +11 in summer (half-hour DST)
    assert clock.day_level("Australia/Lord_Howe", lo, hi) == "15m"


def test_dst_days_last_23_and_25_hours() -> None:
    berlin = "Europe/Berlin"
    lo, hi = clock.period_bounds("day", date(2025, 3, 30), berlin)
    assert (lo, hi) == (utc(2025, 3, 29, 23), utc(2025, 3, 30, 22))
    assert hi - lo == timedelta(hours=23)
    lo, hi = clock.period_bounds("day", date(2025, 10, 26), berlin)
    assert (lo, hi) == (utc(2025, 10, 25, 22), utc(2025, 10, 26, 23))
    assert hi - lo == timedelta(hours=25)
    # an instant in the long day belongs to it, also in the repeated hour
    assert clock.day_start(utc(2025, 10, 26, 0, 30), berlin) == utc(2025, 10, 25, 22)
    assert clock.day_start(utc(2025, 10, 26, 1, 30), berlin) == utc(2025, 10, 25, 22)
    assert clock.next_midnight(utc(2025, 10, 26, 1), berlin) == utc(2025, 10, 26, 23)


@pytest.mark.parametrize(
    ("period", "day", "tz", "start", "end"),
    [
        (
            "day",
            date(2025, 3, 11),
            "Asia/Kolkata",
            utc(2025, 3, 10, 18, 30),
            utc(2025, 3, 11, 18, 30),
        ),
        ("month", date(2025, 2, 14), "Asia/Seoul", utc(2025, 1, 31, 15), utc(2025, 2, 28, 15)),
        ("month", date(2025, 12, 5), "Asia/Shanghai", utc(2025, 11, 30, 16), utc(2025, 12, 31, 16)),
        (
            "year",
            date(2024, 7, 1),
            "Asia/Kolkata",
            utc(2023, 12, 31, 18, 30),
            utc(2024, 12, 31, 18, 30),
        ),
        ("year", date(2025, 7, 1), "Europe/Berlin", utc(2024, 12, 31, 23), utc(2025, 12, 31, 23)),
    ],
)
def test_period_bounds(period: str, day: date, tz: str, start: datetime, end: datetime) -> None:
    assert clock.period_bounds(period, day, tz) == (start, end)


def test_zones_by_name_and_the_default() -> None:
    assert clock.zone("Asia/Kolkata").key == "Asia/Kolkata"
    assert clock.zone(None).key == get_settings().timezone == clock.default_zone_name()
    with pytest.raises(Invalid) as err:
        clock.zone("Asia/Atlantis")
    assert err.value.field == "timezone"
    with pytest.raises(Invalid) as err:
        clock.period_bounds("week", date(2025, 1, 1), "UTC")
    assert err.value.field == "period"


def test_fixed_offset_tells_when_days_are_24_hours() -> None:
    year = (utc(2025, 1, 1), utc(2025, 12, 31))
    assert clock.fixed_offset("Asia/Kolkata", *year)
    assert clock.fixed_offset("Asia/Seoul", *year)
    assert not clock.fixed_offset("Europe/Berlin", *year)
    assert clock.fixed_offset("Europe/Berlin", utc(2025, 4, 1), utc(2025, 10, 1))  # summer
