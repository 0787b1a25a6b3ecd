"""``ecc demo --field``: a simulated Modbus TCP energy meter and ``ecc collect`` reading it, so
the field path (device → collector buffer → API) runs end to end beside the demo."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from collectors.simulate import ModbusSim, free_port
from metering import registry

METER = "FIELD-PM1-KWH"
POWER = "FIELD-PM1-KW"


class FieldDemo:
    def __init__(self, sim: ModbusSim, proc: subprocess.Popen, stop: threading.Event) -> None:
        self.sim, self.proc, self.stop_event = sim, proc, stop

    def stop(self) -> None:
        self.stop_event.set()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.sim.stop()


def _meters(engine: Engine, site: str) -> None:
    with Session(engine) as session:
        existing = registry.meter_infos(session, [METER, POWER])
        for code, unit, kind in ((METER, "kWh", "counter"), (POWER, "kW", "gauge")):
            if code not in existing:
                registry.create_meter(
                    session,
                    registry.MeterIn(
                        code=code,
                        name=f"Field meter PM1 ({unit}, Modbus TCP)",
                        site=site,
                        carrier="electricity",
                        unit=unit,
                        kind=kind,
                        interval_s=5,
                    ),
                )
        session.commit()


def start_field(engine: Engine, site: str, api: str, key: str, folder: Path, console: Console):  # noqa: ANN201
    """Start the meter (register 0: kWh float64; register 4: kW float32) and the collector."""
    _meters(engine, site)
    sim = ModbusSim().start()
    stop = threading.Event()

    def meter() -> None:  # 180 kW steady load with a slow swing, integrated every second
        kwh, t = 125_000.0, 0
        while not stop.wait(1.0):
            t += 1
            kw = 180.0 + 40.0 * ((t % 600) / 600.0)
            kwh += kw / 3600.0
            sim.set(0, kwh, "float64")
            sim.set(4, kw, "float32")

    sim.set(0, 125_000.0, "float64")
    sim.set(4, 180.0, "float32")
    threading.Thread(target=meter, daemon=True).start()
    folder.mkdir(parents=True, exist_ok=True)
    metrics = free_port()
    config = folder / "collect.yaml"
    config.write_text(
        f"""# ecc demo --field: one simulated Modbus TCP meter read every 5 s
center: {{url: "{api}", key_env: ECC_COLLECT_KEY}}
buffer: ./collect-buffer.sqlite
metrics_port: {metrics}
devices:
  - name: pm1
    protocol: modbus_tcp
    host: 127.0.0.1
    port: {sim.port}
    unit_id: 1
    poll_s: 5
    points:
      - {{meter: {METER}, register: 0, function: holding, type: float64, word_order: big}}
      - {{meter: {POWER}, register: 4, function: holding, type: float32, word_order: big}}
"""
    )
    log = (folder / "collect.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "shell.cli", "collect", "--config", str(config)],
        env={**os.environ, "ECC_COLLECT_KEY": key},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    console.print(
        f"field:     Modbus meter 127.0.0.1:{sim.port} → ecc collect ({config}) → {METER}, "
        f"{POWER}; metrics http://127.0.0.1:{metrics}/metrics",
        soft_wrap=True,
    )
    return FieldDemo(sim, proc, stop)
