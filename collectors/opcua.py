"""OPC UA with asyncua: subscriptions to node ids (absolute deadband) or polling as a fallback.

A reading carries the server's SourceTimestamp when it has one (the device's own time), else
the time it arrived. A value with a bad status code counts as ``exception``; a value that is
not a finite number as ``bad_value``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from datetime import datetime

from asyncua import Client, ua

from collectors.acquire import Result, failed, scaled
from collectors.config import Device, Point

logging.getLogger("asyncua").setLevel(logging.CRITICAL)  # failures are counted and reported
log = logging.getLogger(__name__)


def _stamp(dv: ua.DataValue) -> float:
    for t in (dv.SourceTimestamp, dv.ServerTimestamp):
        if isinstance(t, datetime):
            return t.timestamp()
    return time.time()


def _result(point: Point, dv: ua.DataValue) -> Result:
    ts = _stamp(dv)
    status = dv.StatusCode
    if status is not None and not status.is_good():
        return Result(point, ts, error="exception", detail=f"status {status.name}")
    return scaled(point, dv.Value.Value if dv.Value is not None else None, ts)


class OpcUaSource:
    def __init__(self, device: Device) -> None:
        self.device = device
        self.client: Client | None = None

    async def _connect(self) -> Client:
        client = Client(self.device.url, timeout=self.device.timeout_s)
        d = self.device
        if d.username_env:
            client.set_user(os.environ.get(d.username_env, ""))
        if d.password_env:
            client.set_password(os.environ.get(d.password_env, ""))
        await client.connect()
        self.client = client
        return client

    async def read(self) -> list[Result]:
        """One read of every point (polling mode and ``ecc collect --check``)."""
        try:
            client = self.client or await self._connect()
            nodes = [client.get_node(p.node) for p in self.device.points]
            values = await client.read_attributes(nodes, ua.AttributeIds.Value)
        except (OSError, TimeoutError, ua.UaError, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError):
                raise
            await self.close()
            return failed(self.device.points, time.time(), "timeout", str(exc) or "no answer")
        return [_result(p, dv) for p, dv in zip(self.device.points, values, strict=True)]

    async def run_subscription(
        self, emit: Callable[[list[Result]], None], online: Callable[[bool], None]
    ) -> None:
        """Subscribe and emit data changes until cancelled; reconnect after a lost session."""
        d = self.device
        backoff = 0.5
        while True:
            try:
                client = await self._connect()
                handler = _Handler({p.node: p for p in d.points}, emit)
                sub = await client.create_subscription(d.poll_s * 1000, handler)
                for p in d.points:
                    node = client.get_node(p.node)
                    if p.deadband > 0:
                        await sub.deadband_monitor(node, ua.Double(p.deadband))
                    else:
                        await sub.subscribe_data_change(node)
                online(True)
                backoff = 0.5
                while True:
                    await asyncio.sleep(d.poll_s)
                    await client.check_connection()
            except (OSError, TimeoutError, ua.UaError, ConnectionError) as exc:
                online(False)
                emit(failed(d.points, time.time(), "timeout", str(exc) or type(exc).__name__))
                await self.close()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    async def close(self) -> None:
        if self.client is not None:
            client, self.client = self.client, None
            try:
                await client.disconnect()
            except (OSError, TimeoutError, ua.UaError, ConnectionError, RuntimeError):
                log.debug("OPC UA disconnect failed", exc_info=True)


class _Handler:
    def __init__(self, points: dict[str, Point], emit: Callable[[list[Result]], None]) -> None:
        self.points = points
        self.emit = emit

    def datachange_notification(self, node, val, data) -> None:  # noqa: ANN001
        point = self.points.get(node.nodeid.to_string())
        if point is None:
            return
        self.emit([_result(point, data.monitored_item.Value)])
