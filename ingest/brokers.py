"""Center-side broker subscribers: MQTT (``ecc ingest-mqtt``) and NATS JetStream
(``ecc ingest-nats``).

Messages carry the bodies of ``POST /api/v1/readings`` (JSON rows or columnar series). Several
messages are parsed one by one, stored with one call of :func:`ingest.service.ingest_items` (the
API's own parse → validate → write path, one commit) and acknowledged only after that commit.
A database failure acknowledges nothing: the broker redelivers and the center counts a resent
reading once. Items the center rejects, and messages that cannot be read at all, go to a
dead-letter topic/subject with the reasons, and are then acknowledged (they will never succeed).

A collector forwarding over a broker sends its health report on the same subject or topic as
``{"collector_health": report}``; the subscriber records it with the API's own recorder
(``metering.collector_health.record_health``) after the readings' commit, then acknowledges.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.errors import Invalid, Overloaded
from ingest.events import ReadingBus
from ingest.parsers import RawItems, parse_body
from ingest.service import IngestContext, ingest_items
from ingest.writer import WriterConfig, detect_writer
from metering import registry
from metering.collector_health import BROKER_KEY, record_health
from metering.registry import MeterInfo

log = logging.getLogger(__name__)
RETRYABLE = (DBAPIError, Overloaded, OSError)


class MeterCache:
    """Meters by code for validation; unknown codes are looked up again every time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._known: dict[str, MeterInfo] = {}
        self._lock = threading.Lock()

    def __call__(self, codes: set[str]) -> Mapping[str, MeterInfo]:
        missing = [c for c in codes if c not in self._known]
        if missing:
            with Session(self.engine) as session:
                found = registry.meter_infos(session, missing)
            with self._lock:
                self._known.update(found)
        return {c: self._known[c] for c in codes if c in self._known}


def broker_context(
    engine: Engine,
    *,
    future_tolerance_s: int,
    max_batch: int,
    bus: ReadingBus | None = None,
    writer: WriterConfig | None = None,
) -> IngestContext:
    if writer is None:
        with engine.connect() as conn:
            writer = detect_writer(conn.connection.driver_connection)
            conn.rollback()
    return IngestContext(
        engine=engine,
        writer=writer,
        lookup_meters=MeterCache(engine),
        write_slots=threading.BoundedSemaphore(1),
        write_wait_s=3600.0,
        max_batch=max_batch,
        future_tolerance_s=future_tolerance_s,
        bus=bus,
    )


@dataclass
class Outcome:
    """What became of one message."""

    stored: int = 0  # items accepted or counted as duplicates of stored readings
    rejected: list[dict] = field(default_factory=list)  # {"index", "error", "item"}
    invalid: str | None = None  # the whole message could not be read
    health_points: int | None = None  # a collector's health report: the points recorded

    @property
    def dead(self) -> bool:
        return self.invalid is not None or bool(self.rejected)


def _concat(parts: list[RawItems]) -> tuple[RawItems, list[int]]:
    out = RawItems()
    offsets = []
    for p in parts:
        base = len(out)
        offsets.append(base)
        out.meter.extend(p.meter)
        out.ts.extend(p.ts)
        out.value.extend(p.value)
        out.unit.extend(p.unit)
        out.errors.update({base + i: e for i, e in p.errors.items()})
        out.runs.extend((base + lo, base + hi) for lo, hi in p.runs)
    return out, offsets


def _item(items: RawItems, i: int) -> dict:
    value = items.value[i]
    return {
        "meter": items.meter[i],
        "ts": items.ts[i],
        "value": value if isinstance(value, int | float | str | None) else None,
        "unit": items.unit[i],
    }


def ingest_messages(ctx: IngestContext, bodies: list[bytes]) -> tuple[list[Outcome], dict]:
    """Store the readings of ``bodies`` in one commit: one :class:`Outcome` per body and the
    totals (accepted, duplicates, rejected) of the write.

    Raises a retryable error (database, overload) when nothing was stored.
    """
    outcomes = [Outcome() for _ in bodies]
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0}
    parsed: list[tuple[int, RawItems]] = []
    health: list[tuple[int, object]] = []
    for n, body in enumerate(bodies):
        report = _health_report(body)
        if report is not None:
            health.append((n, report))
            continue
        try:
            parsed.append((n, parse_body("application/json", body)))
        except Invalid as exc:
            outcomes[n].invalid = str(exc)
    if parsed:
        _store_readings(ctx, parsed, outcomes, totals)
    if health:
        _record_health(ctx, health, outcomes)
    return outcomes, totals


