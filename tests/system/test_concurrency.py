"""Concurrent ingest against a live uvicorn server: idempotence, counter races, overload (503).

Every test talks HTTP to a real server process (tests/live_server.py) and checks the result
both through the API and directly in PostgreSQL. Values are multiples of 1/4, so every sum
below is exact in binary floating point and is compared with ``==``.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from core.settings import get_settings
from tests.support.live_server import (
    LiveServer,
    api_hourly,
    create_meters,
    expected_hourly,
    iso,
    new_key,
    post_readings,
    rollups_match_readings,
    series,
    stored,
)

T0 = datetime(2025, 3, 1, tzinfo=UTC)


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(db_url, tmp_path_factory.mktemp("live")) as srv:
        yield srv


@pytest.fixture(scope="module")
def admin(server: LiveServer, engine) -> Iterator[httpx.Client]:  # noqa: ANN001
    _, secret = new_key(engine, "admin")
    with server.client(secret) as c:
        yield c


# -- helpers -------------------------------------------------------------------------------


def counter_registers(
    rng: random.Random, n: int, start: float, rollover: float | None = None
) -> tuple[list[float], list[float]]:
    """Register readings and the energy of each interval (first interval: 0)."""
    regs, incs, reg = [], [], start
    for i in range(n):
        inc = 0.0 if i == 0 else rng.randint(0, 40) / 4
        reg += inc
        if rollover is not None and reg >= rollover:
            reg -= rollover
        regs.append(reg)
        incs.append(inc)
    return regs, incs


def fire(
    server: LiveServer, secret: str, bodies: list[list[dict]], threads: int, timeout_s: float = 60.0
) -> list[tuple[httpx.Response, float]]:
    """Send ``bodies`` from ``threads`` threads released together; (response, seconds) each."""
    barrier = threading.Barrier(threads, timeout=30)
    queue = list(enumerate(bodies))
    lock = threading.Lock()
    results: dict[int, tuple[httpx.Response, float]] = {}

    def worker() -> None:
        with server.client(secret, timeout_s=timeout_s) as c:
            barrier.wait()
            while True:
                with lock:
                    if not queue:
                        return
                    i, body = queue.pop(0)
                t = time.monotonic()
                r = post_readings(c, body)
                results[i] = (r, time.monotonic() - t)

    with ThreadPoolExecutor(threads) as ex:
        for f in [ex.submit(worker) for _ in range(threads)]:
            f.result(timeout=timeout_s * 2)  # a hang or a client timeout fails the test here
    return [results[i] for i in range(len(bodies))]


# -- tests ---------------------------------------------------------------------------------


def test_same_batch_from_8_threads_is_stored_once(server, admin, engine, uid) -> None:  # noqa: ANN001
    threads, per_meter = 8, 500
    codes = {
        f"CC1-{uid}": "counter",
        f"CC2-{uid}": "counter",
        f"CD1-{uid}": "delta",
        f"CD2-{uid}": "delta",
    }
    create_meters(admin, f"SC-{uid}", codes)
    key_name, secret = new_key(engine, "ingest")
    rng = random.Random(f"same-{uid}")

    batch, expected_rows, energy = [], set(), {}
    for code, kind in codes.items():
        stamps = [T0 + timedelta(minutes=i + 1) for i in range(per_meter)]
        if kind == "counter":
            values, incs = counter_registers(rng, per_meter, rng.randint(0, 4000) / 4)
        else:
            values = [rng.randint(0, 40) / 4 for _ in range(per_meter)]
            incs = values
        batch += [
            {"meter": code, "ts": iso(t), "value": v} for t, v in zip(stamps, values, strict=True)
        ]
        expected_rows |= {(code, t, v) for t, v in zip(stamps, values, strict=True)}
        energy[code] = list(zip(stamps, incs, strict=True))
    rng.shuffle(batch)  # out of order inside the request, too
    n = len(batch)
    assert n == 2000

    results = fire(server, secret, [batch] * threads, threads)

    answers = [r.json() for r, _ in results]
    assert [r.status_code for r, _ in results] == [200] * threads, answers
    assert all(a["rejected"] == [] for a in answers), answers
    assert all(a["accepted"] + a["duplicates"] == n for a in answers), answers
    assert sum(a["accepted"] for a in answers) == n, answers
    assert sum(a["duplicates"] for a in answers) == (threads - 1) * n, answers
    # The writer locks all meters of a batch before inserting: one request wins everything.
    assert sorted(a["accepted"] for a in answers) == [0] * (threads - 1) + [n], answers

    assert stored(engine, list(codes)) == expected_rows
    with engine.connect() as conn:
        log = conn.execute(
            text(
                "SELECT count(*), sum(accepted), sum(duplicates), sum(rejected) FROM ingest_log "
                "WHERE key_name = :k"
            ),
            {"k": key_name},
        ).one()
    assert tuple(log) == (threads, n, (threads - 1) * n, 0)

    end = T0 + timedelta(hours=10)
    for code in codes:
        hourly, count = api_hourly(admin, code, T0, end)
        assert count == per_meter, code
        assert hourly == expected_hourly(energy[code]), code
        assert sum(hourly.values()) == sum(e for _, e in energy[code]), code
    rollups_match_readings(engine, list(codes))


@pytest.mark.parametrize("seed", [1, 2])
def test_overlapping_counter_batches_out_of_order(server, admin, engine, uid, seed) -> None:  # noqa: ANN001
    """Different, overlapping, shuffled batches of two counters (one rolls over) raced by
    6 threads: each interval's energy is counted once, whatever the arrival order."""
    threads, n_batches, per_meter, rollover = 6, 12, 720, 10_000.0
    plain, wrap = f"OC-{uid}", f"OR-{uid}"
    create_meters(admin, f"SO-{uid}", {plain: "counter"})
    r = admin.post(
        "/api/v1/meters",
        json={
            "code": wrap,
            "name": wrap,
            "site": f"SO-{uid}",
            "carrier": "electricity",
            "unit": "kWh",
            "kind": "counter",
            "interval_s": 60,
            "rollover": rollover,
        },
    )
    assert r.status_code == 201, r.text
    _, secret = new_key(engine, "ingest")
    rng = random.Random(f"overlap-{seed}-{uid}")

    stamps = [T0 + timedelta(minutes=i + 1) for i in range(per_meter)]
    regs = {
        plain: counter_registers(rng, per_meter, 1000.0),
        wrap: counter_registers(rng, per_meter, 8000.0, rollover),
    }
    assert regs[wrap][0][-1] < regs[wrap][0][0], "the rollover meter must wrap once"

    chunk = per_meter // n_batches
    bodies = []
    for b in range(n_batches):
        lo, hi = max(0, b * chunk - chunk // 2), min(per_meter, (b + 1) * chunk + chunk // 2)
        picks = set(range(lo, hi)) | set(rng.sample(range(per_meter), 30))
        body = [
            {"meter": code, "ts": iso(stamps[i]), "value": regs[code][0][i]}
            for code in (plain, wrap)
            for i in picks
        ]
        rng.shuffle(body)
        bodies.append(body)
    rng.shuffle(bodies)
    sent = sum(len(b) for b in bodies)

    results = fire(server, secret, bodies, threads)

    answers = [r.json() for r, _ in results]
    assert [r.status_code for r, _ in results] == [200] * n_batches, answers
    assert all(a["rejected"] == [] for a in answers), answers
    assert sum(a["accepted"] for a in answers) == 2 * per_meter, answers
    assert sum(a["accepted"] + a["duplicates"] for a in answers) == sent, answers

    end = T0 + timedelta(hours=13)
    for code in (plain, wrap):
        values, incs = regs[code]
        raw = series(admin, code, iso(T0), iso(end))
        assert [(datetime.fromisoformat(p["ts"]), p["value"]) for p in raw] == list(
            zip(stamps, values, strict=True)
        ), code
        # Energy of every reading = register increase since its predecessor (first: none).
        assert [p["energy"] for p in raw] == [None] + incs[1:], code
        minute = series(admin, code, iso(T0), iso(end), "1m")
        assert len(minute) == per_meter
        assert sum(p["n"] for p in minute) == per_meter
        total = sum(p["value"] for p in minute)
        if code == plain:
            assert total == values[-1] - values[0]
        else:
            assert total == values[-1] - values[0] + rollover
        assert total == sum(incs)
        hourly, count = api_hourly(admin, code, T0, end)
        assert count == per_meter
        assert hourly == expected_hourly(list(zip(stamps, incs, strict=True)))
    rollups_match_readings(engine, [plain, wrap])


@pytest.fixture
def tight_server(db_url: str, tmp_path) -> Iterator[LiveServer]:  # noqa: ANN001
    env = {"ECC_MAX_INFLIGHT_WRITES": "1", "ECC_WRITE_WAIT_S": "0.05"}
    with LiveServer(db_url, tmp_path, env=env) as srv:
        yield srv


def test_overload_answers_503_with_retry_after(tight_server, engine, uid) -> None:  # noqa: ANN001
    threads, per_meter = 12, 1000
    _, admin_secret = new_key(engine, "admin")
    codes = [f"OV{i}-{uid}" for i in range(4)]
    with tight_server.client(admin_secret) as c:
        create_meters(c, f"SV-{uid}", dict.fromkeys(codes, "delta"))
    _, secret = new_key(engine, "ingest")
    rng = random.Random(f"overload-{uid}")

    bodies, rows = [], []
    for b in range(threads):  # disjoint time ranges: every batch is all-new readings
        stamps = [T0 + timedelta(minutes=b * per_meter + i + 1) for i in range(per_meter)]
        body = [
            {"meter": code, "ts": iso(t), "value": rng.randint(1, 40) / 4}
            for code in codes
            for t in stamps
        ]
        bodies.append(body)
        rows.append({(r["meter"], datetime.fromisoformat(r["ts"]), r["value"]) for r in body})
    size = len(bodies[0])

    results = fire(tight_server, secret, bodies, threads, timeout_s=30)

    statuses = Counter(r.status_code for r, _ in results)
    assert set(statuses) <= {200, 503}, [(r.status_code, r.text[:300]) for r, _ in results]
    assert statuses[503] >= 1, statuses
    assert statuses[200] >= 1, statuses
    ok, refused = [], []
    for i, (r, seconds) in enumerate(results):
        if r.status_code == 200:
            assert r.json() == {"accepted": size, "duplicates": 0, "rejected": []}
            ok.append(i)
        else:
            assert int(r.headers["Retry-After"]) >= 1
            assert r.json()["error"] == "ingest is at capacity; retry later"
            assert seconds < 15, f"a 503 took {seconds:.1f} s"
            refused.append(i)
    # Answered 200 → stored; answered 503 → nothing of it stored.
    assert stored(engine, codes) == set().union(*(rows[i] for i in ok))

    # The slot is released after overload: retrying the refused batches stores them all.
    with tight_server.client(secret, timeout_s=30) as c:
        for i in refused:
            for _ in range(10):
                r = post_readings(c, bodies[i])
                if r.status_code != 503:
                    break
                time.sleep(min(float(r.headers["Retry-After"]), 1.0))
            assert r.status_code == 200, r.text
            assert r.json() == {"accepted": size, "duplicates": 0, "rejected": []}
    assert stored(engine, codes) == set().union(*rows)
    rollups_match_readings(engine, codes)
    assert httpx.get(f"{tight_server.url}/healthz", timeout=5).status_code == 200


@pytest.fixture
def lazy_server(tmp_path) -> Iterator[tuple[LiveServer, object]]:  # noqa: ANN001
    """A server without the background rollup worker on a database of its own (no other
    process folds its queue): queued rollup work is folded by the next reader, in one go."""
    from core.db import make_engine
    from core.settings import Settings
    from migrations import runner as migrate
    from tests.support.db import SERVER_URL, _admin

    name = f"ecc_lazy_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    url = f"{SERVER_URL.rsplit('/', 1)[0]}/{name}"
    eng = make_engine(Settings(database_url=url), pool_size=1)
    try:
        migrate.upgrade(eng)
        with LiveServer(url, tmp_path, env={"ECC_ROLLUP_WORKER": "false"}) as srv:
            yield srv, eng
    finally:
        eng.dispose()
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_day_rollup_counts_each_reading_once(lazy_server, uid) -> None:  # noqa: ANN001
    """Deterministic reduction of the double counting the overload test above runs into:
    two batches of one meter on the same local day, eight hours apart, folded by one read."""
    from zoneinfo import ZoneInfo

    lazy_server, engine = lazy_server
    tz = ZoneInfo(get_settings().timezone)  # the site below is created without a zone
    _, secret = new_key(engine, "admin")
    code, site = f"DY-{uid}", f"SY-{uid}"
    day = datetime(2025, 5, 10, tzinfo=tz)
    morning = [day + timedelta(hours=1, minutes=i + 1) for i in range(60)]
    evening = [day + timedelta(hours=9, minutes=i + 1) for i in range(60)]
    with lazy_server.client(secret) as c:
        create_meters(c, site, {code: "delta"})
        for stamps, value in ((morning, 0.25), (evening, 0.5)):
            r = post_readings(c, [{"meter": code, "ts": iso(t), "value": value} for t in stamps])
            assert r.json() == {"accepted": 60, "duplicates": 0, "rejected": []}
        expected = 60 * 0.25 + 60 * 0.5
        hourly = series(c, code, iso(day), iso(day + timedelta(days=1)), "1h")
        assert (sum(p["n"] for p in hourly), sum(p["value"] for p in hourly)) == (120, expected)
        daily = series(c, code, iso(day), iso(day + timedelta(days=1)), "1d")
        totals = c.get(
            f"/api/v1/sites/{site}/totals",
            params={"start": iso(day), "end": iso(day + timedelta(days=1))},
        ).json()
    assert [(p["n"], p["value"]) for p in daily] == [(120, expected)]
    assert totals["carriers"] == [{"carrier": "electricity", "unit": "kWh", "total": expected}]


def test_rollups_read_your_writes_under_background_refresh(server, admin, engine, uid) -> None:  # noqa: ANN001
    """A series read right after a 200 shows every reading of that request, while other
    writers keep the API's background rollup refresher busy."""
    threads, rounds, per_meter = 4, 6, 1000
    codes = [[f"RW{t}_{k}-{uid}" for k in range(rounds)] for t in range(threads)]
    create_meters(admin, f"SR-{uid}", {c: "delta" for row in codes for c in row})
    _, secret = new_key(engine, "engineer")  # may write and read
    stamps = [T0 + timedelta(minutes=i + 1) for i in range(per_meter)]
    end = T0 + timedelta(hours=20)
    stale: list[tuple[str, str, int, float]] = []
    barrier = threading.Barrier(threads, timeout=30)

    def worker(t: int) -> None:
        rng = random.Random(f"ryw-{t}-{uid}")
        with server.client(secret) as c:
            barrier.wait()
            for code in codes[t]:
                values = [rng.randint(0, 40) / 4 for _ in stamps]
                r = post_readings(
                    c,
                    [
                        {"meter": code, "ts": iso(ts), "value": v}
                        for ts, v in zip(stamps, values, strict=True)
                    ],
                )
                assert r.status_code == 200 and r.json()["accepted"] == per_meter, r.text
                time.sleep(rng.random() * 0.3)
                for res in ("15m", "1h"):
                    pts = series(c, code, iso(T0), iso(end), res)
                    n, total = sum(p["n"] for p in pts), sum(p["value"] for p in pts)
                    if (n, total) != (per_meter, sum(values)):
                        stale.append((code, res, n, total))

    with ThreadPoolExecutor(threads) as ex:
        for f in [ex.submit(worker, t) for t in range(threads)]:
            f.result(timeout=120)
    assert stale == [], (
        f"{len(stale)} of {2 * threads * rounds} reads missed acknowledged readings: {stale[:5]}"
    )
