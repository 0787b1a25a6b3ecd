"""Both database paths give the same numbers on the same readings.

Path 1, TimescaleDB: PGlite + TimescaleDB (WASM, tests/pglite) -- hypertable, hierarchical
continuous aggregates refreshed with ``refresh_continuous_aggregate``.
Path 2, plain PostgreSQL: a fresh database on the real server -- rollup tables maintained by
``metering.rollups``.

Both databases are migrated with ``migrations.runner.upgrade``, get the same sites and meters
through ``metering.registry`` and the same readings through the one write path
(``RawItems`` -> ``validate`` -> ``write_batch``): in order and out of order, with gaps, a counter
rollover and a reset, readings exactly on 15-min/hour/local-midnight boundaries (and 1 us either
side of midnight), a resent batch, conflicting values and late data (also into compressed
chunks).  Then the write results, the raw readings (also against an independent counter-energy
model), every rollup relation, ``meter_series`` at every resolution and ``site_totals`` must be
identical (floats to rel 1e-12), also for late data below the TimescaleDB watermark once the
rollup worker has made one pass.

The PGlite server takes one connection at a time (a second one waits): every connection or
session below is closed before the next one is opened.  Skips when node/npm are unavailable
(``ECC_PGLITE_REQUIRED=1`` makes that a failure).
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.settings import get_settings
from ingest.parsers import RawItems
from ingest.validate import validate
from ingest.writer import WriterConfig, detect_writer, write_batch
from metering import registry, series
from metering.registry import MeterInfo
from metering.rollups import refresh_all, refresh_pending_timescale
from migrations import runner as migrate
from migrations.autogen import schema_differences
from tests.support.pglite.harness import PgliteServer

pytestmark = pytest.mark.timescale

SERVER_URL = os.environ.get("ECC_TEST_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
US = timedelta(microseconds=1)
REL = 1e-12
ROLLOVER = 100_000.0
LEVELS = ("1m", "15m", "1h", "1d")
CAGG_LEVELS = ("1m", "15m", "1h")  # continuous aggregates; rollup_1d is a view (site days)

BASE = datetime(2025, 3, 10, tzinfo=UTC)  # readings from here ...
END = BASE + timedelta(days=3)  # ... to here
SITE = "BP-PLANT"
SUBSITE = "BP-WORKSHOP"
COUNTER, DELTA, GAUGE = "BP-COUNTER", "BP-DELTA", "BP-GAUGE"


# --------------------------------------------------------------------------- the two databases


@dataclass
class Side:
    name: str
    engine: Engine
    dsn: str  # libpq URL for psycopg
    timescale: bool
    connect_kwargs: dict[str, Any] = field(default_factory=dict)
    writer: WriterConfig | None = None
    infos: dict[str, MeterInfo] = field(default_factory=dict)
    fast_path: list[bool] = field(default_factory=list)  # per write: COPY fast path taken?
    server: PgliteServer | None = None  # the PGlite harness behind the TimescaleDB side

    def connect(self, **kwargs: Any) -> psycopg.Connection:
        return psycopg.connect(self.dsn, **{**self.connect_kwargs, **kwargs})

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine) as s:
            yield s

    def query(self, sql: str, params: Any = None) -> list[tuple]:
        with self.connect() as conn:
            return conn.execute(sql, params).fetchall()

    def lookup(self, codes) -> dict[str, MeterInfo]:  # noqa: ANN001
        return {c: self.infos[c] for c in codes if c in self.infos}

    def write(self, items: RawItems) -> dict:
        """Validate and write one batch exactly as the API does; the outcome as a dict."""
        batch = validate(items, self.lookup)
        with self.connect() as conn:
            result = write_batch(conn, batch, self.writer, source="test")
        self.fast_path.append(result.fast_path)
        return {
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "conflicts": sorted(result.conflicts, key=lambda r: r["index"]),
            "rejected": sorted(batch.rejected, key=lambda r: r["index"]),
        }

    def refresh(self) -> None:
        """Bring the rollups up to date (policies never run on PGlite; plain path: the queue)."""
        if self.timescale:
            with self.connect(autocommit=True) as conn:
                for level in CAGG_LEVELS:
                    conn.execute(f"CALL refresh_continuous_aggregate('rollup_{level}', NULL, NULL)")
        else:
            with self.connect() as conn:
                refresh_all(conn)
                left = conn.execute("SELECT count(*) FROM rollup_pending").fetchone()[0]
            assert left == 0


def set_up_both(sides: tuple[Side, ...], setup: Callable[[Side], object]) -> None:
    """Run each side's first write; a WASM server that dies before it is restarted once."""
    for side in sides:
        if side.server is not None:
            side.server.first_write(lambda side=side: setup(side))
        else:
            setup(side)


