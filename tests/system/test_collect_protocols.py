"""Every protocol path end to end: one collector reads a Modbus TCP meter, a DL/T 645 meter, an
OPC UA server (subscription) and a gateway's MQTT JSON, and the real API stores each reading."""

from __future__ import annotations

import asyncio
import threading
import time

import orjson
import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import text

from collectors.config import parse_config
from collectors.runner import Collector
from tests.support.field import Dlt645Responder, ModbusSim, OpcUaSim
from tests.support.live_server import LiveServer, create_meters, new_key


def _values(engine, code: str) -> list[float]:  # noqa: ANN001
    with engine.connect() as conn:
        return (
            conn.execute(
                text(
                    "SELECT r.value FROM reading r JOIN meter m ON m.id = r.meter_id "
                    "WHERE m.code = :c ORDER BY r.ts"
                ),
                {"c": code},
            )
            .scalars()
            .all()
        )


def test_four_protocols_into_the_center(db_url, engine, tmp_path, uid, monkeypatch) -> None:
    codes = {p: f"{p.upper()}-{uid}" for p in ("mb", "dlt", "ua", "mq")}
    _, admin = new_key(engine, "admin")
    _, ingest = new_key(engine, "ingest")
    monkeypatch.setenv("ECC_COLLECT_KEY", ingest)
    topic = f"ecc-test/{uid}/dtu"
    stop = threading.Event()
    with (
        LiveServer(db_url, tmp_path) as srv,
        ModbusSim() as sim,
        Dlt645Responder("000000001234", {"00000000": 2345.67}) as m645,
        OpcUaSim(["kwh"]) as ua,
    ):
        with srv.client(admin) as c:
            create_meters(c, f"S-{uid}", {code: "gauge" for code in codes.values()})
        sim.set(0, 11.5, "float32", word_order="little")
        ua.set("kwh", 77.0)
        config = parse_config(
            f"""center: {{url: "{srv.url}", key_env: ECC_COLLECT_KEY, health_s: 0}}
buffer: {tmp_path / "buf.sqlite"}
devices:
  - {{name: pm1, protocol: modbus_tcp, port: {sim.port}, poll_s: 0.2,
     points: [{{meter: {codes["mb"]}, register: 0, type: float32, word_order: little}}]}}
  - {{name: m645, protocol: dlt645_tcp, port: {m645.port}, address: "000000001234", poll_s: 0.2,
     points: [{{meter: {codes["dlt"]}, di: "00000000"}}]}}
  - {{name: plc, protocol: opcua, url: "{ua.url}", mode: subscribe, poll_s: 0.1,
     points: [{{meter: {codes["ua"]}, node: "ns=2;s=kwh", scale: 0.5}}]}}
  - {{name: dtu, protocol: mqtt, port: 1883,
     points: [{{meter: {codes["mq"]}, topic: "{topic}/+", field: data.kwh, ts_field: time}}]}}
"""
        )
        collector = Collector(config)

        def gateway() -> None:  # a third-party DTU publishing JSON with its own clock
            pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
            pub.connect("127.0.0.1", 1883)
            pub.loop_start()
            n = 0
            while not stop.wait(0.2):
                n += 1
                body = {"time": f"2025-04-01T00:00:{n % 60:02d}+08:00", "data": {"kwh": 5.0 + n}}
                pub.publish(f"{topic}/dtu7", orjson.dumps(body), qos=1)
            pub.loop_stop()

        async def go() -> None:
            task = asyncio.ensure_future(collector.run())
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not all(
                _values(engine, code) for code in codes.values()
            ):
                await asyncio.sleep(0.1)
            collector.stop.set()
            await task

        feeder = threading.Thread(target=gateway, daemon=True)
        feeder.start()
        try:
            asyncio.run(go())
        finally:
            stop.set()
            feeder.join()
    assert _values(engine, codes["mb"])[0] == pytest.approx(11.5)
    assert _values(engine, codes["dlt"])[0] == pytest.approx(2345.67)
    assert _values(engine, codes["ua"])[0] == pytest.approx(38.5)
    assert _values(engine, codes["mq"])[0] >= 6.0
    with engine.connect() as conn:  # the gateway's own time was kept
        ts = conn.execute(
            text(
                "SELECT min(r.ts) FROM reading r JOIN meter m ON m.id = r.meter_id "
                "WHERE m.code = :c"
            ),
            {"c": codes["mq"]},
        ).scalar()
    assert (ts.year, ts.month) == (2025, 3)  # 2025-04-01 00:00 +08:00 is 03-31 16:00 UTC
