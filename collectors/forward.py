"""Forward the buffer to the center: HTTP (``POST /api/v1/readings``), NATS JetStream or MQTT.

A batch is deleted from the buffer only once the center (HTTP: the ingest answer, given after
the commit) or the broker (JetStream publish ack; MQTT PUBACK at QoS 1) acknowledged it. Failures
are retried with a doubling back-off up to ``center.retry_max_s``; a 413 halves the batch.
Broker messages use the body form of the HTTP API (``{"readings": [...]}``), so the center's
subscribers (``ecc ingest-mqtt``, ``ecc ingest-nats``) parse them with the same code. Health
reports go the same way as the readings: HTTP ``POST /api/v1/collectors/health``, or on the
same subject or topic as ``{"collector_health": report}`` (``HEALTH_KEY``; the subscribers
record it with the API's recorder).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from collectors.buffer import Buffer, Queued
from collectors.config import Center
from collectors.health import Health

log = logging.getLogger(__name__)
READINGS_PATH = "/api/v1/readings"
HEALTH_PATH = "/api/v1/collectors/health"
HEALTH_KEY = "collector_health"  # = metering.collector_health.BROKER_KEY (center side)


class SendFailed(Exception):
    def __init__(self, kind: str, detail: str, *, too_large: bool = False) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.too_large = too_large


@dataclass
class Sent:
    duplicates: int = 0
    rejected: dict[int, str] = field(default_factory=dict)


def body(batch: list[Queued]) -> bytes:
    return orjson.dumps({"readings": [q.as_json() for q in batch]})


def health_body(report: dict) -> bytes:
    return orjson.dumps({HEALTH_KEY: report})


class HttpTransport:
    def __init__(self, center: Center) -> None:
        self.center = center
        headers = {"Content-Type": "application/json"}
        if key := center.key():
            headers["Authorization"] = f"Bearer {key}"
        self.client = httpx.AsyncClient(
            base_url=center.url.rstrip("/"), headers=headers, timeout=center.timeout_s
        )

    async def send(self, batch: list[Queued]) -> Sent:
        try:
            r = await self.client.post(READINGS_PATH, content=body(batch))
        except httpx.HTTPError as exc:
            raise SendFailed("unreachable", str(exc) or type(exc).__name__) from None
        if r.status_code == 200:
            doc = r.json()
            rejected = {int(item["index"]): str(item.get("error", "")) for item in doc["rejected"]}
            return Sent(duplicates=int(doc.get("duplicates", 0)), rejected=rejected)
        detail = r.text[:300]
        if r.status_code == 413:
            raise SendFailed("too_large", detail, too_large=True)
        if r.status_code in (401, 403):
            raise SendFailed("auth", detail)
        raise SendFailed(f"http_{r.status_code}", detail)

    async def send_health(self, report: dict) -> None:
        try:
            r = await self.client.post(HEALTH_PATH, content=orjson.dumps(report))
        except httpx.HTTPError as exc:
            raise SendFailed("unreachable", str(exc) or type(exc).__name__) from None
        if r.status_code != 200:
            raise SendFailed(f"http_{r.status_code}", r.text[:300])

    async def close(self) -> None:
        await self.client.aclose()


class NatsTransport:
    """Publish to a JetStream subject; the stream's publish ack means stored on the broker."""

    def __init__(self, center: Center) -> None:
        self.center = center
        self.nc: Any = None  # nats.aio.client.Client, imported on demand
        self.js: Any = None
        self._lock = asyncio.Lock()  # one connection, publishes in order (readings, health)

    async def _publish(self, payload: bytes) -> None:
        import nats
        from nats.errors import Error as NatsError

        async with self._lock:
            try:
                if self.nc is None or not self.nc.is_connected:
                    self.nc = await nats.connect(
                        self.center.url,
                        connect_timeout=self.center.timeout_s,
                        max_reconnect_attempts=0,
                        allow_reconnect=False,
                    )
                    self.js = self.nc.jetstream(timeout=self.center.timeout_s)
                await self.js.publish(self.center.subject, payload, timeout=self.center.timeout_s)
            except (NatsError, OSError, TimeoutError) as exc:
                await self.close()
                raise SendFailed("unreachable", str(exc) or type(exc).__name__) from None

    async def send(self, batch: list[Queued]) -> Sent:
        await self._publish(body(batch))
        return Sent()

    async def send_health(self, report: dict) -> None:
        await self._publish(health_body(report))

    async def close(self) -> None:
        if self.nc is not None:
            nc, self.nc = self.nc, None
            try:
                await nc.close()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail any way
                log.debug("NATS close failed", exc_info=True)


