"""Crash durability: an answered ingest request survives a SIGKILL of the API process.

The API answers POST /readings only after the commit, so everything it acknowledged must be
readable through a fresh server process and directly in PostgreSQL; a request cut off by the
crash is all-or-nothing (one transaction), and its rollups agree with its readings.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import httpx
from sqlalchemy import text

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

T0 = datetime(2025, 4, 1, tzinfo=UTC)


def _rows(body: list[dict]) -> set[tuple[str, datetime, float]]:
    return {(r["meter"], datetime.fromisoformat(r["ts"]), r["value"]) for r in body}


def test_acknowledged_batch_survives_sigkill(db_url, engine, tmp_path, uid) -> None:  # noqa: ANN001
    per_meter = 1500
    counter, delta = f"DC-{uid}", f"DD-{uid}"
    _, admin_secret = new_key(engine, "admin")
    _, secret = new_key(engine, "ingest")
    rng = random.Random(f"durable-{uid}")
    stamps = [T0 + timedelta(minutes=i + 1) for i in range(per_meter)]
    incs = [0.0] + [rng.randint(0, 40) / 4 for _ in range(per_meter - 1)]
    regs = [500.0 + sum(incs[: i + 1]) for i in range(per_meter)]
    deltas = [rng.randint(0, 40) / 4 for _ in range(per_meter)]
    batch = [
        {"meter": code, "ts": iso(t), "value": v}
        for code, values in ((counter, regs), (delta, deltas))
        for t, v in zip(stamps, values, strict=True)
    ]
    rng.shuffle(batch)
    n = len(batch)

    first = LiveServer(db_url, tmp_path).start()
    try:
        with first.client(admin_secret) as c:
            create_meters(c, f"SD-{uid}", {counter: "counter", delta: "delta"})
        with first.client(secret) as c:
            r = post_readings(c, batch)
            first.kill()  # right after the answer: no graceful shutdown, no pool cleanup
        assert r.status_code == 200, r.text
        assert r.json() == {"accepted": n, "duplicates": 0, "rejected": []}
        assert first.proc.returncode == -signal.SIGKILL
    finally:
        first.kill()

    assert stored(engine, [counter, delta]) == _rows(batch)

    with LiveServer(db_url, tmp_path) as second:
        assert second.pid != first.pid
        with second.client(admin_secret) as c:
            end = T0 + timedelta(hours=30)
            raw = series(c, counter, iso(T0), iso(end))
            assert [
                (datetime.fromisoformat(p["ts"]), p["value"], p["energy"]) for p in raw
            ] == list(zip(stamps, regs, [None] + incs[1:], strict=True))
            raw = series(c, delta, iso(T0), iso(end))
            assert [(datetime.fromisoformat(p["ts"]), p["value"]) for p in raw] == list(
                zip(stamps, deltas, strict=True)
            )
            for code, energy in ((counter, incs), (delta, deltas)):
                hourly, count = api_hourly(c, code, T0, end)
                assert count == per_meter
                assert hourly == expected_hourly(list(zip(stamps, energy, strict=True)))
        with second.client(secret) as c:
            again = post_readings(c, batch)
        assert again.status_code == 200, again.text
        assert again.json() == {"accepted": 0, "duplicates": n, "rejected": []}
        rollups_match_readings(engine, [counter, delta])
    # graceful stop (SIGTERM) ends the process by itself
    assert not second.forced_kill and second.proc.returncode in (0, -signal.SIGTERM), second.log()
    assert stored(engine, [counter, delta]) == _rows(batch)


def test_sigkill_under_load_is_all_or_nothing(db_url, engine, tmp_path, uid) -> None:  # noqa: ANN001
    """Four writers stream batches; the server is SIGKILLed mid-stream. Answered batches are
    all stored; cut-off batches are stored entirely or not at all; rollups stay exact."""
    writers, per_batch, max_batches = 4, 400, 200
    _, admin_secret = new_key(engine, "admin")
    key_name, secret = new_key(engine, "ingest")
    meters = {w: (f"KC{w}-{uid}", f"KD{w}-{uid}") for w in range(writers)}
    codes = [c for pair in meters.values() for c in pair]
    rng = random.Random(f"crash-{uid}")

    def batch(w: int, b: int) -> list[dict]:
        counter, delta = meters[w]
        base = T0 + timedelta(minutes=b * per_batch // 2)
        out = []
        for i in range(per_batch // 2):
            k = b * per_batch // 2 + i
            out.append(
                {
                    "meter": counter,
                    "ts": iso(base + timedelta(minutes=i + 1)),
                    "value": 100.0 + k * 2.5 + (k % 3) * 0.25,
                }
            )
            out.append(
                {
                    "meter": delta,
                    "ts": iso(base + timedelta(minutes=i + 1)),
                    "value": rng.randint(0, 40) / 4,
                }
            )
        return out

    bodies = {(w, b): batch(w, b) for w in range(writers) for b in range(max_batches)}
    answered: dict[tuple[int, int], dict] = {}
    cut_off: list[tuple[int, int]] = []
    failures: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()

    first = LiveServer(db_url, tmp_path).start()
    try:
        with first.client(admin_secret) as c:
            for w, (counter, delta) in meters.items():
                create_meters(c, f"SK{w}-{uid}", {counter: "counter", delta: "delta"})

        def writer(w: int) -> None:
            try:
                with first.client(secret, timeout_s=20) as c:
                    for b in range(max_batches):
                        try:
                            r = post_readings(c, bodies[(w, b)])
                        except httpx.TimeoutException as exc:  # a hang, not a crash
                            failures.append(f"writer {w} batch {b}: {exc!r}")
                            return
                        except httpx.TransportError:  # the connection died with the server
                            with lock:
                                cut_off.append((w, b))
                            return
                        try:
                            body = r.json()
                        except ValueError:
                            body = r.text
                        with lock:
                            answered[(w, b)] = {"status": r.status_code, "body": body}
                            if len(answered) >= 3 * writers:
                                enough.set()
            except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
                failures.append(f"writer {w}: {exc!r}")

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        assert enough.wait(30), "writers made no progress"
        time.sleep(0.05)  # let new requests get into their transactions
        assert first.db_sessions() > 0  # its sessions are tagged: kill() can wait for them
        first.kill()
        for t in threads:
            t.join(30)
            assert not t.is_alive(), "a client hung after the server died"
    finally:
        first.kill()

    assert failures == []
    assert all(a["status"] == 200 for a in answered.values()), answered
    assert all(
        a["body"] == {"accepted": per_batch, "duplicates": 0, "rejected": []}
        for a in answered.values()
    )
    assert len(answered) + len(cut_off) <= writers * max_batches
    assert len(cut_off) == writers, "each writer stops at its first failed request"

    have = stored(engine, codes)
    for key in answered:
        assert _rows(bodies[key]) <= have, f"acknowledged batch {key} lost"
    committed_unanswered = set()
    for key in cut_off:
        part = _rows(bodies[key]) & have
        assert len(part) in (0, per_batch), f"batch {key} half-stored: {len(part)}"
        if part:
            committed_unanswered.add(key)
    expected = set().union(*(_rows(bodies[k]) for k in [*answered, *committed_unanswered]))
    assert have == expected
    with engine.connect() as conn:
        logged = conn.execute(
            text("SELECT coalesce(sum(accepted), 0) FROM ingest_log WHERE key_name = :k"),
            {"k": key_name},
        ).scalar()
    assert logged == len(have)  # the log row commits with the readings, or not at all

    with LiveServer(db_url, tmp_path) as second, second.client(secret) as c:
        # Rollup work committed (or queued) before the crash is complete after a restart.
        rollups_match_readings(engine, codes)
        for key in sorted([*answered, *cut_off]):
            r = post_readings(c, bodies[key])
            assert r.status_code == 200, r.text
            out = r.json()
            assert out["rejected"] == []
            done = key in answered or key in committed_unanswered
            assert (out["accepted"], out["duplicates"]) == (
                (0, per_batch) if done else (per_batch, 0)
            ), key
        rollups_match_readings(engine, codes)
    # Counter energy is still exact across the crash: register increase per interval.
    with engine.connect() as conn:
        for counter, _ in meters.values():
            rows = conn.execute(
                text(
                    "SELECT r.value, r.energy FROM reading r JOIN meter m ON m.id = r.meter_id "
                    "WHERE m.code = :c ORDER BY r.ts"
                ),
                {"c": counter},
            ).all()
            assert rows[0].energy is None
            for prev, cur in pairwise(rows):
                assert cur.energy == cur.value - prev.value, (counter, prev, cur)
