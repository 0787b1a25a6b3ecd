"""Counter meters: register → interval energy → rollups → site totals, against a true history.

A counter reports a cumulative register. The writer stores, per reading, the register increase
since the previous reading by timestamp (``ecc_counter_delta``): an increase is consumption; a
decrease from the top 10 % of a configured ``rollover`` to its bottom 10 % is a wrap; any other
decrease is a reset to zero, after which the new value is what was consumed since the reset.

The property test draws a *true* consumption history (non-negative increments per minute), turns
it into the register a meter would show (wrapping at ``rollover``, occasionally reset to 0),
drops some readings, and sends the rest shuffled across several requests with resends. Whatever
the arrival order, every rollup bucket must hold exactly the consumption of the intervals ending
in it, and the totals must equal the consumption between the first and the last reading.

The history is drawn so that it is unambiguous for the documented rules (otherwise no system
could recover it): between two sent readings at most 980 kWh are consumed (< 10 % of the
rollover 10 000), so a wrap is always seen from the top to the bottom 10 %; a reset happens only
right after a sent reading whose register is below 0.9 × rollover, and only when the next sent
register is lower than that reading (a reset that leaves the register higher is invisible).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as h_settings
from hypothesis import strategies as st
from sqlalchemy import text

from metering import clock
from tests.support.rollups import settle_rollups

US = timedelta(microseconds=1)
ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)  # origin of the database's bucket grid
WIDTHS = {"1m": timedelta(minutes=1), "15m": timedelta(minutes=15), "1h": timedelta(hours=1)}
LEVELS = ("1m", "15m", "1h", "1d")
ROLLOVER = 10_000.0
MAX_INC_MILLI = 140_000  # ≤ 140 kWh per minute
GAP_STEPS = (1, 1, 1, 1, 2, 3, 7)  # minutes between sent readings; 7 × 140 = 980 < 0.1 × rollover
TS_OFFSETS = (UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30)))

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


def counter_delta(prev: float | None, cur: float, rollover: float | None) -> float | None:
    """The documented rule in Python, to check that a drawn history is unambiguous."""
    if prev is None:
        return None
    if cur >= prev:
        return cur - prev
    if rollover is not None and prev >= 0.9 * rollover and cur <= 0.1 * rollover:
        return rollover - prev + cur
    return cur


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

    def counter(
        self, rollover: float | None = None, unit: str = "kWh", multiplier: float = 1.0
    ) -> tuple[str, str]:
        """A fresh site with one counter meter: (site, meter)."""
        uid = uuid.uuid4().hex[:10]
        site, code = f"SC-{uid}", f"CTR-{uid}"
        r = self.client.post(
            "/api/v1/sites", json={"code": site, "name": "counter site"}, headers=self.headers
        )
        assert r.status_code == 201, r.text
        body = {
            "code": code,
            "name": "counter",
            "site": site,
            "carrier": "electricity",
            "unit": unit,
            "kind": "counter",
            "interval_s": 60,
            "multiplier": multiplier,
        }
        if rollover is not None:
            body["rollover"] = rollover
        r = self.client.post("/api/v1/meters", json=body, headers=self.headers)
        assert r.status_code == 201, r.text
        self.site_meters[site] = [code]
        return site, code

    def series(self, code: str, start: datetime, end: datetime, resolution: str) -> list[dict]:
        if resolution != "raw":
            self.settle(code)
        r = self.client.get(
            f"/api/v1/meters/{code}/series",
            headers=self.headers,
            params={"start": start.isoformat(), "end": end.isoformat(), "resolution": resolution},
        )
        assert r.status_code == 200, r.text
        return r.json()["points"]

    def total(self, site: str, start: datetime, end: datetime) -> tuple[float, float]:
        """(carrier total, meter total) of the only meter of ``site`` over (start, end]."""
        for code in self.site_meters[site]:
            self.settle(code)
        r = self.client.get(
            f"/api/v1/sites/{site}/totals",
            headers=self.headers,
            params={"start": start.isoformat(), "end": end.isoformat()},
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["carriers"]) == 1 and len(body["meters"]) == 1, body
        return body["carriers"][0]["total"], body["meters"][0]["total"]

    def settle(self, code: str, timeout_s: float = 60.0) -> None:
        settle_rollups(self.engine, self.client, self.headers, code, timeout_s)


def points_by_ts(points: list[dict]) -> dict[datetime, dict]:
    return {datetime.fromisoformat(p["ts"]).astimezone(UTC): p for p in points}


@pytest.fixture(scope="module")
def api(client, admin_headers, engine) -> Api:  # noqa: ANN001
    return Api(client, admin_headers, engine)


@pytest.fixture(scope="module")
def day_tz() -> ZoneInfo:
    """The test sites are created without a timezone: their days are ECC_TIMEZONE's."""
    return clock.zone(None)


