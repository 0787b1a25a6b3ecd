"""Stream rules are evaluated inside the ingest transaction: the alarm commits with the reading
that raised it (visible when the 2xx arrives, no waiting for a thread), and an evaluation that
cannot run in time (a lock held by a slow transaction) or fails never fails the ingest: the
readings commit and the evaluator thread raises the alarm afterwards."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import text

from alarms import evaluate
from tests.support.alarms import API, BASE, alarms_of, history, meter, minutes, post, rule, settle


def _stored(engine, code: str) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM reading r JOIN meter m ON m.id = r.meter_id WHERE m.code = :c"
            ),
            {"c": code},
        ).scalar_one()


def test_the_alarm_is_committed_with_the_reading(client, admin_headers, uid, monkeypatch) -> None:  # noqa: ANN001
    alarms = client.app.state.alarms
    assert alarms.inline
    monkeypatch.setattr(alarms, "on_batch", lambda batch: None)  # no thread to fall back on
    code = meter(client, admin_headers, f"INL-{uid}")
    rid = rule(
        client,
        admin_headers,
        name=f"inline {uid}",
        meter=code,
        type="threshold",
        high=100,
        deadband=5,
    )["id"]
    post(client, admin_headers, code, minutes([50, 60]))
    assert alarms_of(client, admin_headers, rid)["high"]["state"] == "normal"
    post(client, admin_headers, code, minutes([150], BASE + timedelta(minutes=2)))
    # no settle(): the answer of the POST came after the commit that holds the alarm
    high = alarms_of(client, admin_headers, rid)["high"]
    assert high["state"] == "active_unacknowledged" and high["value"] == 150
    assert [e["action"] for e in history(client, admin_headers, high["id"])] == ["activate"]


def test_a_held_lock_defers_evaluation_and_never_blocks_ingest(
    client, admin_headers, engine, uid
) -> None:  # noqa: ANN001
    code = meter(client, admin_headers, f"INLK-{uid}")
    rid = rule(
        client, admin_headers, name=f"inline lock {uid}", meter=code, type="threshold", high=100
    )["id"]
    held, release = threading.Event(), threading.Event()

    def hold() -> None:  # an operator's transaction that keeps the alarm row locked
        with engine.begin() as conn:
            conn.execute(text("SELECT id FROM alarm WHERE rule_id = :r FOR UPDATE"), {"r": rid})
            held.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    assert held.wait(5)
    try:
        answer = post(client, admin_headers, code, minutes([150, 160]))
        assert answer["accepted"] == 2 and _stored(engine, code) == 2  # committed anyway
        assert alarms_of(client, admin_headers, rid)["high"]["state"] == "normal"
    finally:
        release.set()
        t.join()
    settle(client)  # the evaluator thread took the batch over
    high = alarms_of(client, admin_headers, rid)["high"]
    assert high["state"] == "active_unacknowledged" and high["value"] == 150
    assert len(history(client, admin_headers, high["id"])) == 1


def test_a_failing_evaluation_is_retried_after_the_commit(
    client, admin_headers, engine, uid, monkeypatch
) -> None:  # noqa: ANN001
    code = meter(client, admin_headers, f"INLF-{uid}")
    rid = rule(
        client, admin_headers, name=f"inline fail {uid}", meter=code, type="threshold", high=100
    )["id"]
    real = evaluate.evaluate_readings
    calls = {"n": 0}

    def flaky(conn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        calls["n"] += 1
        if calls["n"] == 1:  # the inline attempt writes, then fails: its savepoint is undone
            real(conn, *args, **kwargs)
            raise RuntimeError("evaluation bug")
        return real(conn, *args, **kwargs)

    monkeypatch.setattr(evaluate, "evaluate_readings", flaky)
    r = client.post(
        f"{API}/readings",
        headers=admin_headers,
        json={
            "readings": [
                {"meter": code, "ts": ts.isoformat(), "value": v} for ts, v in minutes([150])
            ]
        },
    )
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert _stored(engine, code) == 1
    settle(client)
    assert calls["n"] == 2
    high = alarms_of(client, admin_headers, rid)["high"]
    assert high["state"] == "active_unacknowledged"
    assert [e["action"] for e in history(client, admin_headers, high["id"])] == ["activate"]