class MqttTransport:
    """Publish at QoS 1 and wait for the broker's PUBACK."""

    def __init__(self, center: Center) -> None:
        import paho.mqtt.client as mqtt

        url = httpx.URL(center.url)
        self.center = center
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        if key := center.key():
            self.client.username_pw_set("ecc-collect", key)
        self.client.reconnect_delay_set(1, 30)
        self.client.connect_async(url.host or "127.0.0.1", url.port or 1883, keepalive=30)
        self.client.loop_start()
        self._lock = threading.Lock()

    def _publish(self, payload: bytes) -> None:
        with self._lock:
            if not self.client.is_connected():
                raise SendFailed("unreachable", "not connected to the MQTT broker")
            info = self.client.publish(self.center.topic, payload, qos=1)
            info.wait_for_publish(timeout=self.center.timeout_s)
            if not info.is_published():
                raise SendFailed("unreachable", "no PUBACK in time")

    async def send(self, batch: list[Queued]) -> Sent:
        await asyncio.to_thread(self._publish, body(batch))
        return Sent()

    async def send_health(self, report: dict) -> None:
        await asyncio.to_thread(self._publish, health_body(report))

    async def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def make_transport(center: Center) -> HttpTransport | NatsTransport | MqttTransport:
    if center.transport == "nats":
        return NatsTransport(center)
    if center.transport == "mqtt":
        return MqttTransport(center)
    return HttpTransport(center)


class Forwarder:
    def __init__(self, buffer: Buffer, center: Center, health: Health) -> None:
        self.buffer = buffer
        self.center = center
        self.health = health
        self.transport = make_transport(center)
        self.batch = center.batch
        self.wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            batch = await asyncio.to_thread(self.buffer.peek, self.batch)
            if not batch:
                self.wake.clear()
                await _wait_any(stop, self.wake, 0.5)
                continue
            try:
                sent = await self.transport.send(batch)
            except SendFailed as exc:
                self.health.forwarded(False, exc.kind)
                if exc.too_large and self.batch > 1:
                    self.batch = max(1, self.batch // 2)
                    continue
                log.warning("forward failed (%s); retrying in %.1f s", exc, backoff)
                await _wait_any(stop, None, backoff)
                backoff = min(backoff * 2, self.center.retry_max_s)
                continue
            await asyncio.to_thread(
                self.buffer.ack, batch, duplicates=sent.duplicates, rejected=sent.rejected
            )
            for i, reason in sent.rejected.items():
                log.warning("center rejected %s at %s: %s", batch[i].meter, batch[i].ts, reason)
            self.health.forwarded(True)
            backoff = 0.2

    async def drain(self, timeout_s: float) -> None:
        """On shutdown: forward what is queued while the center answers, for ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            batch = await asyncio.to_thread(self.buffer.peek, self.batch)
            if not batch:
                return
            try:
                sent = await asyncio.wait_for(
                    self.transport.send(batch), max(0.1, deadline - time.monotonic())
                )
            except (SendFailed, TimeoutError):
                return  # kept on disk: the next run forwards it
            await asyncio.to_thread(
                self.buffer.ack, batch, duplicates=sent.duplicates, rejected=sent.rejected
            )

    async def close(self) -> None:
        await self.transport.close()


async def _wait_any(stop: asyncio.Event, other: asyncio.Event | None, timeout: float) -> None:
    waits = [asyncio.ensure_future(stop.wait())]
    if other is not None:
        waits.append(asyncio.ensure_future(other.wait()))
    done, pending = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for t in pending:
        t.cancel()