def _health_report(body: bytes) -> object | None:
    """The report of a ``{"collector_health": …}`` body, or None for a readings body."""
    if f'"{BROKER_KEY}"'.encode() not in body[:64]:
        return None
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None  # not JSON: the readings parser names the error
    if isinstance(doc, dict) and set(doc) == {BROKER_KEY}:
        return doc[BROKER_KEY]
    return None


def _record_health(ctx: IngestContext, health: list[tuple[int, object]], outcomes: list) -> None:
    """Record the health reports of the batch in one commit (a database error propagates:
    the batch is retried and its readings are counted once)."""
    now = datetime.now(UTC)
    with Session(ctx.engine) as session:
        for n, report in health:
            try:
                with session.begin_nested():
                    outcomes[n].health_points = record_health(session, report, now)
            except Invalid as exc:
                outcomes[n].invalid = f"collector_health: {exc}"
        session.commit()


def _store_readings(
    ctx: IngestContext,
    parsed: list[tuple[int, RawItems]],
    outcomes: list[Outcome],
    totals: dict,
) -> None:
    items, offsets = _concat([p for _, p in parsed])
    result = ingest_items(ctx, items, source="broker")
    bounds = offsets + [len(items)]
    rejected = sorted(result["rejected"], key=lambda r: r["index"])
    k = 0
    for j, (n, _) in enumerate(parsed):
        lo, hi = bounds[j], bounds[j + 1]
        while k < len(rejected) and rejected[k]["index"] < hi:
            r = rejected[k]
            outcomes[n].rejected.append(
                {"index": r["index"] - lo, "error": r["error"], "item": _item(items, r["index"])}
            )
            k += 1
        outcomes[n].stored = hi - lo - len(outcomes[n].rejected)
    totals.update(
        accepted=result["accepted"], duplicates=result["duplicates"], rejected=len(rejected)
    )


def dead_letter(source: str, outcome: Outcome) -> bytes:
    doc: dict = {"source": source, "at": time.time()}
    if outcome.invalid is not None:
        doc["error"] = outcome.invalid
    else:
        doc["rejected"] = outcome.rejected
    return orjson.dumps(doc, default=str)


def store_with_retry(
    ctx: IngestContext,
    bodies: list[bytes],
    stopping: Callable[[], bool],
    *,
    retry_max_s: float = 30.0,
) -> tuple[list[Outcome], dict] | None:
    """Ingest, retrying on database failure with back-off; None if asked to stop meanwhile."""
    backoff = 0.2
    while True:
        try:
            return ingest_messages(ctx, bodies)
        except RETRYABLE as exc:
            log.warning("ingest failed (%s); retrying in %.1f s", exc, backoff)
            deadline = time.monotonic() + backoff
            while time.monotonic() < deadline:
                if stopping():
                    return None
                time.sleep(0.05)
            backoff = min(backoff * 2, retry_max_s)


def _count(stats: dict, messages: int, totals: dict) -> None:
    stats["messages"] += messages
    stats["accepted"] += totals["accepted"]
    stats["duplicates"] += totals["duplicates"]
    stats["rejected"] += totals["rejected"]


# -- MQTT ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MqttIngestConfig:
    host: str = "127.0.0.1"
    port: int = 1883
    topic: str = "ecc/readings/#"
    client_id: str = "ecc-ingest"
    deadletter_topic: str = "ecc/deadletter/readings"
    batch_messages: int = 100
    username: str | None = None
    password: str | None = None


