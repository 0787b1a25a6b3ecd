"""A simulated Modbus TCP energy meter (pymodbus server) for the demo, the benchmark and tests.

Holding and input registers 0..size-1 of each unit id, served on 127.0.0.1 from an asyncio
loop in a background thread; ``set`` writes a value encoded like a real meter would.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Coroutine
from typing import Any

from collectors.registers import encode


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
    """pymodbus TCP server: holding and input registers 0..size-1 of units ``unit_ids``."""

    def __init__(
        self,
        unit_ids: tuple[int, ...] = (1,),
        size: int = 1000,
        framer: str = "socket",
        port: int | None = None,
    ) -> None:
        from pymodbus import FramerType
        from pymodbus.simulator import DataType, SimData, SimDevice

        self.port = port or free_port()

        def block(dt: DataType, value: bool | int) -> list:
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
        self.server: Any = None  # pymodbus ModbusTcpServer, imported on demand

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

        self.lt.call(go())
        wait_port(self.port)
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


def wait_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")