# --- ecc_counter_delta through SQL ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("prev", "cur", "rollover", "expected"),
    [
        (None, 5.0, None, None),  # first reading: no interval, no energy
        (None, 5.0, ROLLOVER, None),
        (5.0, None, None, None),  # no current value
        (5.0, 5.0, None, 0.0),  # unchanged register
        (0.0, 0.0, ROLLOVER, 0.0),
        (5.0, 7.5, None, 2.5),  # plain increase
        (100.0, 9999.0, ROLLOVER, 9899.0),  # a large increase is still an increase
        (9990.0, 9999.0, ROLLOVER, 9.0),  # increase inside the top band
        (9950.0, 30.0, ROLLOVER, 80.0),  # wrap: 50 to the top + 30
        (9999.0, 0.0, ROLLOVER, 1.0),  # wrap to exactly zero
        (9000.0, 1000.0, ROLLOVER, 2000.0),  # both band edges are inclusive
        (8999.0, 1000.0, ROLLOVER, 1000.0),  # prev below the top 10 %: reset
        (9000.0, 1001.0, ROLLOVER, 1001.0),  # cur above the bottom 10 %: reset
        (9500.0, 9400.0, ROLLOVER, 9400.0),  # decrease inside the top band: reset
        (5000.0, 4000.0, ROLLOVER, 4000.0),  # reset with a rollover configured
        (100.0, 40.0, None, 40.0),  # reset without rollover: new value consumed
        (100.0, 0.0, None, 0.0),  # reset to exactly zero
        (9950.0, 30.0, None, 30.0),  # no rollover configured: a decrease is a reset
    ],
)
def test_ecc_counter_delta(engine, prev, cur, rollover, expected) -> None:  # noqa: ANN001
    with engine.connect() as conn:
        got = conn.execute(
            text(
                "SELECT ecc_counter_delta(CAST(:p AS float8), CAST(:c AS float8), "
                "CAST(:r AS float8))"
            ),
            {"p": prev, "c": cur, "r": rollover},
        ).scalar()
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-9)


# --- hand-computed examples through the API ------------------------------------------------------


def test_out_of_order_reading_updates_successor_and_its_bucket(api: Api) -> None:
    site, code = api.counter()
    t = [datetime(2025, 2, 3, 4, m, tzinfo=UTC) for m in (11, 12, 13)]
    api.post(
        [
            {"meter": code, "ts": t[0].isoformat(), "value": 10.0},
            {"meter": code, "ts": t[2].isoformat(), "value": 30.0},
        ]
    )
    lo, hi = t[0] - timedelta(hours=1), t[2] + timedelta(hours=1)
    raw = api.series(code, lo, hi, "raw")
    assert [p["energy"] for p in raw] == [None, 20.0]
    api.post([{"meter": code, "ts": t[1].isoformat(), "value": 15.0}])
    raw = api.series(code, lo, hi, "raw")
    assert [p["energy"] for p in raw] == [None, 5.0, 15.0]
    one_min = points_by_ts(api.series(code, lo, hi, "1m"))
    assert {k: p["value"] for k, p in one_min.items()} == {
        t[0] - timedelta(minutes=1): 0.0,
        t[1] - timedelta(minutes=1): 5.0,
        t[2] - timedelta(minutes=1): 15.0,
    }
    # a reading before the first one gives the old first reading its interval
    api.post([{"meter": code, "ts": (t[0] - timedelta(minutes=1)).isoformat(), "value": 4.0}])
    raw = api.series(code, lo, hi, "raw")
    assert [p["energy"] for p in raw] == [None, 6.0, 5.0, 15.0]
    assert api.total(site, lo, hi) == (26.0, 26.0)
    hour = api.series(code, lo, hi, "1h")
    assert [p["value"] for p in hour] == [26.0]
    assert [p["n"] for p in hour] == [4]


