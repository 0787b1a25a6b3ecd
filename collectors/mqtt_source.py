"""MQTT as a source: subscribe to a third-party gateway's topics, map JSON fields to meters.

Each point names a topic (wildcards allowed), a dotted ``field`` path into the JSON payload
(``data.kwh``, ``values.0``) and optionally a ``ts_field`` with the gateway's own timestamp
(RFC 3339 with offset, or unix seconds / milliseconds). A missing or non-numeric field counts as
``bad_value`` for that point.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt

from collectors.acquire import Result, scaled
from collectors.config import Device, Point


def dig(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(doc, dict):
            doc = doc.get(part)
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return None
    return doc


def device_time(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return raw / 1000.0 if raw > 1e11 else float(raw)
    if isinstance(raw, str):
        try:
            ts = datetime.fromisoformat(raw)
        except ValueError:
            return None
        return ts.timestamp() if ts.tzinfo is not None else None
    return None


def map_message(points: list[Point], topic: str, payload: bytes, now: float) -> list[Result]:
    matching = [p for p in points if mqtt.topic_matches_sub(p.topic, topic)]
    if not matching:
        return []
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        return [
            Result(p, now, error="bad_value", detail=f"payload not JSON: {exc}") for p in matching
        ]
    out = []
    for p in matching:
        ts = now
        if p.ts_field:
            ts = device_time(dig(doc, p.ts_field)) or now
        raw = dig(doc, p.field)
        if raw is None:
            out.append(Result(p, ts, error="bad_value", detail=f"field {p.field!r} missing"))
        else:
            out.append(scaled(p, raw, ts))
    return out


class MqttSource:
    """A paho client on its own network thread; ``emit`` is called from that thread."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.client: mqtt.Client | None = None

    def start(self, emit: Callable[[list[Result]], None], online: Callable[[bool], None]) -> None:
        d = self.device
        points = list(d.points)
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"ecc-collect-{d.name}-{uuid.uuid4().hex[:6]}",
        )
        if d.username_env:
            client.username_pw_set(
                os.environ.get(d.username_env, ""),
                os.environ.get(d.password_env, "") if d.password_env else None,
            )

        def on_connect(c, userdata, flags, reason, props) -> None:  # noqa: ANN001
            if reason.is_failure:
                online(False)
                return
            for topic in sorted({p.topic for p in points}):
                c.subscribe(topic, qos=1)
            online(True)

        def on_disconnect(c, userdata, flags, reason, props) -> None:  # noqa: ANN001
            online(False)

        def on_message(c, userdata, msg) -> None:  # noqa: ANN001
            results = map_message(points, msg.topic, msg.payload, time.time())
            if results:
                emit(results)

        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        client.on_message = on_message
        client.reconnect_delay_set(1, 30)
        client.connect_async(d.host, d.port, keepalive=30)
        client.loop_start()
        self.client = client

    def stop(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()
            self.client = None
