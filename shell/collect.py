"""``ecc collect``, ``ecc ingest-mqtt`` and ``ecc ingest-nats``: wiring of the field collectors
and the center's broker subscribers (the API's ingest service, alarm bus and rollup worker)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.table import Table

from collectors.config import load_config
from collectors.runner import check_once, run_collector
from core.db import psycopg_connection
from core.settings import Settings
from ingest.brokers import (
    MqttIngest,
    MqttIngestConfig,
    NatsIngest,
    NatsIngestConfig,
    broker_context,
)
from ingest.events import ReadingBus
from shell.runtime import open_database


def collect(path: Path, console: Console) -> None:
    config = load_config(path)
    console.print(
        f"collecting {config.points} points on {len(config.devices)} devices → "
        f"{config.center.transport} {config.center.url} (buffer {config.buffer})"
    )
    run_collector(config)


def check(path: Path, console: Console) -> bool:
    """Read each point once and print a table; True when every point answered."""
    config = load_config(path)
    results = asyncio.run(check_once(config))
    table = Table(title=f"{path} — one read of each point")
    for col in ("device", "meter", "value", "unit", "status"):
        table.add_column(col)
    by_point = {id(r.point): r for r in results}
    ok = True
    for device in config.devices:
        for p in device.points:
            r = by_point[id(p)]
            ok &= r.ok
            table.add_row(
                device.name,
                p.meter,
                "" if r.value is None else f"{r.value:g}",
                p.unit or "",
                "ok" if r.ok else f"[red]{r.error}[/] {r.detail}",
            )
    Console().print(table)
    return ok


@contextlib.contextmanager
def _center(settings: Settings) -> Iterator:
    """The ingest context the API builds, with its alarm bus and rollup worker."""
    from alarms.engine import start_for_app as start_alarms
    from metering.rollups import RollupWorker

    _, engine = open_database(settings, upgrade=True)
    bus = ReadingBus()
    ctx = broker_context(
        engine,
        future_tolerance_s=settings.future_tolerance_s,
        max_batch=settings.max_batch_readings,
        bus=bus,
    )
    worker = None
    if settings.rollup_worker:
        worker = RollupWorker(
            lambda: psycopg_connection(engine),
            timescale=ctx.writer.timescale,
        ).start()
    alarms = start_alarms(settings, engine, bus)
    try:
        yield ctx
    finally:
        if alarms is not None:
            alarms.stop()
        if worker is not None:
            worker.stop()
        engine.dispose()


def ingest_mqtt(settings: Settings, console: Console) -> None:
    with _center(settings) as ctx:
        sub = MqttIngest(
            ctx,
            MqttIngestConfig(
                host=settings.mqtt_host,
                port=settings.mqtt_port,
                topic=settings.ingest_mqtt_topic,
                client_id=settings.ingest_mqtt_client_id,
                deadletter_topic=settings.ingest_mqtt_deadletter_topic,
                batch_messages=settings.ingest_broker_batch,
            ),
        )
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: sub.stop_event.set())
        console.print(
            f"ingest-mqtt: {settings.ingest_mqtt_topic} on {settings.mqtt_host}:"
            f"{settings.mqtt_port} (session {settings.ingest_mqtt_client_id})"
        )
        sub.run_forever()
        console.print(f"ingest-mqtt stopped: {sub.stats}")


def ingest_nats(settings: Settings, console: Console) -> None:
    with _center(settings) as ctx:
        sub = NatsIngest(
            ctx,
            NatsIngestConfig(
                url=settings.ingest_nats_url,
                stream=settings.ingest_nats_stream,
                subject=settings.ingest_nats_subject,
                durable=settings.ingest_nats_durable,
                deadletter_subject=settings.ingest_nats_deadletter_subject,
                batch_messages=settings.ingest_broker_batch,
                ack_wait_s=settings.ingest_nats_ack_wait_s,
            ),
        )

        async def main() -> None:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, sub.stop_event.set)
            await sub.run()

        console.print(
            f"ingest-nats: stream {settings.ingest_nats_stream} ({settings.ingest_nats_subject}), "
            f"durable {settings.ingest_nats_durable} at {settings.ingest_nats_url}"
        )
        asyncio.run(main())
        console.print(f"ingest-nats stopped: {sub.stats}")