EDGES = [  # (previous register, register, rollover, energy): the rule's edge cases
    (9000.0, 1000.0, ROLLOVER, 2000.0),  # wrap from the very edge of the top 10 %
    (9100.0, 50.0, ROLLOVER, 950.0),  # wrap from low in the top band
    (9999.0, 0.0, ROLLOVER, 1.0),  # wrap to exactly zero
    (8999.0, 1000.0, ROLLOVER, 1000.0),  # just below the top band: reset
    (9000.0, 1001.0, ROLLOVER, 1001.0),  # just above the bottom band: reset
    (9500.0, 9400.0, ROLLOVER, 9400.0),  # decrease inside the top band: reset
    (5000.0, 0.0, ROLLOVER, 0.0),  # reset to zero
    (9950.0, 30.0, None, 30.0),  # no rollover configured: reset
    (7.0, 7.0, ROLLOVER, 0.0),  # unchanged
]


@pytest.mark.parametrize("arrival", ["one request", "in order", "late predecessor"])
def test_rule_edges_on_every_write_path(api: Api, arrival: str) -> None:
    """The same rule whatever the arrival: both readings in one request, the later one in a
    later request (energy from the stored predecessor), or the predecessor arriving after its
    successor is stored (energy recomputed for the stored successor)."""
    t0 = datetime(2025, 2, 5, 0, 1, tzinfo=UTC)
    for k, (prev, cur, rollover, energy) in enumerate(EDGES):
        _, code = api.counter(rollover=rollover)
        t = t0 + timedelta(minutes=10 * k)
        a = {"meter": code, "ts": t.isoformat(), "value": prev}
        b = {"meter": code, "ts": (t + timedelta(minutes=1)).isoformat(), "value": cur}
        sends = {"one request": [[a, b]], "in order": [[a], [b]], "late predecessor": [[b], [a]]}[
            arrival
        ]
        for rows in sends:
            assert api.post(rows)["accepted"] == len(rows)
        raw = api.series(code, t - timedelta(hours=1), t + timedelta(hours=1), "raw")
        assert [p["energy"] for p in raw] == [None, pytest.approx(energy, abs=1e-9)], (
            prev,
            cur,
            rollover,
        )
        hour = api.series(code, t - timedelta(hours=1), t + timedelta(hours=1), "1h")
        assert math.fsum(p["value"] for p in hour) == pytest.approx(energy, abs=1e-9)


def test_rollover_is_converted_with_unit_and_multiplier(api: Api) -> None:
    # register in Wh behind a CT ratio of 2: a 5 000 000 Wh register is a 10 000 kWh rollover
    _, code = api.counter(rollover=5_000_000, unit="Wh", multiplier=2.0)
    t0 = datetime(2025, 2, 4, 0, 1, tzinfo=UTC)
    rows = [
        (t0, 4_900_000),
        (t0 + timedelta(minutes=1), 100_000),  # wrap: 200 + 200 kWh
        (t0 + timedelta(minutes=2), 50_000),
    ]  # reset: 100 kWh
    out = api.post([{"meter": code, "ts": ts.isoformat(), "value": v} for ts, v in rows])
    assert out == {"accepted": 3, "duplicates": 0, "rejected": []}
    raw = api.series(code, t0 - US, t0 + timedelta(hours=1), "raw")
    assert [p["value"] for p in raw] == [9800.0, 200.0, 100.0]
    assert [p["energy"] for p in raw] == [None, pytest.approx(400.0), pytest.approx(100.0)]


# --- property: any arrival order gives the true consumption --------------------------------------


