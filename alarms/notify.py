"""Delivery of the outbox: MQTT (QoS 1 on the real broker) and webhooks (HTTP POST), with
retries and exponential backoff.

A sweep claims due rows with ``FOR UPDATE SKIP LOCKED`` (so the API workers and the scheduler
never send one row twice), delivers them and records the outcome in the same transaction:
``sent``; ``pending`` again with ``next_attempt_at`` = now + base × 2^(attempts − 1) (at most
five minutes) after a transient failure (connection, timeout, 5xx, 408, 429, broker away);
``failed`` after a permanent failure (other 4xx) or ``retry_max_attempts`` attempts.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import paho.mqtt.client as mqtt
from sqlalchemy import Engine, text

from alarms.config import AlarmConfig

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 300.0
SWEEP_LIMIT = 500


@dataclass(frozen=True)
class Outcome:
    ok: bool
    permanent: bool = False
    error: str | None = None


OK = Outcome(True)
Sender = Callable[[list[tuple[str, bytes]]], list[Outcome]]


class MqttPublisher:
    """One paho client per process, connected in the background and reconnecting by itself."""

    def __init__(self, host: str, port: int, *, wait_connect_s: float = 2.0) -> None:
        self.host, self.port = host, port
        self.wait_connect_s = wait_connect_s
        self._connected = threading.Event()
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"ecc-alarms-{uuid.uuid4().hex[:12]}"
        )
        self._client.max_inflight_messages_set(1000)
        self._client.reconnect_delay_set(1, 30)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:  # noqa: ANN001
        if not reason.is_failure:
            self._connected.set()

    def _on_disconnect(self, client, userdata, flags, reason, properties) -> None:  # noqa: ANN001
        self._connected.clear()

    def start(self) -> MqttPublisher:
        self._client.connect_async(self.host, self.port, keepalive=30)
        self._client.loop_start()
        return self

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def send(self, messages: list[tuple[str, bytes]], timeout_s: float = 5.0) -> list[Outcome]:
        if not self._connected.wait(self.wait_connect_s):
            return [
                Outcome(False, error=f"MQTT broker {self.host}:{self.port} not connected")
            ] * len(messages)
        infos = [self._client.publish(topic, payload, qos=1) for topic, payload in messages]
        deadline = time.monotonic() + timeout_s
        out = []
        for info in infos:
            try:
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            except (RuntimeError, ValueError) as exc:
                out.append(Outcome(False, error=f"MQTT publish failed: {exc}"))
                continue
            out.append(OK if info.is_published() else Outcome(False, error="no PUBACK in time"))
        return out


class WebhookSender:
    def __init__(self, timeout_s: float) -> None:
        self._client = httpx.Client(
            timeout=timeout_s,
            headers={"content-type": "application/json", "user-agent": "ecc-alarms/1"},
        )

    def close(self) -> None:
        self._client.close()

    def send(self, messages: list[tuple[str, bytes]]) -> list[Outcome]:
        return [self._post(url, body) for url, body in messages]

    def _post(self, url: str, body: bytes) -> Outcome:
        try:
            r = self._client.post(url, content=body)
        except httpx.HTTPError as exc:
            return Outcome(False, error=f"{type(exc).__name__}: {exc}")
        if r.is_success:
            return OK
        transient = r.status_code >= 500 or r.status_code in (408, 429)
        return Outcome(False, permanent=not transient, error=f"HTTP {r.status_code}")


def backoff_s(attempts: int, base_s: float) -> float:
    """Delay before the next attempt after ``attempts`` failed ones."""
    return min(MAX_BACKOFF_S, base_s * 2 ** max(0, attempts - 1))


def deliver_due(
    engine: Engine, channel: str, send: Sender, config: AlarmConfig, limit: int = SWEEP_LIMIT
) -> int:
    """Claim due notifications of one channel, deliver, record; returns how many were tried."""
    with engine.begin() as conn:
        rows = conn.execute(
            text("""
            SELECT id, target, payload::text, attempts FROM alarm_notification
            WHERE status = 'pending' AND channel = :c AND next_attempt_at <= now()
            ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED"""),
            {"c": channel, "n": limit},
        ).all()
        if not rows:
            return 0
        outcomes = send([(target, payload.encode()) for _, target, payload, _ in rows])
        ids, status, delay, errors = [], [], [], []
        for (nid, target, _, attempts), res in zip(rows, outcomes, strict=True):
            tries = attempts + 1
            ids.append(nid)
            errors.append(res.error)
            if res.ok:
                status.append("sent")
                delay.append(0.0)
            elif res.permanent or tries >= config.retry_max_attempts:
                status.append("failed")
                delay.append(0.0)
            else:
                status.append("pending")
                delay.append(backoff_s(tries, config.retry_base_s))
            if not res.ok:
                log.warning(
                    "alarm notification %s to %s: %s (attempt %d)", nid, target, res.error, tries
                )
        conn.execute(
            text("""
            UPDATE alarm_notification n SET status = u.status, attempts = n.attempts + 1,
              sent_at = CASE WHEN u.status = 'sent' THEN clock_timestamp() END,
              next_attempt_at = clock_timestamp() + make_interval(secs => u.delay),
              last_error = u.err
            FROM unnest(CAST(:id AS bigint[]), CAST(:status AS text[]),
                        CAST(:delay AS float8[]), CAST(:err AS text[])) AS u(id, status, delay, err)
            WHERE n.id = u.id"""),
            {"id": ids, "status": status, "delay": delay, "err": errors},
        )
    return len(rows)


def deliver_all(engine: Engine, channel: str, send: Sender, config: AlarmConfig) -> int:
    """Sweep until nothing of the channel is due."""
    total = 0
    while (n := deliver_due(engine, channel, send, config)) > 0:
        total += n
        if n < SWEEP_LIMIT:
            break
    return total
