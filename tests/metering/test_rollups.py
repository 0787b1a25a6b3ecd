"""Rollups of delta and gauge meters at 1 min, 15 min, 1 h and 1 day.

A bucket covers (start, start + width]: a reading stamped exactly on a boundary closes the
bucket before it (meter intervals are stamped by their end). The API labels a bucket by its
start. Day buckets are local days of the site's zone (the test sites take ECC_TIMEZONE,
Asia/Shanghai by default).
For a gauge a bucket reports n, min, max, avg (the point's value) and last; for a delta meter
the point's value is the sum of the readings.
"""

from __future__ import annotations

import math
import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as h_settings
from hypothesis import strategies as st
from sqlalchemy import text

from metering import clock
from tests.support.rollups import settle_rollups

US = timedelta(microseconds=1)
ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
WIDTHS = {"1m": timedelta(minutes=1), "15m": timedelta(minutes=15), "1h": timedelta(hours=1)}
LEVELS = ("1m", "15m", "1h", "1d")
SHANGHAI = ZoneInfo("Asia/Shanghai")

PROPERTY = h_settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


# --- helpers -----------------------------------------------------------------------------------


def bucket_start(ts: datetime, level: str, day_tz: ZoneInfo) -> datetime:
    """Start of the end-closed bucket (start, start + width] holding ``ts`` (UTC)."""
    t = ts - US
    if level == "1d":
        local = t.astimezone(day_tz)
        return datetime(local.year, local.month, local.day, tzinfo=day_tz).astimezone(UTC)
    width = WIDTHS[level]
    return ORIGIN + ((t - ORIGIN) // width) * width


def utc(s: str) -> datetime:
    return datetime.fromisoformat(s).astimezone(UTC)


class Api:
    """The HTTP API as these tests use it (admin key). Reads of rollups first wait for the
    meter's queued rollup work (see :meth:`settle`)."""

    def __init__(self, client, headers: dict, engine) -> None:  # noqa: ANN001
        self.client, self.headers, self.engine = client, headers, engine
        self.site_meters: dict[str, list[str]] = {}

    def post(self, rows: list[dict]) -> dict:
        r = self.client.post("/api/v1/readings", json={"readings": rows}, headers=self.headers)
        assert r.status_code == 200, r.text
        return r.json()

    def new_meter(self, kind: str) -> tuple[str, str]:
        """A fresh site with one meter of ``kind``: (site, meter)."""
        uid = uuid.uuid4().hex[:10]
        site, code = f"SR-{uid}", f"{kind.upper()}-{uid}"
        r = self.client.post(
            "/api/v1/sites", json={"code": site, "name": "rollup site"}, headers=self.headers
        )
        assert r.status_code == 201, r.text
        unit = "kW" if kind == "gauge" else "kWh"
        r = self.client.post(
            "/api/v1/meters",
            headers=self.headers,
            json={
                "code": code,
                "name": kind,
                "site": site,
                "carrier": "electricity",
                "unit": unit,
                "kind": kind,
                "interval_s": 60,
            },
        )
        assert r.status_code == 201, r.text
        self.site_meters[site] = [code]
        return site, code

    def get_series(self, code: str, start: datetime, end: datetime, resolution: str):  # noqa: ANN201
        r = self.client.get(
            f"/api/v1/meters/{code}/series",
            headers=self.headers,
            params={"start": start.isoformat(), "end": end.isoformat(), "resolution": resolution},
        )
        assert r.status_code == 200, r.text
        return {utc(p["ts"]): p for p in r.json()["points"]}

    def series(
        self, code: str, start: datetime, end: datetime, resolution: str
    ) -> dict[datetime, dict]:
        """Points of one level keyed by their (UTC) bucket start."""
        self.settle(code)
        return self.get_series(code, start, end, resolution)

    def total(self, site: str, start: datetime, end: datetime) -> float:
        for code in self.site_meters[site]:
            self.settle(code)
        r = self.client.get(
            f"/api/v1/sites/{site}/totals",
            headers=self.headers,
            params={"start": start.isoformat(), "end": end.isoformat()},
        )
        assert r.status_code == 200, r.text
        carriers = r.json()["carriers"]
        assert len(carriers) == 1, carriers
        return carriers[0]["total"]

    def settle(self, code: str, timeout_s: float = 60.0) -> None:
        settle_rollups(self.engine, self.client, self.headers, code, timeout_s)


@pytest.fixture(scope="module")
def api(client, admin_headers, engine) -> Api:  # noqa: ANN001
    return Api(client, admin_headers, engine)


def gauge_view(points: dict[datetime, dict]) -> dict[datetime, tuple]:
    return {k: (p["n"], p["min"], p["max"], p["avg"], p["last"]) for k, p in points.items()}


@pytest.fixture(scope="module")
def day_tz() -> ZoneInfo:
    """The test sites are created without a timezone: their days are ECC_TIMEZONE's."""
    return clock.zone(None)


# --- hand-computed examples ----------------------------------------------------------------------


def T(hms: str, day: str = "2025-06-01") -> datetime:  # noqa: N802
    return datetime.fromisoformat(f"{day}T{hms}+00:00")


GAUGE = [  # (ts UTC, kW)
    ("00:00:00", 10.0),  # on the 00:00 boundary: closes the buckets *before* 00:00
    ("00:00:20", 4.0),
    ("00:00:40", 8.0),
    ("00:01:00", 6.0),  # closes the 1-min bucket labelled 00:00
    ("00:07:00", 1.0),
    ("00:15:00", 20.0),  # closes the 15-min bucket labelled 00:00
    ("00:15:30", 3.0),
    ("01:00:00", 5.0),  # closes the hour labelled 00:00
    ("01:00:01", 7.0),
]


def test_gauge_min_max_avg_last_n_per_level(api: Api, day_tz: ZoneInfo) -> None:
    _, code = api.new_meter("gauge")
    rows = [{"meter": code, "ts": T(t).isoformat(), "value": v} for t, v in GAUGE]
    # out of order, in two requests
    assert api.post(rows[5:] + rows[:1])["accepted"] == 5
    assert api.post(rows[4:0:-1])["accepted"] == 4
    lo, hi = T("00:00", "2025-05-30"), T("00:00", "2025-06-03")

    # (n, min, max, avg, last) per bucket start
    assert gauge_view(api.series(code, lo, hi, "1m")) == {
        T("23:59", "2025-05-31"): (1, 10.0, 10.0, 10.0, 10.0),
        T("00:00"): (3, 4.0, 8.0, 6.0, 6.0),
        T("00:06"): (1, 1.0, 1.0, 1.0, 1.0),
        T("00:14"): (1, 20.0, 20.0, 20.0, 20.0),
        T("00:15"): (1, 3.0, 3.0, 3.0, 3.0),
        T("00:59"): (1, 5.0, 5.0, 5.0, 5.0),
        T("01:00"): (1, 7.0, 7.0, 7.0, 7.0),
    }
    assert gauge_view(api.series(code, lo, hi, "15m")) == {
        T("23:45", "2025-05-31"): (1, 10.0, 10.0, 10.0, 10.0),
        T("00:00"): (5, 1.0, 20.0, pytest.approx(39 / 5), 20.0),  # 4, 8, 6, 1, 20
        T("00:15"): (1, 3.0, 3.0, 3.0, 3.0),
        T("00:45"): (1, 5.0, 5.0, 5.0, 5.0),
        T("01:00"): (1, 7.0, 7.0, 7.0, 7.0),
    }
    assert gauge_view(api.series(code, lo, hi, "1h")) == {
        T("23:00", "2025-05-31"): (1, 10.0, 10.0, 10.0, 10.0),
        T("00:00"): (7, 1.0, 20.0, pytest.approx(47 / 7), 5.0),  # 4, 8, 6, 1, 20, 3, 5
        T("01:00"): (1, 7.0, 7.0, 7.0, 7.0),
    }
    if day_tz.key == "Asia/Shanghai":  # all nine are on 2025-06-01, 08:00–09:00 local
        assert gauge_view(api.series(code, lo, hi, "1d")) == {
            T("16:00", "2025-05-31"): (9, 1.0, 20.0, pytest.approx(64 / 9), 7.0),
        }
    # the point's value of a gauge bucket is its average
    pts = api.series(code, lo, hi, "15m")
    assert pts[T("00:00")]["value"] == pytest.approx(7.8)

    # late data after the buckets were rolled up: every level that holds it is updated, and
    # "last" follows the timestamp, not the arrival
    assert (
        api.post(
            [
                {"meter": code, "ts": T("00:10:00").isoformat(), "value": 100.0},
                {"meter": code, "ts": T("00:20:00").isoformat(), "value": -2.0},
            ]
        )["accepted"]
        == 2
    )
    m15 = gauge_view(api.series(code, lo, hi, "15m"))
    assert m15[T("00:00")] == (6, 1.0, 100.0, pytest.approx(139 / 6), 20.0)
    assert m15[T("00:15")] == (2, -2.0, 3.0, pytest.approx(0.5), -2.0)
    assert m15[T("00:45")] == (1, 5.0, 5.0, 5.0, 5.0)  # untouched
    h1 = gauge_view(api.series(code, lo, hi, "1h"))
    assert h1[T("00:00")] == (9, -2.0, 100.0, pytest.approx(145 / 9), 5.0)
    m1 = gauge_view(api.series(code, lo, hi, "1m"))
    assert m1[T("00:09")] == (1, 100.0, 100.0, 100.0, 100.0)
    assert m1[T("00:19")] == (1, -2.0, -2.0, -2.0, -2.0)
    if day_tz.key == "Asia/Shanghai":
        d1 = gauge_view(api.series(code, lo, hi, "1d"))
        assert d1 == {T("16:00", "2025-05-31"): (11, -2.0, 100.0, pytest.approx(162 / 11), 7.0)}


def test_delta_boundaries_and_late_data(api: Api) -> None:
    site, code = api.new_meter("delta")
    day = "2025-06-02"
    assert (
        api.post(
            [
                {
                    "meter": code,
                    "ts": T("00:15:00", day).isoformat(),
                    "value": 5.0,
                },  # → 00:00 bucket
                {
                    "meter": code,
                    "ts": T("00:15:00.000001", day).isoformat(),
                    "value": 0.25,
                },  # → 00:15
                {
                    "meter": code,
                    "ts": T("00:30:00", day).isoformat(),
                    "value": 7.0,
                },  # → 00:15 bucket
                {
                    "meter": code,
                    "ts": T("01:00:00", day).isoformat(),
                    "value": 1.5,
                },  # → 00:45 bucket
            ]
        )["accepted"]
        == 4
    )
    lo, hi = T("00:00", "2025-06-01"), T("00:00", "2025-06-04")

    def values(level: str) -> dict[datetime, tuple[float, int]]:
        return {k: (p["value"], p["n"]) for k, p in api.series(code, lo, hi, level).items()}

    assert values("15m") == {
        T("00:00", day): (5.0, 1),
        T("00:15", day): (7.25, 2),
        T("00:45", day): (1.5, 1),
    }
    assert values("1h") == {T("00:00", day): (13.75, 4)}
    one_hour = (T("00:00", day), T("01:00", day))
    assert api.total(site, *one_hour) == 13.75

    # late readings into buckets that were already rolled up
    assert (
        api.post(
            [
                {"meter": code, "ts": T("00:05:00", day).isoformat(), "value": 2.0},
                {"meter": code, "ts": T("00:45:00", day).isoformat(), "value": 0.5},
            ]
        )["accepted"]
        == 2
    )
    assert values("1m")[T("00:04", day)] == (2.0, 1)
    assert values("15m") == {
        T("00:00", day): (7.0, 2),
        T("00:15", day): (7.25, 2),
        T("00:30", day): (0.5, 1),
        T("00:45", day): (1.5, 1),
    }
    assert values("1h") == {T("00:00", day): (16.25, 6)}
    assert sum(v for v, _ in values("1d").values()) == 16.25
    assert api.total(site, *one_hour) == 16.25


def test_day_bucket_follows_shanghai_local_days(api: Api, day_tz: ZoneInfo) -> None:
    if day_tz.key != "Asia/Shanghai":
        pytest.skip(f"the test sites' zone is {day_tz.key}, not Asia/Shanghai")
    site, code = api.new_meter("delta")
    assert (
        api.post(
            [
                {"meter": code, "ts": "2026-01-01T00:00:00+08:00", "value": 1.0},  # ends 2025-12-31
                {"meter": code, "ts": "2026-01-01T00:00:01+08:00", "value": 2.0},  # 2026-01-01
                {"meter": code, "ts": "2026-01-01T16:00:00Z", "value": 4.0},  # = 01-02 00:00
                {"meter": code, "ts": "2026-01-01T16:00:00.000001Z", "value": 8.0},  # 2026-01-02
            ]
        )["accepted"]
        == 4
    )
    lo, hi = utc("2025-12-30T00:00:00+08:00"), utc("2026-01-04T00:00:00+08:00")
    days = {
        k.astimezone(SHANGHAI): (p["value"], p["n"])
        for k, p in api.series(code, lo, hi, "1d").items()
    }
    assert days == {
        datetime(2025, 12, 31, tzinfo=SHANGHAI): (1.0, 1),
        datetime(2026, 1, 1, tzinfo=SHANGHAI): (6.0, 2),
        datetime(2026, 1, 2, tzinfo=SHANGHAI): (8.0, 1),
    }
    hours = {k: p["value"] for k, p in api.series(code, lo, hi, "1h").items()}
    assert hours == {
        utc("2025-12-31T15:00:00Z"): 1.0,
        utc("2025-12-31T16:00:00Z"): 2.0,
        utc("2026-01-01T15:00:00Z"): 4.0,
        utc("2026-01-01T16:00:00Z"): 8.0,
    }
    # totals over the local day (served from day buckets) and over the UTC day (hour buckets)
    local_day = (utc("2026-01-01T00:00:00+08:00"), utc("2026-01-02T00:00:00+08:00"))
    assert api.total(site, *local_day) == 6.0
    assert api.total(site, utc("2026-01-01T00:00:00Z"), utc("2026-01-02T00:00:00Z")) == 12.0
    # one end on a local midnight, the other not: not a whole number of day buckets
    assert api.total(site, local_day[0], utc("2026-01-01T12:00:00Z")) == 2.0
    assert api.total(site, utc("2025-12-31T12:00:00Z"), local_day[0]) == 1.0
    assert api.total(site, local_day[0], utc("2026-01-01T16:00:00.5Z")) == 14.0


def test_reader_waits_for_a_busy_refresher(api: Api, settings) -> None:  # noqa: ANN001
    """Read-your-writes while another refresher is folding the same meter's queued work.

    The series of a committed reading must show it, even when the API's background rollup
    worker has just taken that meter's queue entry and not yet committed. Simulated here by
    holding the entry exactly as the worker does (``DELETE … FOR UPDATE SKIP LOCKED`` in an
    open transaction); the refresher then gives up, so the entry is queued again.
    """
    with api.engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('rollup_pending')")).scalar() is None:
            pytest.skip("no rollup queue on this database: rollups are written with readings")
    _, code = api.new_meter("delta")
    t = datetime(2025, 5, 1, 0, 15, tzinfo=UTC)
    url = settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    got: dict = {}
    with psycopg.connect(url) as refresher:
        refresher.execute("SET lock_timeout = '20s'")
        api.post([{"meter": code, "ts": t.isoformat(), "value": 3.0}])
        held = refresher.execute(
            "DELETE FROM rollup_pending WHERE id IN (SELECT p.id FROM rollup_pending p "
            "JOIN meter m ON m.id = p.meter_id WHERE m.code = %s FOR UPDATE SKIP LOCKED) "
            "RETURNING id",
            (code,),
        ).fetchall()
        if not held:
            pytest.skip("the background worker folded the entry first; nothing to hold")
        reader = threading.Thread(
            target=lambda: got.update(
                api.get_series(code, t - timedelta(hours=1), t + timedelta(hours=1), "15m")
            )
        )
        reader.start()
        reader.join(1.0)  # a correct reader may wait for the refresher
        refresher.rollback()  # the refresher gives up: the entry is queued again
    reader.join(30)
    assert not reader.is_alive()
    assert {k: (p["value"], p["n"]) for k, p in got.items()} == {
        t - timedelta(minutes=15): (3.0, 1)
    }


def test_refolding_two_ranges_of_one_day_is_idempotent(api: Api, day_tz: ZoneInfo) -> None:
    """Recomputing rollups is idempotent: queueing ranges again changes nothing, also when
    one refresh takes two ranges of the same meter that fall on the same local day."""
    with api.engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('rollup_pending')")).scalar() is None:
            pytest.skip("no rollup queue on this database: rollups are written with readings")
    _, code = api.new_meter("delta")
    a, b = T("02:00", "2025-06-03"), T("05:00", "2025-06-03")  # 3 h apart, one local day
    for ts, v in ((a, 1.0), (b, 2.0)):
        api.post([{"meter": code, "ts": ts.isoformat(), "value": v}])
        api.settle(code)
    lo, hi = T("00:00", "2025-06-01"), T("00:00", "2025-06-05")
    day = {k: (p["value"], p["n"]) for k, p in api.series(code, lo, hi, "1d").items()}
    assert day == {bucket_start(a, "1d", day_tz): (3.0, 2)}
    # the two writes' ranges queued again, visible at once, so one refresh takes both
    with api.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO rollup_pending (meter_id, lo, hi) "
                "SELECT id, :a, :a FROM meter WHERE code = :c UNION ALL "
                "SELECT id, :b, :b FROM meter WHERE code = :c"
            ),
            {"a": a, "b": b, "c": code},
        )
    day = {k: (p["value"], p["n"]) for k, p in api.series(code, lo, hi, "1d").items()}
    assert day == {bucket_start(a, "1d", day_tz): (3.0, 2)}
    hour = {k: (p["value"], p["n"]) for k, p in api.series(code, lo, hi, "1h").items()}
    assert hour == {T("01:00", "2025-06-03"): (1.0, 1), T("04:00", "2025-06-03"): (2.0, 1)}