@dataclass
class CounterCase:
    rollover: float | None
    ts: list[datetime]  # sent readings, ascending
    register: list[float]  # register shown at each sent reading
    consumed: list[float]  # true consumption of the interval ending there (0 for first)
    resets: int
    wraps: int
    batches: list[list[tuple[int, int]]]  # (reading index, timestamp offset index) per request
    resends: int


@st.composite
def counter_cases(draw) -> CounterCase:  # noqa: ANN001
    rollover = draw(st.sampled_from([ROLLOVER, None, ROLLOVER]))
    n_gaps = draw(st.integers(1, 100))
    gaps = draw(st.lists(st.sampled_from(GAP_STEPS), min_size=n_gaps, max_size=n_gaps))
    sent_steps = [0]
    for g in gaps:
        sent_steps.append(sent_steps[-1] + g)
    n_steps = sent_steps[-1]
    inc = st.one_of(st.just(0.0), st.integers(0, MAX_INC_MILLI).map(lambda x: x / 1000))
    incs = draw(st.lists(inc, min_size=n_steps, max_size=n_steps))  # incs[k-1]: step k
    reset_wish = draw(
        st.lists(st.sampled_from([False] * 19 + [True]), min_size=len(gaps), max_size=len(gaps))
    )
    aim_wrap = False
    if rollover is None:  # often small, so that some resets leave the register higher
        reg = draw(st.one_of(st.integers(0, 10**9), st.integers(0, 2_000_000))) / 1000
    else:
        reg = draw(st.integers(0, 9_999_999)) / 1000
        total = math.fsum(incs)
        if 0 < total < rollover and draw(st.integers(0, 3)) > 0:
            # start so far below the top that the register wraps somewhere in the history
            # (resets only after the first wrap: they would bring the register down before it)
            reg = rollover - total * draw(st.integers(1, 999)) / 1000
            aim_wrap = True
    registers = {0: reg}
    resets = wraps = 0
    for pair, (a, b) in enumerate(zip(sent_steps, sent_steps[1:], strict=False)):
        # a reset (register → 0) is only allowed at the start of the interval after a sent
        # reading below 0.9 × rollover, and only where the next sent register is lower
        if (
            reset_wish[pair]
            and (rollover is None or reg < 0.9 * rollover)
            and not (aim_wrap and wraps == 0)
        ):
            after = 0.0
            for k in range(a + 1, b + 1):
                after += incs[k - 1]
            if after < reg:
                reg = 0.0
                resets += 1
        for k in range(a + 1, b + 1):
            reg += incs[k - 1]
            if rollover is not None and reg >= rollover:
                reg -= rollover
                wraps += 1
        registers[b] = reg
    consumed = [0.0] + [
        math.fsum(incs[a:b]) for a, b in zip(sent_steps, sent_steps[1:], strict=False)
    ]
    # 14:30–17:30 UTC: crosses 15-min, hour and Shanghai-midnight (16:00 UTC) boundaries
    t0 = (
        datetime(2025, 3, 10, 14, 30, tzinfo=UTC)
        + timedelta(minutes=draw(st.integers(0, 180)))
        + timedelta(seconds=draw(st.one_of(st.just(0), st.integers(1, 59))))
    )
    ts = [t0 + timedelta(minutes=s) for s in sent_steps]

    m = len(ts)
    order = draw(st.permutations(range(m)))
    n_batches = draw(st.integers(1, min(5, m)))
    cuts = (
        sorted(draw(st.sets(st.integers(1, m - 1), min_size=n_batches - 1, max_size=n_batches - 1)))
        if m > 1
        else []
    )
    bounds = [0, *cuts, m]
    batches = [[(i, 0) for i in order[lo:hi]] for lo, hi in zip(bounds, bounds[1:], strict=False)]
    fmt = draw(st.lists(st.integers(0, len(TS_OFFSETS) - 1), min_size=m, max_size=m))
    batches = [[(i, fmt[i]) for i, _ in b] for b in batches]
    resend = draw(
        st.lists(
            st.tuples(
                st.integers(0, m - 1),
                st.integers(0, len(batches) - 1),
                st.integers(0, len(TS_OFFSETS) - 1),
            ),
            max_size=5,
        )
    )
    for i, b, f in resend:  # the same reading again, maybe written with another UTC offset
        batches[b].append((i, f))
    return CounterCase(
        rollover=rollover,
        ts=ts,
        register=[registers[s] for s in sent_steps],
        consumed=consumed,
        resets=resets,
        wraps=wraps,
        batches=batches,
        resends=len(resend),
    )


