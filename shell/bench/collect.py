"""``ecc bench collect``: the field path and the broker paths, end to end into the database.

1. **Modbus**: 10 simulated meters (pymodbus servers) with 100 float32 points each, polled every
   second by ``ecc collect`` (a subprocess, HTTP transport) for ``seconds``; the figure is the
   readings stored per second after a 3-s warm-up, per point (readings − 1) / (last − first)
   summed over the points (target: 1,000/s, every point every poll), with the collector's
   automatic collection rate; a graceful stop drains the buffer first.
2. **HTTP**: the same message bodies (``{"readings": [...]}``, ``message_readings`` each) posted
   to the API by ``clients`` concurrent clients: the reference figure of this run.
3. **MQTT**: the bodies published at QoS 1 to ``ecc ingest-mqtt`` (a subprocess).
4. **NATS**: the bodies published to a JetStream stream consumed by ``ecc ingest-nats``.

Each broker figure is readings stored per second from the first publish until the database
holds every reading; ``*_vs_http`` is its ratio to the HTTP figure measured in the same run
(target ≥ 0.5). The API and both subscribers run without the rollup worker and the alarm engine.
Bench data is deleted afterwards.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
from rich.console import Console
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from accounts import keys
from collectors.registers import encode
from collectors.simulate import ModbusSim
from core.errors import NotFound
from core.settings import Settings
from metering import registry
from shell.bench.server import free_port, start_api
from shell.runtime import open_database

SITE = "BENCH-COLLECT"
QUIET = {"ECC_ROLLUP_WORKER": "false", "ECC_ALARM_ENGINE": "false", "ECC_LOG_LEVEL": "warning"}


def _meters(engine: Engine, n: int) -> list[str]:
    codes = [f"{SITE}-{i:04d}" for i in range(n)]
    with Session(engine) as session:
        try:
            registry.get_site(session, SITE)
        except NotFound:
            registry.create_site(session, registry.SiteIn(code=SITE, name="collector benchmark"))
        existing = registry.meter_infos(session, codes)
        for code in codes:
            if code not in existing:
                registry.create_meter(
                    session,
                    registry.MeterIn(
                        code=code,
                        name=code,
                        site=SITE,
                        carrier="electricity",
                        unit="kW",
                        kind="gauge",
                        interval_s=1,
                    ),
                )
        session.commit()
    return codes


def _count(engine: Engine, codes: list[str]) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM reading r JOIN meter m ON m.id = r.meter_id "
                "WHERE m.code = ANY(:c)"
            ),
            {"c": codes},
        ).scalar()


def _cleanup(engine: Engine, codes: list[str]) -> None:
    with engine.begin() as conn:
        ids = conn.execute(text("SELECT id FROM meter WHERE code = ANY(:c)"), {"c": codes})
        ids = [r[0] for r in ids]
        conn.execute(text("DELETE FROM reading WHERE meter_id = ANY(:m)"), {"m": ids})
        if conn.execute(text("SELECT to_regclass('rollup_pending')")).scalar() is not None:
            conn.execute(text("DELETE FROM rollup_pending WHERE meter_id = ANY(:m)"), {"m": ids})


def _sustained(engine: Engine, codes: list[str], warmup_s: float) -> tuple[int, float]:
    """(readings stored, readings per second after a warm-up).

    Per point: (readings − 1) / (last − first) over the readings stamped after the warm-up,
    summed over the points. Forwarding keeps acquisition order, so what is stored is a prefix
    of what was acquired.
    """
    with engine.connect() as conn:
        lo, n = conn.execute(
            text(
                "SELECT min(r.ts), count(*) FROM reading r "
                "JOIN meter m ON m.id = r.meter_id WHERE m.code = ANY(:c)"
            ),
            {"c": codes},
        ).one()
        if n == 0:
            return 0, 0.0
        rows = conn.execute(
            text(
                "SELECT count(*), extract(epoch FROM max(r.ts) - min(r.ts)) FROM reading r "
                "JOIN meter m ON m.id = r.meter_id WHERE m.code = ANY(:c) AND r.ts >= :t "
                "GROUP BY m.id"
            ),
            {"c": codes, "t": lo + timedelta(seconds=warmup_s)},
        ).all()
    rate = sum((k - 1) / float(span) for k, span in rows if k > 1 and span)
    return n, round(rate, 1)


def _bodies(codes: list[str], start: datetime, messages: int, per_message: int) -> list[bytes]:
    """``messages`` bodies; reading i of the run is meter i mod n at second i div n."""
    out, n = [], len(codes)
    for m in range(messages):
        rows = []
        for k in range(per_message):
            i = m * per_message + k
            ts = (start + timedelta(seconds=i // n)).isoformat()
            rows.append({"meter": codes[i % n], "ts": ts, "value": round(100 + (i % 97) * 0.5, 1)})
        out.append(orjson.dumps({"readings": rows}))
    return out


def _wait_rows(engine: Engine, codes: list[str], target: int, timeout_s: float) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _count(engine, codes) >= target:
            return time.perf_counter()
        time.sleep(0.05)
    raise TimeoutError(f"only {_count(engine, codes)} of {target} readings after {timeout_s} s")


def _child(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "shell.cli", *args],
            env={**os.environ, **QUIET, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _modbus(
    engine: Engine, url: str, key: str, codes: list[str], seconds: float, work: Path, console
) -> dict:  # noqa: ANN001
    devices, per_device = 10, len(codes) // 10
    sims = [ModbusSim(size=2 * per_device + 2).start() for _ in range(devices)]
    try:
        for d, sim in enumerate(sims):
            words = []
            for p in range(per_device):
                words += encode(220.0 + d + p / 100, "float32")
            sim.set_words(0, words)
        lines = [
            f'center: {{url: "{url}", key_env: ECC_COLLECT_KEY, batch: 2000}}',
            f"buffer: {work / 'bench-buffer.sqlite'}",
            f"metrics_port: {(metrics := free_port())}",
            "devices:",
        ]
        for d, sim in enumerate(sims):
            lines += [
                f"  - {{name: dev{d:02d}, protocol: modbus_tcp, host: 127.0.0.1, port: {sim.port},",
                "     unit_id: 1, poll_s: 1, points: [",
            ]
            lines += [
                f"       {{meter: {codes[d * per_device + p]}, register: {2 * p}, type: float32}},"
                for p in range(per_device)
            ]
            lines.append("     ]}")
        config = work / "bench-collect.yaml"
        config.write_text("\n".join(lines) + "\n")
        console.print(
            f"Modbus: {devices} devices × {per_device} points, 1 s polls, {seconds:g} s …"
        )
        proc = _child(
            ["collect", "--config", str(config)], {"ECC_COLLECT_KEY": key}, work / "collect.log"
        )
        try:
            time.sleep(seconds)
            health = httpx.get(f"http://127.0.0.1:{metrics}/health", timeout=5).json()
        finally:
            _stop(proc)
        acquired = health["buffer"]["acquired"]
        stored, per_s = _sustained(engine, codes, warmup_s=3.0)
        polls = [d["poll_duration_s"] for d in health["devices"].values()]
        return {
            "modbus_points": devices * per_device,
            "modbus_devices": devices,
            "modbus_seconds": seconds,
            "modbus_expected_per_s": devices * per_device,
            "modbus_readings_per_s": per_s,
            "modbus_acquired": acquired,
            "modbus_stored": stored,
            "modbus_collection_rate": health["collection_rate"],
            "modbus_poll_duration_ms_max": round(1000 * max(polls), 2),
        }
    finally:
        for sim in sims:
            sim.stop()


def _http(url: str, key: str, bodies: list[bytes], clients: int) -> float:
    chunks = [bodies[k::clients] for k in range(clients)]

    def post_all(mine: list[bytes]) -> None:
        with httpx.Client(
            base_url=url,
            timeout=120,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        ) as c:
            for body in mine:
                r = c.post("/api/v1/readings", content=body)
                r.raise_for_status()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(post_all, chunks))
    return time.perf_counter() - t0


def _mqtt(engine, codes, bodies, total, work, db_url, settings) -> float:  # noqa: ANN001
    import paho.mqtt.client as mqtt

    tag = uuid.uuid4().hex[:8]
    topic = f"ecc-bench/{tag}/readings"
    env = {
        "ECC_DATABASE_URL": db_url,
        "ECC_MQTT_HOST": settings.mqtt_host,
        "ECC_MQTT_PORT": str(settings.mqtt_port),
        "ECC_INGEST_MQTT_TOPIC": f"{topic}/#",
        "ECC_INGEST_MQTT_CLIENT_ID": f"ecc-bench-{tag}",
        "ECC_INGEST_MQTT_DEADLETTER_TOPIC": f"ecc-bench/{tag}/dead",
        "ECC_LOG_LEVEL": "info",  # its "subscribed to" line tells the bench to start
    }
    log = work / "ingest-mqtt.log"
    proc = _child(["ingest-mqtt"], env, log)
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{tag}")
    pub.max_inflight_messages_set(200)
    pub.connect(settings.mqtt_host, settings.mqtt_port)
    pub.loop_start()
    try:
        deadline = time.monotonic() + 60
        while "subscribed to" not in log.read_text(errors="replace"):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"ecc ingest-mqtt did not subscribe:\n{log.read_text()}")
            time.sleep(0.05)
        base = _count(engine, codes)
        t0 = time.perf_counter()
        infos = [pub.publish(f"{topic}/p{n % 10}", b, qos=1) for n, b in enumerate(bodies)]
        for info in infos:
            info.wait_for_publish(60)
        t1 = _wait_rows(engine, codes, base + total, 300)
        return t1 - t0
    finally:
        pub.loop_stop()
        _stop(proc)
        # drop the subscriber's persistent session on the broker (a clean-session connect)
        gone = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"ecc-bench-{tag}", clean_session=True
        )
        gone.connect(settings.mqtt_host, settings.mqtt_port)
        gone.disconnect()


def _nats(engine, codes, bodies, total, work, db_url, settings) -> float:  # noqa: ANN001
    import nats

    tag = uuid.uuid4().hex[:8]
    stream, subject = f"ECC_BENCH_{tag}", f"ecc-bench.{tag}"
    env = {
        "ECC_DATABASE_URL": db_url,
        "ECC_INGEST_NATS_URL": settings.ingest_nats_url,
        "ECC_INGEST_NATS_STREAM": stream,
        "ECC_INGEST_NATS_SUBJECT": f"{subject}.>",
        "ECC_INGEST_NATS_DURABLE": f"bench-{tag}",
        "ECC_INGEST_NATS_DEADLETTER_SUBJECT": f"{subject}-dead",
    }

    async def publish() -> float:
        nc = await nats.connect(settings.ingest_nats_url)
        js = nc.jetstream()
        try:
            await js.add_stream(name=stream, subjects=[f"{subject}.>"])
            proc = _child(["ingest-nats"], env, work / "ingest-nats.log")
            try:
                deadline = time.monotonic() + 60
                while True:  # ready once its durable consumer exists
                    try:
                        await js.consumer_info(stream, f"bench-{tag}")
                        break
                    except nats.js.errors.NotFoundError:
                        if time.monotonic() > deadline or proc.poll() is not None:
                            raise RuntimeError("ecc ingest-nats did not start") from None
                        await asyncio.sleep(0.05)
                base = _count(engine, codes)
                t0 = time.perf_counter()
                futures = [
                    await js.publish_async(f"{subject}.p{n % 10}", b) for n, b in enumerate(bodies)
                ]
                await asyncio.gather(*futures)
                t1 = await asyncio.to_thread(_wait_rows, engine, codes, base + total, 300)
                return t1 - t0
            finally:
                await asyncio.to_thread(_stop, proc)
        finally:
            await js.delete_stream(stream)
            await nc.close()

    return asyncio.run(publish())


def run_collect_bench(
    settings: Settings,
    *,
    seconds: float,
    messages: int,
    message_readings: int,
    clients: int,
    workers: int,
    console: Console,
) -> dict:
    db_url, engine = open_database(settings, upgrade=True)
    codes = _meters(engine, 1000)
    _cleanup(engine, codes)
    with Session(engine) as session:
        key = keys.create_key(session, "ingest", f"bench-collect-{uuid.uuid4().hex[:8]}")
        session.commit()
    port = free_port()
    api = start_api(db_url, port, workers, QUIET)
    url = f"http://127.0.0.1:{port}"
    result: dict = {}
    total = messages * message_readings
    start = datetime(2021, 1, 1, tzinfo=UTC)
    try:
        with tempfile.TemporaryDirectory(prefix="ecc-bench-collect-") as tmp:
            work = Path(tmp)
            result |= _modbus(engine, url, key, codes, seconds, work, console)
            _cleanup(engine, codes)
            console.print(
                f"HTTP: {messages} bodies of {message_readings} readings, {clients} clients …"
            )
            http_s = _http(url, key, _bodies(codes, start, messages, message_readings), clients)
            _cleanup(engine, codes)
            api.terminate()
            api.wait(30)
            console.print("MQTT: ecc ingest-mqtt …")
            mqtt_s = _mqtt(
                engine,
                codes,
                _bodies(codes, start + timedelta(days=1), messages, message_readings),
                total,
                work,
                db_url,
                settings,
            )
            _cleanup(engine, codes)
            console.print("NATS JetStream: ecc ingest-nats …")
            nats_s = _nats(
                engine,
                codes,
                _bodies(codes, start + timedelta(days=2), messages, message_readings),
                total,
                work,
                db_url,
                settings,
            )
    finally:
        if api.poll() is None:
            api.terminate()
            api.wait(30)
        _cleanup(engine, codes)
        engine.dispose()
    http_rate, mqtt_rate, nats_rate = total / http_s, total / mqtt_s, total / nats_s
    result |= {
        "broker_readings": total,
        "message_readings": message_readings,
        "http_clients": clients,
        "api_workers": workers,
        "http_readings_per_s": round(http_rate),
        "mqtt_readings_per_s": round(mqtt_rate),
        "nats_readings_per_s": round(nats_rate),
        "mqtt_vs_http": round(mqtt_rate / http_rate, 3),
        "nats_vs_http": round(nats_rate / http_rate, 3),
        "target_vs_http": 0.5,
    }
    return result
