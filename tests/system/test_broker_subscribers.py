"""``ecc ingest-mqtt`` and ``ecc ingest-nats`` killed mid-stream: every message the broker
accepted is stored once when a restarted subscriber has caught up (acknowledged only after the
commit; a redelivered message is counted as duplicates, never stored twice)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import orjson
import paho.mqtt.client as mqtt
from sqlalchemy import text

from tests.support.field import EccProcess, forget_mqtt_session, wait_for

T0 = datetime(2026, 3, 1, tzinfo=UTC)  # pinned: readings well in the past
MESSAGES = 300
PER_MESSAGE = 20


def _plant(client, headers, uid: str, n_meters: int = 4) -> list[str]:  # noqa: ANN001
    site = f"BRK-{uid}"
    assert client.post(
        "/api/v1/sites", json={"code": site, "name": site}, headers=headers
    ).is_success
    codes = [f"BRK-{uid}-{i}" for i in range(n_meters)]
    for code in codes:
        r = client.post(
            "/api/v1/meters",
            headers=headers,
            json={
                "code": code,
                "name": code,
                "site": site,
                "carrier": "electricity",
                "unit": "kWh",
                "kind": "delta",
                "interval_s": 60,
            },
        )
        assert r.status_code == 201, r.text
    return codes


def _bodies(codes: list[str]) -> list[bytes]:
    out = []
    for m in range(MESSAGES):
        readings = []
        for k in range(PER_MESSAGE):
            i = m * PER_MESSAGE + k
            readings.append(
                {
                    "meter": codes[i % len(codes)],
                    "ts": (T0 + timedelta(minutes=i // len(codes))).isoformat(),
                    "value": round(0.5 + (i % 7) * 0.25, 2),
                }
            )
        out.append(orjson.dumps({"readings": readings}))
    return out


def _count(engine, codes: list[str]) -> tuple[int, int]:  # noqa: ANN001
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT (r.meter_id, r.ts)) FROM reading r "
                    "JOIN meter m ON m.id = r.meter_id WHERE m.code = ANY(:c)"
                ),
                {"c": codes},
            ).one()
        )


def _env(db_url: str, tmp_path, **extra: str) -> dict[str, str]:  # noqa: ANN001
    return {
        "ECC_DATABASE_URL": db_url,
        "ECC_DATA_DIR": str(tmp_path / "data"),
        "ECC_ALARM_ENGINE": "false",
        "ECC_LOG_LEVEL": "info",
        "ECC_INGEST_BROKER_BATCH": "10",
        **extra,
    }


def test_mqtt_subscriber_killed_mid_stream(db_url, engine, client, admin_headers, uid, tmp_path):
    codes = _plant(client, admin_headers, uid)
    bodies = _bodies(codes)
    topic = f"ecc-test/{uid}/readings"
    env = _env(
        db_url,
        tmp_path,
        ECC_INGEST_MQTT_TOPIC=f"{topic}/#",
        ECC_INGEST_MQTT_CLIENT_ID=f"ecc-ingest-{uid}",
        ECC_INGEST_MQTT_DEADLETTER_TOPIC=f"ecc-test/{uid}/dead",
    )
    sub = EccProcess(["ingest-mqtt"], tmp_path, env).start()
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{uid}")
    pub.connect("127.0.0.1", 1883)
    pub.loop_start()
    try:
        wait_for(lambda: "subscribed to" in sub.log_path.read_text(), 30, "the subscription")
        for n, body in enumerate(bodies):
            pub.publish(f"{topic}/plant{n % 3}", body, qos=1).wait_for_publish(10)
            if n == MESSAGES // 3:
                wait_for(lambda: _count(engine, codes)[0] > 0, 30, "the first commits")
                sub.kill()  # mid-stream: some stored but unacknowledged, some in flight
            if n == MESSAGES // 2:
                sub = EccProcess(["ingest-mqtt"], tmp_path, env).start()
        total = MESSAGES * PER_MESSAGE
        wait_for(lambda: _count(engine, codes)[0] >= total, 60, "every published reading")
        time.sleep(0.5)  # anything redelivered late must not add rows
        assert _count(engine, codes) == (total, total)
    finally:
        pub.loop_stop()
        sub.stop()
        forget_mqtt_session(f"ecc-ingest-{uid}")


def test_nats_subscriber_killed_mid_stream(db_url, engine, client, admin_headers, uid, tmp_path):
    import nats

    codes = _plant(client, admin_headers, uid)
    bodies = _bodies(codes)
    stream, subject = f"ECC_T_{uid}", f"ecc-test.{uid}.readings"
    env = _env(
        db_url,
        tmp_path,
        ECC_INGEST_NATS_STREAM=stream,
        ECC_INGEST_NATS_SUBJECT=f"{subject}.>",
        ECC_INGEST_NATS_DURABLE=f"ingest-{uid}",
        ECC_INGEST_NATS_DEADLETTER_SUBJECT=f"ecc-test.{uid}.dead",
        # what the killed worker had fetched comes back after this wait, not the default 30 s;
        # a slow commit redelivered meanwhile is counted as duplicates, never stored twice
        ECC_INGEST_NATS_ACK_WAIT_S="5",
    )

    async def publish(lo: int, hi: int) -> None:
        nc = await nats.connect("nats://127.0.0.1:4222")
        js = nc.jetstream()
        try:
            await js.stream_info(stream)
        except nats.js.errors.NotFoundError:
            await js.add_stream(name=stream, subjects=[f"{subject}.>"])
        for n in range(lo, hi):
            await js.publish(f"{subject}.plant{n % 3}", bodies[n])  # acked: stored in the stream
        await nc.close()

    async def settled() -> bool:
        """Nothing left for the durable consumer: no message undelivered or unacknowledged."""
        nc = await nats.connect("nats://127.0.0.1:4222")
        try:
            info = await nc.jetstream().consumer_info(stream, f"ingest-{uid}")
        finally:
            await nc.close()
        return info.num_pending == 0 and info.num_ack_pending == 0

    async def drop_stream() -> None:
        nc = await nats.connect("nats://127.0.0.1:4222")
        await nc.jetstream().delete_stream(stream)
        await nc.close()

    workers = [EccProcess(["ingest-nats"], tmp_path, env).start() for _ in range(2)]
    try:
        asyncio.run(publish(0, MESSAGES // 2))
        wait_for(lambda: _count(engine, codes)[0] > 0, 60, "the first commits")
        workers[0].kill()  # one of two workers sharing the durable consumer dies mid-stream
        asyncio.run(publish(MESSAGES // 2, MESSAGES))
        workers[0] = EccProcess(["ingest-nats"], tmp_path, env).start()
        total = MESSAGES * PER_MESSAGE
        wait_for(lambda: _count(engine, codes)[0] >= total, 90, "every published reading")
        # What the killed worker had fetched (stored or not) comes back only after the ack
        # wait (5 s), possibly after every reading is stored: a fixed short pause would end
        # before that redelivery. Once the consumer has nothing pending or unacknowledged, every
        # redelivery has been handled, and the count below is final.
        wait_for(lambda: asyncio.run(settled()), 60, "the redeliveries")
        assert _count(engine, codes) == (total, total)
    finally:
        for w in workers:
            w.stop()
        asyncio.run(drop_stream())