# --------------------------------------------------------------------------- the readings


def _local_midnights(tz: str) -> list[datetime]:
    zone = ZoneInfo(tz)
    first = BASE.astimezone(zone).date()
    out = []
    for k in range(5):
        m = datetime.combine(date.fromordinal(first.toordinal() + k), time(), zone)
        if BASE < m < END:
            out.append(m.astimezone(UTC))
    return out


def _times(
    rng: random.Random, gaps: list[tuple[datetime, datetime]], extra: list[datetime]
) -> list[datetime]:
    """1-5 minute spacing (any second), holes in ``gaps``, plus the ``extra`` instants."""
    out, t = set(extra), BASE
    while t < END:
        if not any(lo <= t < hi for lo, hi in gaps):
            out.add(t)
        t += timedelta(seconds=rng.randint(60, 300))
    return sorted(out)


def _iso(ts: datetime, k: int) -> str:
    """RFC 3339, in UTC ('Z') or with a +08:00 offset, microseconds when there are any."""
    if k % 7 == 3:
        return ts.astimezone(ZoneInfo("Asia/Shanghai")).isoformat()
    s = ts.astimezone(UTC).replace(tzinfo=None).isoformat()
    return s + "Z"


@dataclass
class Dataset:
    series: dict[str, list[tuple[datetime, float]]]
    boundaries: list[datetime]
    midnights: list[datetime]


def make_dataset(tz: str) -> Dataset:
    rng = random.Random(20250310)
    midnights = _local_midnights(tz)
    assert len(midnights) >= 2
    h = timedelta(hours=1)
    boundaries = [
        BASE,
        BASE + 9 * h,
        BASE + 10 * h,  # hour
        BASE + 9 * h + timedelta(minutes=15),
        BASE + 9 * h + timedelta(minutes=30),
        BASE + 10 * h + timedelta(minutes=45),  # 15 min
        BASE + 9 * h + timedelta(minutes=1),
    ]  # 1 min
    for m in midnights:
        boundaries += [m - US, m, m + US]  # local midnight, and 1 us either side
    day = timedelta(days=1)
    counter_t = _times(
        rng, [(BASE + day + 2 * h, BASE + day + 5 * h + timedelta(minutes=30))], boundaries
    )
    delta_t = _times(rng, [(BASE + 20 * h, BASE + 22 * h)], boundaries)
    gauge_t = _times(rng, [(BASE + 2 * day + 4 * h, BASE + 2 * day + 6 * h)], boundaries)

    counter, value = [], 99_300.0
    reset_at = int(len(counter_t) * 0.75)
    for k, ts in enumerate(counter_t):
        if k == reset_at:  # meter replaced: register starts again near zero
            value = round(rng.uniform(0.5, 2.0), 3)
        elif k:
            value = round(value + rng.uniform(0.2, 3.5), 3)
            if value >= ROLLOVER:
                value = round(value - ROLLOVER, 3)
        counter.append((ts, value))
    drops = [i for i in range(1, len(counter)) if counter[i][1] < counter[i - 1][1]]
    assert len(drops) == 2  # one rollover, one reset
    assert counter[drops[0] - 1][1] >= 0.9 * ROLLOVER and counter[drops[0]][1] <= 0.1 * ROLLOVER
    assert counter[drops[1] - 1][1] < 0.9 * ROLLOVER

    delta = [(ts, round(rng.uniform(0.0, 5.0), 4)) for ts in delta_t]
    gauge = [(ts, round(rng.uniform(-20.0, 300.0), 3)) for ts in gauge_t]
    return Dataset({COUNTER: counter, DELTA: delta, GAUGE: gauge}, boundaries, midnights)


def items_of(rows: list[tuple[str, datetime, Any, str | None]]) -> RawItems:
    items = RawItems()
    for k, (code, ts, value, unit) in enumerate(rows):
        items.meter.append(code)
        items.ts.append(_iso(ts, k) if isinstance(ts, datetime) else ts)
        items.value.append(value)
        items.unit.append(unit)
    return items