# --- properties ----------------------------------------------------------------------------------

BASE = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)
SPAN_US = 3 * 86_400 * 10**6  # three days: several Shanghai days, hours and 15-min buckets

offsets_us = st.one_of(
    st.integers(0, SPAN_US),  # anywhere, microsecond precision
    st.integers(0, SPAN_US // 60_000_000).map(lambda k: k * 60_000_000),  # on minute boundaries
    st.integers(0, SPAN_US // 900_000_000).map(lambda k: k * 900_000_000),  # on 15-min ones
)
ZONES = (
    UTC,
    timezone(timedelta(hours=8)),
    timezone(timedelta(hours=9)),
    timezone(timedelta(hours=-3, minutes=-30)),
)


@st.composite
def sendings(draw, values: st.SearchStrategy[float]) -> tuple[list, list[list[int]], int]:  # noqa: ANN001
    """Readings [(ts, value, zone)], the request batches (indexes, with resends), resends."""
    offs = draw(st.lists(offsets_us, min_size=1, max_size=150, unique=True))
    vals = draw(st.lists(values, min_size=len(offs), max_size=len(offs)))
    zones = draw(st.lists(st.sampled_from(ZONES), min_size=len(offs), max_size=len(offs)))
    readings = [
        (BASE + timedelta(microseconds=o), v, z) for o, v, z in zip(offs, vals, zones, strict=True)
    ]
    m = len(readings)
    order = draw(st.permutations(range(m)))
    n_batches = draw(st.integers(1, min(6, m)))
    cuts = (
        sorted(
            draw(
                st.sets(
                    st.integers(1, max(1, m - 1)), min_size=n_batches - 1, max_size=n_batches - 1
                )
            )
        )
        if m > 1
        else []
    )
    bounds = [0, *cuts, m]
    batches = [list(order[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    resends = draw(
        st.lists(st.tuples(st.integers(0, m - 1), st.integers(0, len(batches) - 1)), max_size=6)
    )
    for i, b in resends:
        batches[b].append(i)
    return readings, batches, len(resends)


def send(api: Api, code: str, readings, batches) -> tuple[int, int]:  # noqa: ANN001
    accepted = duplicates = 0
    for batch in batches:
        out = api.post(
            [
                {
                    "meter": code,
                    "ts": readings[i][0].astimezone(readings[i][2]).isoformat(),
                    "value": readings[i][1],
                }
                for i in batch
            ]
        )
        assert out["rejected"] == []
        accepted += out["accepted"]
        duplicates += out["duplicates"]
    return accepted, duplicates


def groups(readings, level: str, day_tz: ZoneInfo):  # noqa: ANN001, ANN201
    """numpy: bucket starts (µs since epoch), values, and group boundaries per bucket."""
    keys = np.array(
        [int(bucket_start(ts, level, day_tz).timestamp()) * 10**6 for ts, _, _ in readings],
        dtype=np.int64,
    )
    vals = np.array([v for _, v, _ in readings], dtype=np.float64)
    order = np.argsort(keys, kind="stable")
    keys, vals = keys[order], vals[order]
    uniq, first, counts = np.unique(keys, return_index=True, return_counts=True)
    return uniq, first, counts, vals


def as_dt(us: np.int64) -> datetime:
    return datetime.fromtimestamp(int(us) // 10**6, UTC)


@PROPERTY
@given(case=sendings(st.floats(0, 1e6, allow_nan=False, allow_infinity=False)))
def test_delta_sums_match_at_every_level(api: Api, day_tz: ZoneInfo, case) -> None:  # noqa: ANN001
    readings, batches, n_resends = case
    site, code = api.new_meter("delta")
    assert send(api, code, readings, batches) == (len(readings), n_resends)
    total = math.fsum(v for _, v, _ in readings)
    lo, hi = BASE - timedelta(days=2), BASE + timedelta(days=5)
    approx = lambda x: pytest.approx(x, rel=1e-9, abs=1e-6)  # noqa: E731
    for level in LEVELS:
        got = api.series(code, lo, hi, level)
        uniq, first, counts, vals = groups(readings, level, day_tz)
        sums = np.add.reduceat(vals, first)
        assert sorted(got) == [as_dt(k) for k in uniq], level
        for k, s, n in zip(uniq, sums, counts, strict=True):
            p = got[as_dt(k)]
            assert (p["value"], p["n"]) == (approx(s), n), (level, as_dt(k))
        assert math.fsum(p["value"] for p in got.values()) == approx(total), level
        assert sum(p["n"] for p in got.values()) == len(readings), level
    # totals over local days (day buckets), whole hours (hour buckets) and the exact span (raw
    # readings or minute buckets)
    first_ts = min(ts for ts, _, _ in readings)
    last_ts = max(ts for ts, _, _ in readings)
    day_lo = bucket_start(first_ts, "1d", day_tz)
    assert api.total(
        site, day_lo, bucket_start(last_ts, "1d", day_tz) + timedelta(days=1)
    ) == approx(total)
    assert api.total(
        site,
        bucket_start(first_ts, "1h", day_tz),
        bucket_start(last_ts, "1h", day_tz) + timedelta(hours=1),
    ) == approx(total)
    assert api.total(site, first_ts - US, last_ts) == approx(total)


@PROPERTY
@given(case=sendings(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)))
def test_gauge_min_max_count_match_numpy(api: Api, day_tz: ZoneInfo, case) -> None:  # noqa: ANN001
    readings, batches, n_resends = case
    _, code = api.new_meter("gauge")
    assert send(api, code, readings, batches) == (len(readings), n_resends)
    all_vals = np.array([v for _, v, _ in readings])
    scale = max(1.0, float(np.abs(all_vals).max()))
    lo, hi = BASE - timedelta(days=2), BASE + timedelta(days=5)
    by_ts = sorted(readings, key=lambda r: r[0])
    for level in LEVELS:
        got = api.series(code, lo, hi, level)
        uniq, first, counts, vals = groups(readings, level, day_tz)
        mins, maxs = np.minimum.reduceat(vals, first), np.maximum.reduceat(vals, first)
        means = np.add.reduceat(vals, first) / counts
        assert sorted(got) == [as_dt(k) for k in uniq], level
        for k, lo_v, hi_v, mean, n in zip(uniq, mins, maxs, means, counts, strict=True):
            p = got[as_dt(k)]
            assert (p["n"], p["min"], p["max"]) == (n, lo_v, hi_v), (level, as_dt(k))
            assert p["avg"] == pytest.approx(mean, rel=1e-9, abs=1e-9 * scale), (level, as_dt(k))
            in_bucket = [r for r in by_ts if bucket_start(r[0], level, day_tz) == as_dt(k)]
            assert p["last"] == in_bucket[-1][1], (level, as_dt(k))
        assert sum(p["n"] for p in got.values()) == len(readings)
        assert min(p["min"] for p in got.values()) == all_vals.min()
        assert max(p["max"] for p in got.values()) == all_vals.max()
