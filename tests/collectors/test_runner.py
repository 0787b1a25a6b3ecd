"""The collector end to end in-process: Modbus → buffer → NATS JetStream or MQTT → the center's
subscriber → database; ``ecc collect --check`` prints one read of each point."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from collectors.config import parse_config
from collectors.runner import Collector
from ingest.brokers import (
    MqttIngest,
    MqttIngestConfig,
    NatsIngest,
    NatsIngestConfig,
    broker_context,
)
from shell.cli import app
from tests.support.field import (
    Dlt645Responder,
    ModbusSim,
    buffer_counters,
    forget_mqtt_session,
)


def _stored(engine, code: str) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM reading r JOIN meter m ON m.id = r.meter_id WHERE m.code = :c"
            ),
            {"c": code},
        ).scalar()


def _health(engine, collector: str) -> set[str]:  # noqa: ANN001
    with engine.connect() as conn:
        return set(
            conn.execute(
                text("SELECT meter_code FROM collector_point WHERE collector = :c"),
                {"c": collector},
            ).scalars()
        )


def _config(tmp_path, center: str, port: int, meter: str) -> str:  # noqa: ANN001
    return f"""center: {center}
buffer: {tmp_path / "buf.sqlite"}
devices:
  - name: pm1
    protocol: modbus_tcp
    port: {port}
    poll_s: 0.05
    points:
      - {{meter: {meter}, register: 0, type: float32}}
      - {{meter: NOT-A-NUMBER, register: 2, type: float32}}
"""


async def _collect_until(collector: Collector, n: int, timeout_s: float = 20.0) -> None:
    task = asyncio.ensure_future(collector.run())
    deadline = time.monotonic() + timeout_s
    while collector.buffer.counters()["forwarded"] < n and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    collector.stop.set()
    await task


@pytest.mark.parametrize("transport", ["nats", "mqtt"])
def test_collector_through_a_broker_into_the_database(engine, plant, uid, tmp_path, transport):
    code = plant["gauge"]
    ctx = broker_context(engine, future_tolerance_s=300, max_batch=200_000)
    with ModbusSim() as sim:
        sim.set(0, 42.5)
        sim.set(2, float("nan"))
        if transport == "nats":
            center = (
                f'{{transport: nats, url: "nats://127.0.0.1:4222", subject: "ecc-c.{uid}.p1", '
                "health_s: 0.5}"
            )
        else:
            center = (
                f'{{transport: mqtt, url: "mqtt://127.0.0.1:1883", topic: "ecc-c/{uid}/p1", '
                "health_s: 0.5}"
            )
        config = parse_config(_config(tmp_path, center, sim.port, code))
        collector = Collector(config)
        if transport == "nats":
            sub = NatsIngest(
                ctx,
                NatsIngestConfig(
                    stream=f"ECC_C_{uid}", subject=f"ecc-c.{uid}.>", durable=f"c-{uid}"
                ),
            )

            async def go() -> None:
                runner = asyncio.ensure_future(sub.run())
                await asyncio.sleep(0.5)  # the stream exists before the collector publishes
                await _collect_until(collector, 20)
                acquired = buffer_counters(tmp_path / "buf.sqlite")["acquired"]
                for _ in range(200):
                    if _stored(engine, code) >= acquired and code in _health(engine, config.name):
                        break
                    await asyncio.sleep(0.05)
                sub.stop_event.set()
                await runner
                import nats

                nc = await nats.connect("nats://127.0.0.1:4222")
                await nc.jetstream().delete_stream(f"ECC_C_{uid}")
                await nc.close()

            asyncio.run(go())
        else:
            sub = MqttIngest(
                ctx, MqttIngestConfig(topic=f"ecc-c/{uid}/#", client_id=f"c-{uid}")
            ).start()
            assert sub.connected.wait(10)
            time.sleep(0.2)
            asyncio.run(_collect_until(collector, 20))
            acquired = buffer_counters(tmp_path / "buf.sqlite")["acquired"]
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not (
                _stored(engine, code) >= acquired and code in _health(engine, config.name)
            ):
                time.sleep(0.05)
            sub.stop()
            forget_mqtt_session(f"c-{uid}")
    counters = buffer_counters(tmp_path / "buf.sqlite")
    assert counters["acquired"] >= 20 and counters["queued"] == 0
    assert _stored(engine, code) == counters["acquired"]
    assert _stored(engine, "NOT-A-NUMBER") == 0
    snap = collector.health.snapshot()
    assert snap["points"]["pm1/NOT-A-NUMBER"]["errors"]["bad_value"] > 0
    assert snap["points"][f"pm1/{code}"]["last_value"] == pytest.approx(42.5)
    # its health went the same way and the subscriber recorded it (the API's recorder)
    assert _health(engine, config.name) == {code, "NOT-A-NUMBER"}


def test_check_prints_one_read_of_each_point(tmp_path) -> None:
    with ModbusSim() as sim, Dlt645Responder("000000001234", {"00000000": 321.09}) as m645:
        sim.set(0, 7.25)
        config = tmp_path / "c.yaml"
        config.write_text(
            f"""center: {{url: "http://127.0.0.1:9"}}
devices:
  - {{name: pm1, protocol: modbus_tcp, port: {sim.port},
     points: [{{meter: PM1-KW, register: 0, type: float32, unit: kW}}]}}
  - {{name: m645, protocol: dlt645_tcp, port: {m645.port}, address: "000000001234",
     points: [{{meter: M645-KWH, di: "00000000"}}]}}
"""
        )
        ok = CliRunner().invoke(app, ["collect", "--check", str(config)], terminal_width=200)
        config.write_text(config.read_text().replace('di: "00000000"', 'di: "00010000"'))
        bad = CliRunner().invoke(app, ["collect", "--check", str(config)], terminal_width=200)
    assert ok.exit_code == 0, ok.output
    assert "7.25" in ok.output and "321.09" in ok.output and "kW" in ok.output
    assert bad.exit_code == 1 and "exception" in bad.output


def test_collect_refuses_a_bad_config_naming_the_line(tmp_path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "center: {url: 'http://x'}\n"
        "devices:\n"
        "  - {name: a, protocol: modbus_tcp,\n"
        "     poll_s: fast, points: [{meter: M, register: 0}]}\n"
    )
    r = CliRunner().invoke(app, ["collect", "--config", str(config)], terminal_width=200)
    assert r.exit_code == 2
    assert "line 4: devices[0] (a).poll_s: expected a number" in r.output