def _expected_buckets(case: CounterCase, level: str, day_tz: ZoneInfo) -> dict[datetime, tuple]:
    energy: dict[datetime, list[float]] = {}
    for ts, c in zip(case.ts, case.consumed, strict=True):
        energy.setdefault(bucket_start(ts, level, day_tz), []).append(c)
    return {k: (math.fsum(v), len(v)) for k, v in energy.items()}


@PROPERTY
@given(case=counter_cases())
def test_counter_rollups_equal_true_consumption(
    api: Api, day_tz: ZoneInfo, case: CounterCase
) -> None:
    event(f"rollover configured: {case.rollover is not None}")
    event(f"wraps seen: {case.wraps > 0}")
    event(f"resets seen: {case.resets > 0}")
    event(f"several requests: {len(case.batches) > 1}")
    event(f"resends: {case.resends > 0}")
    # the drawn history must be recoverable by the documented rule (a check of the generator)
    for i in range(1, len(case.ts)):
        rule = counter_delta(case.register[i - 1], case.register[i], case.rollover)
        assert rule == pytest.approx(case.consumed[i], rel=1e-9, abs=1e-6)
    site, code = api.counter(rollover=case.rollover)
    accepted = duplicates = 0
    for batch in case.batches:
        rows = [
            {
                "meter": code,
                "ts": case.ts[i].astimezone(TS_OFFSETS[f]).isoformat(),
                "value": case.register[i],
            }
            for i, f in batch
        ]
        out = api.post(rows)
        assert out["rejected"] == []
        accepted += out["accepted"]
        duplicates += out["duplicates"]
    assert (accepted, duplicates) == (len(case.ts), case.resends)

    first, last = case.ts[0], case.ts[-1]
    truth = math.fsum(case.consumed)
    lo, hi = first - timedelta(days=2), last + timedelta(days=2)
    approx = lambda x: pytest.approx(x, rel=1e-9, abs=1e-6)  # noqa: E731

    raw = api.series(code, lo, hi, "raw")
    assert [datetime.fromisoformat(p["ts"]) for p in raw] == case.ts
    assert [p["value"] for p in raw] == case.register
    assert raw[0]["energy"] is None
    assert [p["energy"] for p in raw[1:]] == [approx(c) for c in case.consumed[1:]]

    for level in LEVELS:
        got = points_by_ts(api.series(code, lo, hi, level))
        expected = _expected_buckets(case, level, day_tz)
        assert sorted(got) == sorted(expected), level
        for start, (energy, n) in expected.items():
            assert got[start]["value"] == approx(energy), (level, start)
            assert got[start]["n"] == n, (level, start)
        assert math.fsum(p["value"] for p in got.values()) == approx(truth), level

    # totals over (first, last] (1 min rollups or raw readings, depending on alignment), over
    # whole local days (1 d rollups) and over whole hours (1 h rollups); plus a prefix
    day0 = bucket_start(first, "1d", day_tz)
    windows = [
        (first, last, truth),
        (day0 - timedelta(days=1), bucket_start(last, "1d", day_tz) + timedelta(days=2), truth),
        (
            bucket_start(first, "1h", day_tz) - timedelta(hours=1),
            bucket_start(last, "1h", day_tz) + timedelta(hours=2),
            truth,
        ),
    ]
    mid = len(case.ts) // 2
    windows.append((first, case.ts[mid], math.fsum(case.consumed[: mid + 1])))
    windows.append((case.ts[mid], last + US, math.fsum(case.consumed[mid + 1 :])))
    windows.append((day0, case.ts[mid], math.fsum(case.consumed[: mid + 1])))  # mixed ends
    for start, end, want in windows:
        carrier_total, meter_total = api.total(site, start, end)
        assert carrier_total == approx(want), (start, end)
        assert meter_total == approx(want), (start, end)