def batches(ds: Dataset) -> list[tuple[str, RawItems]]:
    """Named batches, in the order they are sent (both paths get exactly the same)."""
    day = timedelta(days=1)

    def part(lo: datetime, hi: datetime) -> list[tuple[str, datetime, Any, None]]:
        return [
            (code, ts, v, None)
            for code, rows in ds.series.items()
            for ts, v in rows
            if lo <= ts < hi
        ]

    rng = random.Random(7)
    a, b, c = part(BASE, BASE + day), part(BASE + day, BASE + 2 * day), part(BASE + 2 * day, END)
    rng.shuffle(a)  # order inside a request never matters
    b.sort(key=lambda r: (r[1], r[0]))
    b_lo, b_hi = b[: len(b) // 2], b[len(b) // 2 :]  # earlier / later half of day 2

    cnt, dlt, gau = ds.series[COUNTER], ds.series[DELTA], ds.series[GAUGE]
    gap = BASE + 20 * timedelta(hours=1) + timedelta(minutes=30)  # inside DELTA's gap
    mixed = [
        (COUNTER, cnt[10][0], cnt[10][1] + 1.0, None),  # conflicts with the stored reading
        (GAUGE, gau[20][0], gau[20][1] - 5.0, None),  # conflicts
        (DELTA, dlt[5][0], dlt[5][1], None),  # stored duplicate
        (DELTA, dlt[6][0], dlt[6][1] * 1000.0, "Wh"),  # stored duplicate after unit conversion
        (DELTA, gap, 1.5, None),  # new
        (DELTA, gap + timedelta(minutes=3), 0.75, None),  # new
        (DELTA, gap + timedelta(minutes=3), 0.75, None),  # repeated in this request
        (DELTA, gap + timedelta(minutes=7), 2.0, None),  # new ...
        (DELTA, gap + timedelta(minutes=7), 2.5, None),  # ... and a conflicting repeat
        ("BP-NOPE", gap, 1.0, None),  # unknown meter
        (COUNTER, gap, -3.0, None),  # negative register
        (GAUGE, "2025-03-10T21:00:00", 1.0, None),  # no UTC offset
    ]
    return [
        ("day 1, shuffled", items_of(a)),
        ("day 3 before day 2", items_of(c)),
        ("day 2, later half first", items_of(b_hi)),
        ("day 2, earlier half", items_of(b_lo)),
        ("day 3 resent", items_of(c)),
        ("conflicts, duplicates, rejections", items_of(mixed)),
    ]


# --------------------------------------------------------------------------- comparison


def assert_same(a: Any, b: Any, where: str) -> None:
    """Equal structure; floats equal to rel 1e-12; everything else exactly equal."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{where}: keys {a.keys()} != {b}"
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple), f"{where}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            assert_same(x, y, f"{where}[{i}]")
        assert len(a) == len(b), f"{where}: {len(a)} items != {len(b)} items"
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=REL), f"{where}: {a!r} != {b!r}"
    else:
        assert type(a) is type(b) and a == b, f"{where}: {a!r} != {b!r}"


ROLLUP_SQL = """
SELECT m.code, r.bucket, r.energy, r.n, r.value_min, r.value_max, r.value_sum, r.value_last,
       r.ts_last
FROM rollup_{level} r JOIN meter m ON m.id = r.meter_id
ORDER BY m.code, r.bucket
"""
READING_SQL = """
SELECT m.code, r.ts, r.value, r.energy FROM reading r JOIN meter m ON m.id = r.meter_id
ORDER BY m.code, r.ts
"""
SERIES_RANGES = [
    (BASE - timedelta(hours=8), END + timedelta(days=1)),  # everything
    (datetime(2025, 3, 10, 9, 7, 30, tzinfo=UTC), datetime(2025, 3, 11, 13, 52, tzinfo=UTC)),
    (datetime(2025, 3, 11, 16, tzinfo=UTC), datetime(2025, 3, 12, 16, tzinfo=UTC)),
]


def _totals_ranges(ds: Dataset) -> list[tuple[datetime, datetime]]:
    m0, m1 = ds.midnights[0], ds.midnights[-1]
    return [
        (m0 - timedelta(days=1), m1 + timedelta(days=1)),  # local days: rollup_1d, everything
        (m0, m1),  # local days
        (BASE + timedelta(hours=9), BASE + timedelta(hours=51)),  # hours: rollup_1h
        (BASE + timedelta(hours=9, minutes=15), BASE + timedelta(hours=34, minutes=45)),  # 15m
        (BASE + timedelta(hours=9, seconds=7), BASE + timedelta(hours=61, minutes=1)),  # raw
        (m0 - US, m0 + US),  # raw, 2 us around local midnight
    ]


def snapshot(side: Side, ds: Dataset) -> dict:
    """Everything the comparison looks at, read from one database."""
    snap: dict[str, Any] = {"reading": side.query(READING_SQL)}
    for level in LEVELS:
        snap[f"rollup_{level}"] = side.query(ROLLUP_SQL.format(level=level))
    with side.session() as s:
        for code in ds.series:
            for k, (lo, hi) in enumerate(SERIES_RANGES):
                for res in ("raw", *LEVELS):
                    snap[f"series {code} {res} #{k}"] = series.meter_series(s, code, lo, hi, res)
        for k, (lo, hi) in enumerate(_totals_ranges(ds)):
            snap[f"totals {SITE} #{k}"] = series.site_totals(s, SITE, lo, hi)
            snap[f"totals {SUBSITE} #{k}"] = series.site_totals(s, SUBSITE, lo, hi)
    return snap


def assert_snapshots_equal(ts: dict, pg: dict) -> None:
    assert ts.keys() == pg.keys()
    for key in ts:
        assert_same(ts[key], pg[key], f"{key} (timescaledb vs postgresql)")


def _expected_energy(rows: list[tuple[datetime, float]], kind: str) -> list[float | None]:
    """The counter rule written out independently of ingest.counters / ecc_counter_delta."""
    if kind == "delta":
        return [v for _, v in rows]
    if kind == "gauge":
        return [None] * len(rows)
    out: list[float | None] = [None]
    for (_, prev), (_, cur) in zip(rows, rows[1:], strict=False):
        if cur >= prev:
            out.append(cur - prev)
        elif prev >= 0.9 * ROLLOVER and cur <= 0.1 * ROLLOVER:
            out.append(ROLLOVER - prev + cur)
        else:
            out.append(cur)
    return out


# --------------------------------------------------------------------------- the scenario


@dataclass
class World:
    ts: Side
    pg: Side
    tz: str
    ds: Dataset
    results: dict[str, list[dict]] = field(default_factory=dict)
    final: dict[str, list[tuple[datetime, float]]] = field(default_factory=dict)


def _setup_side(side: Side) -> None:
    migrate.upgrade(side.engine)
    with side.session() as s:
        registry.create_site(s, registry.SiteIn(SITE, "Plant"))
        registry.create_site(s, registry.SiteIn(SUBSITE, "Workshop", parent=SITE))
        for meter in (
            registry.MeterIn(
                COUNTER,
                "Main incomer",
                SITE,
                "electricity",
                "kWh",
                "counter",
                interval_s=60,
                rollover=ROLLOVER,
            ),
            registry.MeterIn(
                DELTA, "Workshop feeder", SUBSITE, "electricity", "kWh", "delta", interval_s=60
            ),
            registry.MeterIn(
                GAUGE, "Workshop load", SUBSITE, "electricity", "kW", "gauge", interval_s=60
            ),
        ):
            registry.create_meter(s, meter)
        s.commit()
        side.infos = registry.meter_infos(s, [COUNTER, DELTA, GAUGE])
    with side.connect() as conn:
        side.writer = detect_writer(conn)
        conn.rollback()


@pytest.fixture(scope="module")
def world(pglite_side: Side, server_side: Side) -> World:
    set_up_both((pglite_side, server_side), _setup_side)
    tz = get_settings().timezone
    ds = make_dataset(tz)
    w = World(pglite_side, server_side, tz, ds)
    for name, items in batches(ds):
        w.results[name] = [side.write(items) for side in (w.ts, w.pg)]
    for side in (w.ts, w.pg):
        side.refresh()
    # What is stored: the generated series, plus the new readings of the mixed batch.
    stored = {code: list(rows) for code, rows in ds.series.items()}
    gap = BASE + timedelta(hours=20, minutes=30)
    stored[DELTA] += [
        (gap, 1.5),
        (gap + timedelta(minutes=3), 0.75),
        (gap + timedelta(minutes=7), 2.0),
    ]
    w.final = {code: sorted(rows) for code, rows in stored.items()}
    return w


# --------------------------------------------------------------------------- the tests


def test_migration_chose_each_path(world: World) -> None:
    for side, path in ((world.ts, "timescaledb"), (world.pg, "postgresql")):
        meta = dict(side.query("SELECT key, value FROM ecc_meta"))
        assert meta == {"timeseries_path": path, "legacy_day_timezone": world.tz}, side.name
    # detect_writer: no COPY on PGlite (its version() names Emscripten), COPY on the server.
    version = world.ts.query("SELECT version()")[0][0]
    assert "emscripten" in version.lower(), version
    assert world.ts.writer == WriterConfig(timescale=True, use_copy=False)
    assert world.pg.writer == WriterConfig(timescale=False, use_copy=True)

    ts = world.ts
    assert ts.query(
        "SELECT hypertable_name, compression_enabled "
        "FROM timescaledb_information.hypertables "
        "WHERE hypertable_schema = 'public'"
    ) == [("reading", True)]
    caggs = dict(
        ts.query(
            "SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates"
        )
    )
    assert caggs == {f"rollup_{level}": False for level in CAGG_LEVELS}  # real-time aggregation
    assert ts.query(
        "SELECT attname, segmentby_column_index, orderby_column_index "
        "FROM timescaledb_information.compression_settings "
        "WHERE hypertable_name = 'reading' ORDER BY attname"
    ) == [("meter_id", 1, None), ("ts", None, 1)]
    jobs = ts.query(
        "SELECT proc_name, hypertable_name FROM timescaledb_information.jobs "
        "WHERE proc_name <> 'policy_job_stat_history_retention'"
    )
    refresh = {h for p, h in jobs if p == "policy_refresh_continuous_aggregate"}
    assert refresh == {f"rollup_{level}" for level in CAGG_LEVELS}
    assert ("policy_compression", "reading") in jobs
    assert ("policy_retention", "rollup_1m") in jobs

    pg = world.pg
    kinds = dict(
        pg.query(
            "SELECT c.relname, c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relname LIKE 'rollup\\_%' "
            "AND c.relkind IN ('r', 'v', 'm', 'p')"
        )
    )
    assert kinds == {
        "rollup_1m": "v",
        "rollup_15m": "r",
        "rollup_1h": "r",
        "rollup_1d": "v",
        "rollup_pending": "r",
    }
    assert pg.query("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'") == [(0,)]


def test_models_agree_with_the_schema_on_both_paths(world: World) -> None:
    """Alembic autogenerate finds nothing to write on either path (Timescale's own objects and
    the rollup relations are filtered out by ``migrations.autogen.include_object``)."""
    for side in (world.ts, world.pg):
        with side.engine.connect() as conn:
            assert schema_differences(conn) == [], side.name


def test_write_results_identical(world: World) -> None:
    for name, (ts_res, pg_res) in world.results.items():
        assert_same(ts_res, pg_res, f"batch {name!r} (timescaledb vs postgresql)")
    r = {name: res[0] for name, res in world.results.items()}
    n_day3 = sum(
        1 for rows in world.ds.series.values() for ts, _ in rows if ts >= BASE + timedelta(days=2)
    )
    assert r["day 3 before day 2"]["accepted"] == n_day3
    assert r["day 3 resent"] == {
        "accepted": 0,
        "duplicates": n_day3,
        "conflicts": [],
        "rejected": [],
    }
    mixed = r["conflicts, duplicates, rejections"]
    assert (mixed["accepted"], mixed["duplicates"]) == (3, 3)
    assert [c["index"] for c in mixed["conflicts"]] == [0, 1]
    assert all("never overwritten" in c["error"] for c in mixed["conflicts"])
    assert [x["index"] for x in mixed["rejected"]] == [8, 9, 10, 11]
    # Same answers from different writer paths: PGlite always stages with INSERT ... unnest
    # (careful path); the server took the binary COPY fast path for the in-order batches.
    names = list(world.results)
    assert world.ts.fast_path[: len(names)] == [False] * len(names)
    fast = [n for n, f in zip(names, world.pg.fast_path, strict=False) if f]
    assert fast == ["day 1, shuffled", "day 3 before day 2"]
    assert sum(res["accepted"] for res in r.values()) == sum(map(len, world.final.values()))


def check_readings(world: World) -> None:
    ts_rows, pg_rows = world.ts.query(READING_SQL), world.pg.query(READING_SQL)
    assert_same(ts_rows, pg_rows, "reading (timescaledb vs postgresql)")
    kinds = {COUNTER: "counter", DELTA: "delta", GAUGE: "gauge"}
    expected = [
        (code, ts, v, e)
        for code in sorted(world.final)
        for (ts, v), e in zip(
            world.final[code], _expected_energy(world.final[code], kinds[code]), strict=True
        )
    ]
    assert_same(ts_rows, expected, "reading (timescaledb vs generated)")
    # The rollover and the reset are in there, with the right energy.
    energies = [e for code, _, _, e in ts_rows if code == COUNTER]
    assert max(e for e in energies if e is not None) < 5.0


def check_rollups(world: World) -> None:
    n_readings = sum(map(len, world.final.values()))
    for level in LEVELS:
        ts_rows = world.ts.query(ROLLUP_SQL.format(level=level))
        pg_rows = world.pg.query(ROLLUP_SQL.format(level=level))
        assert ts_rows, level
        assert_same(ts_rows, pg_rows, f"rollup_{level} (timescaledb vs postgresql)")
        assert sum(r[3] for r in ts_rows) == n_readings, level
    # Bucket semantics: (start, start + w], labelled start + 1 us.  A reading exactly at local
    # midnight closes the previous local day; 1 us later opens the next one.
    day_rows = {
        (c, b): (n, ts_last)
        for c, b, _, n, *_, ts_last in world.ts.query(ROLLUP_SQL.format(level="1d"))
    }
    for m in world.ds.midnights:
        prev_day = m - timedelta(days=1) + US
        for code in world.ds.series:
            assert day_rows[(code, prev_day)][1] == m, (code, m)
            assert (code, m + US) in day_rows
    # A reading exactly on a 15-min / hour mark is the last one of the bucket ending there.
    for level, width in (("15m", timedelta(minutes=15)), ("1h", timedelta(hours=1))):
        last = {
            (c, b): ts_last for c, b, *_, ts_last in world.ts.query(ROLLUP_SQL.format(level=level))
        }
        marks = [t for t in world.ds.boundaries if (t - BASE) % width == timedelta(0)]
        assert len(marks) >= 3, level
        for t in marks:
            for code in world.ds.series:
                assert last[(code, t - width + US)] == t, (level, code, t)


def check_api_queries(world: World) -> None:
    ts_snap, pg_snap = snapshot(world.ts, world.ds), snapshot(world.pg, world.ds)
    assert_snapshots_equal(ts_snap, pg_snap)
    # The answers are not trivially empty, and aligned totals agree with the raw readings.
    assert len(ts_snap[f"series {GAUGE} 15m #0"]["points"]) > 250
    for k, (lo, hi) in enumerate(_totals_ranges(world.ds)):
        raw = sum(
            e
            for code, t, _, e in ts_snap["reading"]
            if e is not None and lo < t <= hi and code in (COUNTER, DELTA)
        )
        total = ts_snap[f"totals {SITE} #{k}"]["carriers"]
        got = total[0]["total"] if total else 0.0
        assert got == pytest.approx(raw, rel=1e-9, abs=1e-9), (k, lo, hi)


def test_readings_identical_and_correct(world: World) -> None:
    check_readings(world)


def test_rollups_identical(world: World) -> None:
    check_rollups(world)


def test_api_queries_identical(world: World) -> None:
    check_api_queries(world)


def watermarks(side: Side) -> dict[str, datetime]:
    """Continuous aggregates: the materialization watermark of each (internal API, pinned)."""
    return dict(
        side.query(
            "SELECT user_view_name, _timescaledb_functions.to_timestamp("
            "_timescaledb_functions.cagg_watermark(mat_hypertable_id)) "
            "FROM _timescaledb_catalog.continuous_agg"
        )
    )


def test_late_data_visible_after_one_worker_pass(world: World) -> None:
    """A late reading below the watermark, read back before any full refresh.

    Plain path: readers fold queued work in first (``series.ensure_fresh``), so the API shows
    it at once.  TimescaleDB: real-time aggregation only adds readings newer than the
    watermark; the writer queues the late range and one pass of the API's rollup worker
    (``refresh_pending_timescale``) refreshes the aggregates over it.  After that pass both
    paths answer identically."""
    dlt = world.final[DELTA]
    late = (dlt[100][0] + timedelta(seconds=11), 3.25)
    assert late[0] < dlt[101][0]
    assert all(wm > late[0] for wm in watermarks(world.ts).values())
    items = items_of([(DELTA, *late, None)])
    res = [side.write(items) for side in (world.ts, world.pg)]
    assert_same(res[0], res[1], "late batch (timescaledb vs postgresql)")
    assert res[0]["accepted"] == 1
    with world.ts.connect(autocommit=True) as conn:  # what the API's rollup worker does
        taken = 0
        while n := refresh_pending_timescale(conn):
            taken += n
        assert taken >= 1
    before = snapshot(world.ts, world.ds), snapshot(world.pg, world.ds)
    for key in before[0]:
        if key.startswith(("series", "totals")):
            assert_same(before[0][key], before[1][key], key)
    for side in (world.ts, world.pg):  # a full refresh changes nothing more
        side.refresh()
    world.final[DELTA] = sorted([*dlt, late])
    check_readings(world)
    check_api_queries(world)
    after_ts = snapshot(world.ts, world.ds)
    for key in before[0]:
        if key.startswith(("series", "totals")):
            assert_same(before[0][key], after_ts[key], f"{key} (timescaledb before vs after)")


def test_late_data_identical_after_refresh(world: World) -> None:
    """Late readings into already-refreshed 15-min buckets: a counter reading between two stored
    ones (its successor's energy changes, in the next bucket), a delta and a gauge reading."""
    cnt = world.final[COUNTER]
    day2 = BASE + timedelta(days=1, hours=8)
    # A counter reading 30 s after a stored one, in the same 15-min bucket, whose stored
    # successor lies in the next bucket: the successor's energy moves between buckets.
    k = next(
        i
        for i in range(len(cnt) - 1)
        if cnt[i][0] > day2
        and cnt[i + 1][1] > cnt[i][1]
        and cnt[i][0] + timedelta(seconds=30) < cnt[i + 1][0]
        and _b15(cnt[i][0] + timedelta(seconds=30)) == _b15(cnt[i][0])
        and _b15(cnt[i + 1][0]) != _b15(cnt[i][0])
    )
    late_c = (cnt[k][0] + timedelta(seconds=30), round(cnt[k][1] + 0.125, 3))
    assert late_c[1] < cnt[k + 1][1]
    dlt = world.final[DELTA]
    late_d = (dlt[200][0] + timedelta(seconds=11), 3.25)
    assert late_d[0] < dlt[201][0]
    gau = world.final[GAUGE]
    late_g = (gau[300][0] + timedelta(seconds=13), 123.5)
    assert late_g[0] < gau[301][0]
    touched = {
        (COUNTER, _b15(late_c[0])),
        (COUNTER, _b15(cnt[k + 1][0])),
        (DELTA, _b15(late_d[0])),
        (GAUGE, _b15(late_g[0])),
    }

    q15 = ROLLUP_SQL.format(level="15m")
    before = {(r[0], r[1]): r for r in world.ts.query(q15)}
    assert all(key in before for key in touched)
    wm = watermarks(world.ts)  # the buckets were materialized already: this data is late
    assert all(w > max(late_c[0], late_d[0], late_g[0]) for w in wm.values()), wm

    items = items_of([(COUNTER, *late_c, None), (DELTA, *late_d, None), (GAUGE, *late_g, None)])
    res = [side.write(items) for side in (world.ts, world.pg)]
    assert_same(res[0], res[1], "late batch (timescaledb vs postgresql)")
    assert res[0] == {"accepted": 3, "duplicates": 0, "conflicts": [], "rejected": []}
    for side in (world.ts, world.pg):
        side.refresh()

    for code, row in ((COUNTER, late_c), (DELTA, late_d), (GAUGE, late_g)):
        world.final[code] = sorted([*world.final[code], row])
    check_readings(world)
    check_rollups(world)
    check_api_queries(world)

    after = {(r[0], r[1]): r for r in world.ts.query(q15)}
    c_late, c_next = (COUNTER, _b15(late_c[0])), (COUNTER, _b15(cnt[k + 1][0]))
    assert after[c_late][3] == before[c_late][3] + 1
    moved = late_c[1] - cnt[k][1]
    assert after[c_late][2] == pytest.approx(before[c_late][2] + moved, rel=1e-9)
    assert after[c_next][2] == pytest.approx(before[c_next][2] - moved, rel=1e-9)
    assert after[(DELTA, _b15(late_d[0]))][2] == pytest.approx(
        before[(DELTA, _b15(late_d[0]))][2] + 3.25, rel=1e-9
    )
    assert after[(GAUGE, _b15(late_g[0]))][3] == before[(GAUGE, _b15(late_g[0]))][3] + 1


def test_compressed_chunks_and_late_data_into_them(world: World) -> None:
    """Compress every raw chunk on TimescaleDB (the policy would after 7 days): the same
    answers; then a late counter reading into a compressed chunk (insert, and an UPDATE of its
    successor's energy in that chunk) gives the same numbers as the plain path."""
    with world.ts.connect(autocommit=True) as conn:
        n = conn.execute("SELECT count(compress_chunk(c)) FROM show_chunks('reading') c").fetchone()
        compressed = conn.execute(
            "SELECT count(*) FROM timescaledb_information.chunks "
            "WHERE hypertable_name = 'reading' AND is_compressed"
        ).fetchone()
    assert n[0] >= 3 and compressed == n
    check_readings(world)
    check_rollups(world)

    cnt = world.final[COUNTER]
    k = next(
        i
        for i in range(len(cnt) // 3, len(cnt) - 1)
        if cnt[i + 1][1] > cnt[i][1] + 0.2 and cnt[i + 1][0] - cnt[i][0] > timedelta(minutes=2)
    )
    late = (cnt[k][0] + timedelta(seconds=20), round(cnt[k][1] + 0.1, 3))
    res = [side.write(items_of([(COUNTER, *late, None)])) for side in (world.ts, world.pg)]
    assert_same(res[0], res[1], "late batch into compressed chunk (timescaledb vs postgresql)")
    assert res[0]["accepted"] == 1
    for side in (world.ts, world.pg):
        side.refresh()
    world.final[COUNTER] = sorted([*cnt, late])
    check_readings(world)
    check_rollups(world)
    check_api_queries(world)


def _b15(ts: datetime) -> datetime:
    """Label of the 15-min bucket (start, start + 15 min] holding ts: start + 1 us."""
    step = 15 * 60 * 1_000_000
    us = (ts - BASE) // US - 1
    return BASE + timedelta(microseconds=math.floor(us / step) * step) + US


def test_void_identical_on_both_paths(world: World) -> None:
    """Voiding (after compression on TimescaleDB): a counter reading in the middle of its
    series (its successor's energy is recomputed from the reading before), a delta reading
    alone in its 15-min bucket and a gauge reading; both paths give the same readings, rollups
    and answers, and those of the data without the voided readings."""
    from ingest.void import void_reading

    cnt, dlt, gau = world.final[COUNTER], world.final[DELTA], world.final[GAUGE]
    k = len(cnt) // 2
    alone = next(
        i
        for i in range(1, len(dlt) - 1)
        if _b15(dlt[i][0]) not in (_b15(dlt[i - 1][0]), _b15(dlt[i + 1][0]))
    )
    voids = [(COUNTER, cnt[k]), (DELTA, dlt[alone]), (GAUGE, gau[len(gau) // 3])]
    for side in (world.ts, world.pg):
        with side.connect() as conn:
            for code, (ts, value) in voids:
                done = void_reading(conn, side.infos[code], ts, "test: meter fault", "tester")
                assert done.value == value
        side.refresh()
        kept = side.query("SELECT count(*) FROM reading_void WHERE reason = 'test: meter fault'")
        assert kept[0][0] == 3, side.name
    world.final[COUNTER] = [r for r in cnt if r != cnt[k]]
    world.final[DELTA] = [r for r in dlt if r != dlt[alone]]
    world.final[GAUGE] = [r for r in gau if r != gau[len(gau) // 3]]
    check_readings(world)
    check_rollups(world)
    check_api_queries(world)