class MqttIngest:
    """QoS 1 on a persistent session; messages acknowledged (PUBACK) after their commit.

    The paho network thread only queues messages; one worker thread stores them in batches and
    acknowledges them in arrival order.
    """

    def __init__(self, ctx: IngestContext, config: MqttIngestConfig) -> None:
        import paho.mqtt.client as mqtt

        self.ctx = ctx
        self.config = config
        self.inbox: queue.Queue = queue.Queue()
        self.stop_event = threading.Event()
        self.connected = threading.Event()  # set on the SUBACK: connected *and* subscribed
        self._subscribe_mid: int | None = None
        self.stats = dict.fromkeys(
            ("messages", "accepted", "duplicates", "rejected", "dead_letters"), 0
        )
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=config.client_id,
            clean_session=False,
            manual_ack=True,
        )
        if config.username:
            self.client.username_pw_set(config.username, config.password)
        self.client.max_inflight_messages_set(100)
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda c, u, msg: self.inbox.put(msg)
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = lambda *a: self.connected.clear()

    def _on_connect(self, client, userdata, flags, reason, props) -> None:  # noqa: ANN001
        if reason.is_failure:
            log.warning("MQTT connect refused: %s", reason)
            return
        _, self._subscribe_mid = client.subscribe(self.config.topic, qos=1)
        log.info(
            "subscribing to %s (session present: %s)", self.config.topic, flags.session_present
        )

    def _on_subscribe(self, client, userdata, mid, reason_codes, props) -> None:  # noqa: ANN001
        if mid != self._subscribe_mid:
            return
        if any(rc.is_failure for rc in reason_codes):
            log.warning("MQTT subscription to %s refused: %s", self.config.topic, reason_codes)
            return
        self.connected.set()
        log.info("subscribed to %s", self.config.topic)

    def start(self) -> MqttIngest:
        self.client.reconnect_delay_set(1, 10)
        self.client.connect_async(self.config.host, self.config.port, keepalive=30)
        self.client.loop_start()
        self.worker = threading.Thread(target=self._work, name="mqtt-ingest", daemon=True)
        self.worker.start()
        return self

    def _work(self) -> None:
        while not self.stop_event.is_set():
            try:
                first = self.inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            msgs = [first]
            while len(msgs) < self.config.batch_messages:
                try:
                    msgs.append(self.inbox.get_nowait())
                except queue.Empty:
                    break
            done = store_with_retry(self.ctx, [m.payload for m in msgs], self.stop_event.is_set)
            if done is None:
                return  # stopping: unacknowledged messages are redelivered to the next run
            outcomes, totals = done
            _count(self.stats, len(msgs), totals)
            for msg, outcome in zip(msgs, outcomes, strict=True):
                if outcome.dead:
                    info = self.client.publish(
                        self.config.deadletter_topic, dead_letter(msg.topic, outcome), qos=1
                    )
                    info.wait_for_publish(timeout=10)
                    self.stats["dead_letters"] += 1
                if msg.qos > 0:
                    self.client.ack(msg.mid, msg.qos)

    def stop(self) -> None:
        self.stop_event.set()
        if getattr(self, "worker", None) is not None:
            self.worker.join(timeout=30)
        self.client.disconnect()
        self.client.loop_stop()

    def run_forever(self) -> None:
        self.start()
        try:
            while not self.stop_event.is_set():
                if not self.worker.is_alive():  # a bug, not an outage: stop, do not hang
                    raise RuntimeError("the MQTT ingest worker died")
                time.sleep(0.5)
        finally:
            self.stop()


# -- NATS JetStream -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NatsIngestConfig:
    url: str = "nats://127.0.0.1:4222"
    stream: str = "ECC_READINGS"
    subject: str = "ecc.readings.>"
    durable: str = "ecc-ingest"
    deadletter_subject: str = "ecc.deadletter.readings"
    batch_messages: int = 100
    ack_wait_s: float = 30.0


async def ensure_stream(js, stream: str, subjects: list[str]) -> None:  # noqa: ANN001
    from nats.js.errors import NotFoundError

    try:
        await js.stream_info(stream)
    except NotFoundError:
        await js.add_stream(name=stream, subjects=subjects)


class NatsIngest:
    """A durable pull consumer; several workers (processes, machines) share it."""

    def __init__(self, ctx: IngestContext, config: NatsIngestConfig) -> None:
        self.ctx = ctx
        self.config = config
        self.stop_event = asyncio.Event()
        self.stats = dict.fromkeys(
            ("messages", "accepted", "duplicates", "rejected", "dead_letters"), 0
        )

    async def run(self) -> None:
        import nats
        from nats.js.api import AckPolicy, ConsumerConfig

        c = self.config
        nc = await nats.connect(c.url, max_reconnect_attempts=-1, reconnect_time_wait=0.5)
        try:
            js = nc.jetstream()
            await ensure_stream(js, c.stream, [c.subject])
            sub = await js.pull_subscribe(
                c.subject,
                durable=c.durable,
                stream=c.stream,
                config=ConsumerConfig(
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=c.ack_wait_s,
                    max_ack_pending=max(1000, 4 * c.batch_messages),
                ),
            )
            while not self.stop_event.is_set():
                try:
                    msgs = await sub.fetch(c.batch_messages, timeout=0.5)
                except (TimeoutError, nats.errors.TimeoutError):
                    continue
                done = await asyncio.to_thread(
                    store_with_retry, self.ctx, [m.data for m in msgs], self.stop_event.is_set
                )
                if done is None:
                    return  # not acknowledged: redelivered after ack_wait
                outcomes, totals = done
                _count(self.stats, len(msgs), totals)
                for msg, outcome in zip(msgs, outcomes, strict=True):
                    if outcome.dead:
                        await nc.publish(c.deadletter_subject, dead_letter(msg.subject, outcome))
                        self.stats["dead_letters"] += 1
                    await msg.ack()
        finally:  # acks already sent are flushed; a pull subscription's drain can hang
            with contextlib.suppress(TimeoutError, nats.errors.Error):
                await nc.flush(timeout=5)
            await nc.close()
