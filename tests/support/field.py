"""Field devices for the collector tests: a pymodbus server, a DL/T 645 responder, an OPC UA
server, each on a free 127.0.0.1 port in a background event-loop thread.

``python -m tests.support.field modbus PORT`` runs a Modbus energy meter in its own process (the
outage test kills the collector, not the meter).
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from collectors import dlt645
from collectors.registers import encode
from tests.support.paths import REPO_ROOT


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopThread:
    """An asyncio loop on a daemon thread; ``call`` runs a coroutine there and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro: Coroutine, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class ModbusSim:
    """pymodbus TCP server: holding and input registers 0..999 of unit ``unit_ids``."""

    def __init__(self, unit_ids: tuple[int, ...] = (1,), size: int = 1000, framer: str = "socket"):
        from pymodbus import FramerType
        from pymodbus.simulator import DataType, SimData, SimDevice

        self.port = free_port()

        def block(dt: DataType, value: object) -> list:
            return [SimData(0, count=size, values=value, datatype=dt)]

        self.devices = [
            SimDevice(
                u,
                simdata=(
                    block(DataType.BITS, False),
                    block(DataType.BITS, False),
                    block(DataType.REGISTERS, 0),
                    block(DataType.REGISTERS, 0),
                ),
            )
            for u in unit_ids
        ]
        self.framer = FramerType.RTU if framer == "rtu" else FramerType.SOCKET
        self.lt = LoopThread()
        self.server = None

    def start(self) -> ModbusSim:
        from pymodbus.server import ModbusTcpServer

        async def go() -> None:
            self.server = ModbusTcpServer(
                self.devices,
                framer=self.framer,
                address=("127.0.0.1", self.port),
                ignore_missing_devices=True,
            )
            asyncio.ensure_future(self.server.serve_forever())
            for _ in range(200):
                if self.server.transport is not None:
                    return
                await asyncio.sleep(0.01)

        self.lt.call(go())
        _wait_port(self.port)
        return self

    def set(
        self,
        address: int,
        value: float,
        type_: str = "float32",
        *,
        unit: int = 1,
        function: str = "holding",
        word_order: str = "big",
        byte_order: str = "big",
    ) -> None:
        fc = 3 if function == "holding" else 4
        self.set_words(address, encode(value, type_, word_order, byte_order), unit=unit, fc=fc)

    def set_words(self, address: int, words: list[int], *, unit: int = 1, fc: int = 3) -> None:
        assert self.server is not None
        self.lt.call(self.server.async_setValues(unit, fc, address, words))

    def stop(self) -> None:
        if self.server is not None:
            self.lt.call(self.server.shutdown())
        self.lt.close()

    def __enter__(self) -> ModbusSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Dlt645Responder:
    """A minimal DL/T 645-2007 meter behind a TCP device server: answers read-data (0x11).

    ``values`` maps DI (8 hex digits) to a number; a DI not in it gets an error frame (error
    byte 0x02, no data requested); ``silent`` makes the meter never answer (timeouts).
    """

    def __init__(self, address: str = "000000001234", values: dict[str, float] | None = None):
        self.address = address
        self.values = dict(values or {})
        self.silent = False
        self.requests = 0
        self.port = free_port()
        self.lt = LoopThread()
        self.server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buf = b""
        try:
            while chunk := await reader.read(256):
                buf += chunk
                while (need := dlt645.frame_length(buf)) is not None and len(buf) >= need:
                    frame, buf = buf[:need], buf[need:]
                    self.requests += 1
                    answer = self._answer(frame)
                    if answer is not None and not self.silent:
                        writer.write(answer)
                        await writer.drain()
        except (ConnectionError, dlt645.FrameError):
            pass
        finally:
            writer.close()

    def _answer(self, frame: bytes) -> bytes | None:
        address, control, data = dlt645.parse_frame(frame)
        if control != dlt645.READ or address not in (self.address, "AAAAAAAAAAAA"):
            return None
        di = data[:4][::-1].hex().upper()
        if di not in self.values:
            return dlt645.build_frame(self.address, dlt645.READ_ERROR, b"\x02")
        size, decimals, signed = dlt645.value_format(di)
        value = dlt645.value_to_bcd(self.values[di], size, decimals, signed)
        return dlt645.build_frame(self.address, dlt645.READ_OK, data[:4] + value)

    def start(self) -> Dlt645Responder:
        async def go() -> None:
            self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

        self.lt.call(go())
        return self

    def stop(self) -> None:
        async def go() -> None:
            assert self.server is not None
            self.server.close()

        self.lt.call(go())
        self.lt.close()

    def __enter__(self) -> Dlt645Responder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class OpcUaSim:
    """An asyncua server with variables ``ns=2;s=<name>`` (Double)."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.port = free_port()
        self.url = f"opc.tcp://127.0.0.1:{self.port}/ecc/"
        self.lt = LoopThread()
        self.server = None
        self.vars: dict[str, Any] = {}

    def start(self) -> OpcUaSim:
        from asyncua import Server, ua

        async def go() -> None:
            server = Server()
            await server.init()
            server.set_endpoint(self.url)
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
            idx = await server.register_namespace("urn:ecc:test")
            assert idx == 2
            obj = await server.nodes.objects.add_object(idx, "Meters")
            for name in self.names:
                var = await obj.add_variable(ua.NodeId(name, idx), name, 0.0, ua.VariantType.Double)
                self.vars[name] = var
            await server.start()
            self.server = server

        self.lt.call(go(), timeout=60)
        return self

    def set(self, name: str, value: float) -> None:
        self.lt.call(self.vars[name].write_value(value))

    def stop(self) -> None:
        if self.server is not None:
            self.lt.call(self.server.stop())
        self.lt.close()

    def __enter__(self) -> OpcUaSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _wait_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port}")


def _serve_counter_meter(port_file: str) -> None:
    """A Modbus energy meter whose float64 register 0 counts up by 0.25 kWh every 50 ms."""
    sim = ModbusSim()
    sim.start()
    with open(port_file + ".tmp", "w") as f:
        f.write(str(sim.port))
    os.replace(port_file + ".tmp", port_file)
    kwh = 0.0
    while True:
        kwh += 0.25
        sim.set(0, kwh, "float64")
        sim.set(4, math.nan, "float32")  # a point that always reads NaN
        time.sleep(0.05)


if __name__ == "__main__":
    _serve_counter_meter(sys.argv[1])


class EccProcess:
    """An ``ecc`` command in a subprocess with only the given ``ECC_*`` variables (SIGKILL
    simulates a crash)."""

    def __init__(self, args: list[str], workdir: Path, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.workdir = workdir
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"{args[0]}.log"

    def start(self) -> EccProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ECC_")}
        env.update({"PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1", **self.env})
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "shell.cli", *self.args],
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def CollectorProcess(config: Path, env: dict[str, str] | None = None) -> EccProcess:  # noqa: N802
    """``ecc collect --config FILE`` beside its configuration file."""
    return EccProcess(["collect", "--config", str(config)], config.parent, env)


def buffer_counters(path: Path) -> dict[str, int]:
    """The counters of a collector's buffer file, read beside the running collector (WAL)."""
    import sqlite3

    if not path.exists():
        return {"acquired": 0, "forwarded": 0, "queued": 0}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        out = dict(db.execute("SELECT name, value FROM counter").fetchall())
        out["queued"] = db.execute("SELECT count(*) FROM queue").fetchone()[0]
    except sqlite3.OperationalError:  # the collector is still creating the file
        return {"acquired": 0, "forwarded": 0, "queued": 0}
    finally:
        db.close()
    return out


def wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
