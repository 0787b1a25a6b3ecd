"""Field devices for the collector tests: a pymodbus server, a DL/T 645 responder, an OPC UA
server, each on a free 127.0.0.1 port in a background event-loop thread.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from collectors import dlt645
from collectors.simulate import LoopThread, ModbusSim, free_port, wait_port  # noqa: F401
from tests.support.paths import REPO_ROOT


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
        out = dict.fromkeys(("acquired", "forwarded", "duplicates", "rejected", "dropped"), 0)
        out |= dict(db.execute("SELECT name, value FROM counter").fetchall())
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


def forget_mqtt_session(client_id: str, host: str = "127.0.0.1", port: int = 1883) -> None:
    """Drop the broker's persistent session of ``client_id`` (a clean-session connect does)."""
    import paho.mqtt.client as mqtt

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    c.connect(host, port)
    c.loop_start()
    time.sleep(0.1)
    c.disconnect()
    c.loop_stop()
