"""``ecc collect``: poll and subscribe, queue on disk, forward, serve ``/metrics``.

Every device runs in its own task; a poll's good readings go into the buffer in one transaction
before anything is forwarded. Pollers keep a fixed cadence (``poll_s``): a poll that starts
late by less than a period runs at once, polls missed entirely are skipped, never stacked.
SIGTERM/SIGINT stop polling, then forward what is queued while the center
answers (for at most ``center.timeout_s``) and close the buffer; whatever was not acknowledged
stays on disk and is forwarded by the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from typing import Protocol

import orjson

from collectors.acquire import Result
from collectors.buffer import Buffer
from collectors.config import CollectConfig, Device
from collectors.forward import Forwarder
from collectors.health import Health

log = logging.getLogger(__name__)


class Pollable(Protocol):
    async def read(self) -> list[Result]: ...

    async def close(self) -> None: ...


def pollable(device: Device) -> Pollable | None:
    """The polling adapter of ``device`` (imported on demand: each protocol's library)."""
    if device.protocol in ("modbus_tcp", "modbus_rtu_over_tcp"):
        from collectors.modbus import ModbusSource

        return ModbusSource(device)
    if device.protocol == "dlt645_tcp":
        from collectors.dlt645 import Dlt645Source

        return Dlt645Source(device)
    if device.protocol == "opcua" and device.mode == "poll":
        from collectors.opcua import OpcUaSource

        return OpcUaSource(device)
    return None


class Collector:
    def __init__(self, config: CollectConfig) -> None:
        self.config = config
        self.health = Health(config)
        self.buffer = Buffer(
            config.buffer, max_rows=config.buffer_max_rows, max_age_s=config.buffer_max_age_s
        )
        self.forwarder: Forwarder | None = None
        self.stop = asyncio.Event()
        self.metrics_port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def record(self, device: Device, results: list[Result]) -> None:
        """Count every result; queue the good ones (one transaction)."""
        rows = []
        for r in results:
            if r.ok:
                self.health.good(device.name, r.point.meter, r.value, r.ts)  # type: ignore[arg-type]
                rows.append(r.row())
            else:
                self.health.bad(device.name, r.point.meter, r.error or "error", r.detail)
        self.buffer.put(rows)
        if rows and self.forwarder is not None and self._loop is not None:
            # called from pollers' worker threads and the MQTT network thread
            self._loop.call_soon_threadsafe(self.forwarder.wake.set)

    async def _poll(self, device: Device, source: Pollable) -> None:
        period = device.poll_s
        next_at = time.monotonic()
        try:
            while not self.stop.is_set():
                started = time.monotonic()
                results = await source.read()
                duration = time.monotonic() - started
                online = any(r.ok or r.error != "timeout" for r in results)
                self.health.polled(device.name, online, duration)
                await asyncio.to_thread(self.record, device, results)
                next_at += period
                now = time.monotonic()
                if now - next_at >= period:  # a whole poll missed: start again from now
                    next_at = now
                # late by less than a period: poll at once, the cadence catches up
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), next_at - now)
        finally:
            await source.close()

    def _emitter(self, device: Device) -> Callable[[list[Result]], None]:
        def emit(results: list[Result]) -> None:
            self.record(device, results)

        return emit

    async def _subscribe_opcua(self, device: Device) -> None:
        from collectors.opcua import OpcUaSource

        source = OpcUaSource(device)
        task = asyncio.ensure_future(
            source.run_subscription(
                self._emitter(device),
                lambda ok: self.health.set_online(device.name, ok),
            )
        )
        await self.stop.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await source.close()

    async def _subscribe_mqtt(self, device: Device) -> None:
        from collectors.mqtt_source import MqttSource

        source = MqttSource(device)
        source.start(
            self._emitter(device),
            lambda ok: self.health.set_online(device.name, ok),
        )
        await self.stop.wait()
        await asyncio.to_thread(source.stop)

    async def _serve_metrics(self) -> asyncio.Server | None:
        if self.config.metrics_port is None:
            return None

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                request = await asyncio.wait_for(reader.readline(), 5)
                while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                    pass
                path = request.split(b" ")[1] if request.count(b" ") >= 2 else b"/"
                if path.startswith(b"/metrics"):
                    text = self.health.prometheus(
                        self.buffer.counters(), self.buffer.oldest_age_s()
                    ).encode()
                    status, ctype = b"200 OK", b"text/plain; version=0.0.4; charset=utf-8"
                elif path.startswith(b"/health"):
                    text = orjson.dumps(self.health.snapshot() | {"buffer": self.buffer.counters()})
                    status, ctype = b"200 OK", b"application/json"
                else:
                    text, status, ctype = b"not found\n", b"404 Not Found", b"text/plain"
                writer.write(
                    b"HTTP/1.1 "
                    + status
                    + b"\r\nContent-Type: "
                    + ctype
                    + b"\r\nContent-Length: "
                    + str(len(text)).encode()
                    + b"\r\nConnection: close\r\n\r\n"
                    + text
                )
                await writer.drain()
            except (OSError, TimeoutError, IndexError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(
            handle, self.config.metrics_host, self.config.metrics_port
        )
        self.metrics_port = server.sockets[0].getsockname()[1]
        log.info("metrics on http://%s:%d/metrics", self.config.metrics_host, self.metrics_port)
        return server

    async def _report_health(self) -> None:
        """Send the health report every ``center.health_s`` over the readings' transport."""
        from collectors.forward import SendFailed

        assert self.forwarder is not None
        transport = self.forwarder.transport
        every = self.config.center.health_s
        if every <= 0:
            return
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), every)
            report = self.health.report(self.config, self.buffer.counters())
            try:
                await transport.send_health(report)
            except SendFailed as exc:
                log.info("health report not delivered: %s", exc)

    async def run(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop.set)
        self.forwarder = Forwarder(self.buffer, self.config.center, self.health)
        log.info(
            "collector started: %d devices, %d points", len(self.config.devices), self.config.points
        )
        server = await self._serve_metrics()
        forwarding = asyncio.Event()
        forwarder = asyncio.ensure_future(self.forwarder.run(forwarding))
        tasks = [asyncio.ensure_future(self._report_health())]
        for device in self.config.devices:
            source = pollable(device)
            if source is not None:
                tasks.append(asyncio.ensure_future(self._poll(device, source)))
            elif device.protocol == "opcua":
                tasks.append(asyncio.ensure_future(self._subscribe_opcua(device)))
            else:
                tasks.append(asyncio.ensure_future(self._subscribe_mqtt(device)))
        try:
            await self.stop.wait()
        finally:
            self.stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)  # polling has stopped …
            forwarding.set()
            await asyncio.gather(forwarder, return_exceptions=True)
            await self.forwarder.drain(self.config.center.timeout_s)  # … forward the rest
            await self.forwarder.close()
            if server is not None:
                server.close()
            self.buffer.close()


def run_collector(config: CollectConfig) -> None:
    asyncio.run(Collector(config).run())


async def check_once(config: CollectConfig, wait_push_s: float = 5.0) -> list[Result]:
    """Connect to each device and read each point once (``ecc collect --check``).

    Subscribed MQTT points are read from the first matching message within ``wait_push_s``.
    """
    from collectors.mqtt_source import MqttSource
    from collectors.opcua import OpcUaSource

    results: list[Result] = []
    for device in config.devices:
        if device.protocol == "mqtt":
            got: dict[str, Result] = {}
            mqtt_source = MqttSource(device)

            def keep(rs: list[Result], got: dict[str, Result] = got) -> None:
                got.update({r.point.meter: r for r in rs})

            mqtt_source.start(keep, lambda ok: None)
            deadline = time.monotonic() + wait_push_s
            while len(got) < len(device.points) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.to_thread(mqtt_source.stop)
            for p in device.points:
                results.append(
                    got.get(p.meter) or Result(p, time.time(), error="timeout", detail="no message")
                )
            continue
        source: Pollable = pollable(device) or OpcUaSource(device)
        try:
            results.extend(await source.read())
        finally:
            await source.close()
    return results
