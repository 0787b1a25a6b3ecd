"""Collector → center through an outage: the API stopped for seconds (the issue's 60 s scaled
down) and the collector SIGKILLed once while it held unacknowledged readings. Every reading the
collector acquired is stored exactly once, none is lost, and a NaN register is counted, never
stored."""

from __future__ import annotations

import threading
import time

import httpx
from sqlalchemy import text

from tests.support.field import (
    CollectorProcess,
    ModbusSim,
    buffer_counters,
    free_port,
    wait_for,
)
from tests.support.live_server import LiveServer, create_meters, new_key

OUTAGE_S = 4.0


def _stored(engine, code: str) -> list[tuple]:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT r.ts, r.value FROM reading r JOIN meter m ON m.id = r.meter_id "
                "WHERE m.code = :c ORDER BY r.ts"
            ),
            {"c": code},
        ).all()


def test_outage_and_crash_store_every_acquired_reading_once(db_url, engine, tmp_path, uid):
    kwh, nan = f"PM1-KWH-{uid}", f"PM1-NAN-{uid}"
    _, admin = new_key(engine, "admin")
    _, ingest_key = new_key(engine, "ingest")
    api_port = free_port()
    metrics_port = free_port()
    srv = LiveServer(db_url, tmp_path, port=api_port).start()
    with srv.client(admin) as c:
        create_meters(c, f"S-{uid}", {kwh: "counter", nan: "gauge"})

    stop = threading.Event()
    with ModbusSim() as sim:

        def count_up() -> None:  # the meter's register counts 0.25 kWh every 20 ms
            value = 1000.0
            while not stop.is_set():
                value += 0.25
                sim.set(0, value, "float64")
                time.sleep(0.02)

        sim.set(4, float("nan"), "float32")
        ticker = threading.Thread(target=count_up, daemon=True)
        ticker.start()
        config = tmp_path / "collect.yaml"
        config.write_text(
            f"""center: {{url: "{srv.url}", key_env: ECC_COLLECT_KEY, batch: 50, health_s: 0.5}}
name: plant-{uid}
buffer: ./collect-buffer.sqlite
metrics_port: {metrics_port}
devices:
  - name: pm1
    protocol: modbus_tcp
    host: 127.0.0.1
    port: {sim.port}
    unit_id: 1
    poll_s: 0.1
    points:
      - {{meter: {kwh}, register: 0, function: holding, type: float64, word_order: big}}
      - {{meter: {nan}, register: 4, function: holding, type: float32, word_order: big}}
"""
        )
        buf = tmp_path / "collect-buffer.sqlite"
        env = {"ECC_COLLECT_KEY": ingest_key}
        collector = CollectorProcess(config, env).start()
        try:
            wait_for(
                lambda: buf.exists() and buffer_counters(buf)["forwarded"] >= 5, 30, "forwarding"
            )
            srv.stop()  # the center goes away …
            outage_started = time.monotonic()
            wait_for(lambda: buffer_counters(buf)["queued"] >= 10, 10, "queued readings")
            collector.kill()  # … and the collector crashes holding unacknowledged readings
            held = buffer_counters(buf)["queued"]
            assert held >= 10
            collector = CollectorProcess(config, env).start()
            time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - outage_started)))
            srv = LiveServer(db_url, tmp_path, port=api_port).start()  # back, same address
            wait_for(
                lambda: (
                    buffer_counters(buf)["forwarded"] > 0 and buffer_counters(buf)["queued"] < 5
                ),
                30,
                "catch-up",
            )
            metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
            with srv.client(admin) as c:  # the collector's health reached the center
                wait_for(
                    lambda: any(
                        d["collector"] == f"plant-{uid}" and d["online"]
                        for d in c.get("/api/v1/collectors/devices").json()
                    ),
                    10,
                    "the health report",
                )
            stop.set()
            ticker.join()
            assert collector.stop() in (0, -15), collector.log()
        finally:
            stop.set()
            if collector.proc is not None and collector.proc.poll() is None:
                collector.kill()
            srv.stop()

    counters = buffer_counters(buf)
    rows = _stored(engine, kwh)
    # every acquired reading is stored, exactly once (the primary key holds meter and ts)
    assert counters["queued"] == 0
    assert counters["dropped"] == 0 and counters["rejected"] == 0
    assert len(rows) == counters["acquired"], (len(rows), counters)
    assert counters["forwarded"] == counters["acquired"]
    assert len({ts for ts, _ in rows}) == len(rows)
    values = [v for _, v in rows]
    assert values == sorted(values) and values[0] > 1000.0  # acquisition order, real register
    # the outage is in the data: readings acquired while the center was down were kept
    gaps = [(b - a).total_seconds() for (a, _), (b, _) in zip(rows, rows[1:], strict=False)]
    # one gap is the collector's restart after the crash; polling went on through the outage
    assert sorted(gaps)[-2] < 1.0, "readings acquired during the outage are missing"
    # the NaN register: counted as bad values, never stored
    assert _stored(engine, nan) == []
    bad = [
        line
        for line in metrics.splitlines()
        if line.startswith("ecc_collect_point_errors_total") and nan in line and "bad_value" in line
    ]
    assert bad and float(bad[0].rsplit(" ", 1)[1]) > 0, metrics
    assert 'ecc_collect_device_online{device="pm1"} 1' in metrics
