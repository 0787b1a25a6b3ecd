"""The broker subscribers in-process against the real broker and database: rejected items and
unreadable messages go to the dead-letter topic with their reasons and are never stored."""

from __future__ import annotations

import asyncio
import queue
import threading
from datetime import UTC, datetime

import orjson
import paho.mqtt.client as mqtt
from sqlalchemy import text

from collectors.config import Center
from collectors.forward import MqttTransport, NatsTransport, health_body
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
    watching = threading.Event()
    watcher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    watcher.on_message = lambda c, u, m: dead.put(orjson.loads(m.payload))
    watcher.on_subscribe = lambda *_: watching.set()
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
        assert sub.connected.wait(10)  # set on the SUBACK: subscribed
        # the broker drops a dead letter that nobody is subscribed to yet: the watcher's
        # subscription is acknowledged (SUBACK) before anything is published, not guessed at
        assert watching.wait(10), "the dead-letter watcher could not subscribe"
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


# -- collector health over the brokers ----------------------------------------------------------

NOW = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


def _health(collector: str, codes: list[str], online: bool = True) -> dict:
    """A collector's report as ``collectors.health.Health.report`` builds it."""
    return {
        "collector": collector,
        "report_every_s": 30.0,
        "devices": [
            {
                "name": "pm1",
                "protocol": "modbus_tcp",
                "online": online,
                "poll_s": 1.0,
                "points": [
                    {
                        "meter": c,
                        "last_good": NOW.timestamp() - 2,
                        "reads": 5,
                        "errors": {"timeout": 1, "exception": 0, "bad_value": 2},
                    }
                    for c in codes
                ],
            }
        ],
        "buffer": {"queued": 0},
    }


def _points(engine, collector: str) -> list[tuple]:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT device, meter_code, online, reads, errors->>'bad_value', "
                "last_good FROM collector_point WHERE collector = :c ORDER BY meter_code"
            ),
            {"c": collector},
        ).all()


def test_health_reports_are_recorded_beside_the_readings(engine, plant, uid) -> None:
    code = plant["gauge"]
    bad = _health(f"gw-bad-{uid}", [code])
    bad["devices"][0]["points"][0]["reads"] = -1
    bodies = [
        _messages(code)[0],
        health_body(_health(f"gw-{uid}", [code, f"X-{uid}"])),
        health_body(bad),
        orjson.dumps({"collector_health": {"collector": ""}}),
    ]
    outcomes, totals = ingest_messages(_ctx(engine), bodies)
    assert totals["accepted"] == 1 and outcomes[0].stored == 1
    assert outcomes[1].health_points == 2 and not outcomes[1].dead
    assert "devices[0].points[0].reads" in (outcomes[2].invalid or "")
    assert "collector" in (outcomes[3].invalid or "") and outcomes[3].dead
    rows = _points(engine, f"gw-{uid}")
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        ("pm1", code, True, 5, "2"),
        ("pm1", f"X-{uid}", True, 5, "2"),
    ]
    assert rows[0][5] == datetime(2026, 2, 1, 7, 59, 58, tzinfo=UTC)
    assert _points(engine, f"gw-bad-{uid}") == []
    # a later report replaces the earlier one (the HTTP path's rule, the same function)
    ingest_messages(_ctx(engine), [health_body(_health(f"gw-{uid}", [code], online=False))])
    assert [(r[1], r[2]) for r in _points(engine, f"gw-{uid}")] == [(code, False)]


def test_nats_collector_health_reaches_the_center(engine, plant, uid) -> None:
    import nats

    cfg = NatsIngestConfig(
        stream=f"ECC_H_{uid}",
        subject=f"ecc-h.{uid}.>",
        durable=f"h-{uid}",
        deadletter_subject=f"ecc-h-dead.{uid}",
    )
    sub = NatsIngest(_ctx(engine), cfg)
    center = Center(transport="nats", url=cfg.url, subject=f"ecc-h.{uid}.plant", key_env=None)

    async def go() -> None:
        nc = await nats.connect(cfg.url)
        js = nc.jetstream()
        transport = NatsTransport(center)
        try:
            await js.add_stream(name=cfg.stream, subjects=[cfg.subject])
            runner = asyncio.ensure_future(sub.run())
            await transport.send_health(_health(f"gw-n-{uid}", [plant["gauge"]]))
            for _ in range(200):
                if sub.stats["messages"] == 1:
                    break
                await asyncio.sleep(0.05)
            sub.stop_event.set()
            await runner
            info = await js.consumer_info(cfg.stream, cfg.durable)
            assert info.num_ack_pending == 0 and info.num_pending == 0
        finally:
            await transport.close()
            await js.delete_stream(cfg.stream)
            await nc.close()

    asyncio.run(go())
    assert sub.stats["dead_letters"] == 0
    assert [r[1] for r in _points(engine, f"gw-n-{uid}")] == [plant["gauge"]]


def test_mqtt_collector_health_reaches_the_center(engine, plant, uid) -> None:
    sub = MqttIngest(
        _ctx(engine),
        MqttIngestConfig(
            topic=f"ecc-test/{uid}/h/#",
            client_id=f"ingest-h-{uid}",
            deadletter_topic=f"ecc-test/{uid}/hdead",
        ),
    ).start()
    center = Center(
        transport="mqtt", url="mqtt://127.0.0.1:1883", topic=f"ecc-test/{uid}/h/p1", key_env=None
    )
    transport = MqttTransport(center)
    try:
        assert sub.connected.wait(10)
        wait_for(transport.client.is_connected, 10, "collector connected")
        asyncio.run(transport.send_health(_health(f"gw-m-{uid}", [plant["gauge"]], online=False)))
        wait_for(lambda: sub.stats["messages"] == 1, 20, "one health message")
    finally:
        asyncio.run(transport.close())
        sub.stop()
        forget_mqtt_session(f"ingest-h-{uid}")
    assert sub.stats["dead_letters"] == 0
    assert [(r[1], r[2]) for r in _points(engine, f"gw-m-{uid}")] == [(plant["gauge"], False)]
