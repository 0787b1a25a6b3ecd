"""The broker subscribers in-process against the real broker and database: rejected items and
unreadable messages go to the dead-letter topic with their reasons and are never stored."""

from __future__ import annotations

import asyncio
import queue
import time
from datetime import UTC, datetime

import orjson
import paho.mqtt.client as mqtt
from sqlalchemy import text

from ingest.brokers import (
    MqttIngest,
    MqttIngestConfig,
    NatsIngest,
    NatsIngestConfig,
    broker_context,
    ingest_messages,
)
from tests.support.field import forget_mqtt_session, wait_for

T0 = datetime(2026, 2, 1, tzinfo=UTC)


def _ctx(engine):  # noqa: ANN001, ANN202
    return broker_context(engine, future_tolerance_s=300, max_batch=200_000)


def _rows(engine, code: str) -> list[tuple]:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT r.ts, r.value FROM reading r JOIN meter m ON m.id = r.meter_id "
                "WHERE m.code = :c ORDER BY r.ts"
            ),
            {"c": code},
        ).all()


def _messages(code: str) -> list[bytes]:
    good = {"readings": [{"meter": code, "ts": T0.isoformat(), "value": 1.5}]}
    mixed = {
        "readings": [
            {"meter": code, "ts": "2026-02-01T00:01:00+00:00", "value": 2.0},
            {"meter": "NO-SUCH-METER", "ts": "2026-02-01T00:01:00+00:00", "value": 2.0},
            {"meter": code, "ts": "2026-02-01T00:02:00+00:00", "value": "NaN"},
        ]
    }
    series = {"series": [{"meter": code, "ts": ["2026-02-01T00:03:00Z"], "value": [3.0]}]}
    return [orjson.dumps(good), orjson.dumps(mixed), b"not json", orjson.dumps(series)]


def test_one_commit_many_messages_indexes_per_message(engine, plant) -> None:
    code = plant["gauge"]
    outcomes, totals = ingest_messages(_ctx(engine), _messages(code))
    assert [o.stored for o in outcomes] == [1, 1, 0, 1]
    assert outcomes[2].invalid and "JSON" in outcomes[2].invalid
    assert [r["index"] for r in outcomes[1].rejected] == [1, 2]
    assert "meter" in outcomes[1].rejected[0]["error"]
    assert outcomes[1].rejected[0]["item"]["meter"] == "NO-SUCH-METER"
    assert totals == {"accepted": 3, "duplicates": 0, "rejected": 2}
    assert [v for _, v in _rows(engine, code)] == [1.5, 2.0, 3.0]
    # sent again (a redelivery): counted as duplicates, nothing stored twice
    _, again = ingest_messages(_ctx(engine), _messages(code))
    assert again == {"accepted": 0, "duplicates": 3, "rejected": 2}
    assert len(_rows(engine, code)) == 3


def test_mqtt_dead_letters(engine, plant, uid) -> None:
    code = plant["gauge"]
    dead: queue.Queue = queue.Queue()
    watcher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    watcher.on_message = lambda c, u, m: dead.put(orjson.loads(m.payload))
    watcher.connect("127.0.0.1", 1883)
    watcher.subscribe(f"ecc-test/{uid}/dead", qos=1)
    watcher.loop_start()
    sub = MqttIngest(
        _ctx(engine),
        MqttIngestConfig(
            topic=f"ecc-test/{uid}/in/#",
            client_id=f"ingest-{uid}",
            deadletter_topic=f"ecc-test/{uid}/dead",
        ),
    ).start()
    try:
        assert sub.connected.wait(10)
        time.sleep(0.2)
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        pub.connect("127.0.0.1", 1883)
        pub.loop_start()
        for body in _messages(code):
            pub.publish(f"ecc-test/{uid}/in/p1", body, qos=1).wait_for_publish(5)
        pub.loop_stop()
        wait_for(lambda: sub.stats["messages"] == 4, 20, "four messages")
        letters = [dead.get(timeout=10), dead.get(timeout=10)]
    finally:
        sub.stop()
        watcher.loop_stop()
        forget_mqtt_session(f"ingest-{uid}")
    assert sub.stats["accepted"] == 3 and sub.stats["dead_letters"] == 2
    by_kind = {("error" in d): d for d in letters}
    assert by_kind[True]["source"] == f"ecc-test/{uid}/in/p1" and "JSON" in by_kind[True]["error"]
    assert [r["index"] for r in by_kind[False]["rejected"]] == [1, 2]
    assert len(_rows(engine, code)) == 3


def test_nats_dead_letters(engine, plant, uid) -> None:
    import nats

    code = plant["gauge"]
    cfg = NatsIngestConfig(
        stream=f"ECC_U_{uid}",
        subject=f"ecc-u.{uid}.>",
        durable=f"d-{uid}",
        deadletter_subject=f"ecc-u-dead.{uid}",
    )
    sub = NatsIngest(_ctx(engine), cfg)

    async def go() -> list[dict]:
        nc = await nats.connect(cfg.url)
        letters: list[dict] = []

        async def on_dead(msg) -> None:  # noqa: ANN001
            letters.append(orjson.loads(msg.data))

        await nc.subscribe(cfg.deadletter_subject, cb=on_dead)
        js = nc.jetstream()
        try:
            await js.add_stream(name=cfg.stream, subjects=[cfg.subject])
            runner = asyncio.ensure_future(sub.run())
            for body in _messages(code):
                await js.publish(f"ecc-u.{uid}.p1", body)
            for _ in range(200):
                if sub.stats["messages"] == 4 and len(letters) == 2:
                    break
                await asyncio.sleep(0.05)
            sub.stop_event.set()
            await runner
            info = await js.consumer_info(cfg.stream, cfg.durable)
            assert info.num_ack_pending == 0 and info.num_pending == 0
        finally:
            await js.delete_stream(cfg.stream)
            await nc.close()
        return letters

    letters = asyncio.run(go())
    assert sub.stats["accepted"] == 3 and sub.stats["dead_letters"] == 2
    assert sorted("error" in d for d in letters) == [False, True]
    assert len(_rows(engine, code)) == 3
