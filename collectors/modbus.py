"""Modbus TCP, and Modbus RTU framed over TCP (serial device servers), with pymodbus.

Points of one device are read in as few requests as possible: registers of the same function
that are contiguous or overlapping form one block of at most 120 words. A block answered with
an exception code marks each of its points ``exception``; no answer marks them ``timeout``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from pymodbus import FramerType
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from collectors.acquire import Result, failed, scaled
from collectors.config import Device, Point
from collectors.registers import decode

MAX_BLOCK_WORDS = 120
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # we count and report failures ourselves


@dataclass
class Block:
    function: str
    start: int
    count: int
    points: list[Point]


def plan_blocks(points: tuple[Point, ...] | list[Point]) -> list[Block]:
    """Group points into read requests (same function, contiguous registers, ≤ 120 words)."""
    blocks: list[Block] = []
    for p in sorted(points, key=lambda p: (p.function, p.register)):
        end = p.register + p.words
        last = blocks[-1] if blocks else None
        if (
            last is not None
            and last.function == p.function
            and p.register <= last.start + last.count
            and max(end, last.start + last.count) - last.start <= MAX_BLOCK_WORDS
        ):
            last.count = max(end, last.start + last.count) - last.start
            last.points.append(p)
        else:
            blocks.append(Block(p.function, p.register, p.words, [p]))
    return blocks


class ModbusSource:
    def __init__(self, device: Device) -> None:
        self.device = device
        self.blocks = plan_blocks(device.points)
        framer = FramerType.RTU if device.protocol == "modbus_rtu_over_tcp" else FramerType.SOCKET
        self.client = AsyncModbusTcpClient(
            device.host,
            port=device.port,
            framer=framer,
            timeout=device.timeout_s,
            retries=0,
            reconnect_delay=0,  # we reconnect on the next poll ourselves
        )

    async def read(self) -> list[Result]:
        if not self.client.connected:
            try:
                ok = await self.client.connect()
            except (ModbusException, OSError) as exc:
                ok, why = False, str(exc)
            else:
                why = "connection refused or timed out"
            if not ok:
                return failed(self.device.points, time.time(), "timeout", why)
        out: list[Result] = []
        for block in self.blocks:
            out.extend(await self._read_block(block))
        return out

    async def _read_block(self, block: Block) -> list[Result]:
        reader = (
            self.client.read_holding_registers
            if block.function == "holding"
            else self.client.read_input_registers
        )
        try:
            rr = await reader(block.start, count=block.count, device_id=self.device.unit_id)
        except (ModbusException, OSError, TimeoutError) as exc:
            self.client.close()
            return failed(block.points, time.time(), "timeout", str(exc) or type(exc).__name__)
        ts = time.time()
        if rr.isError():
            code = getattr(rr, "exception_code", None)
            return failed(block.points, ts, "exception", f"Modbus exception code {code}")
        words = rr.registers
        out = []
        for p in block.points:
            lo = p.register - block.start
            try:
                raw = decode(words[lo : lo + p.words], p.type, p.word_order, p.byte_order)
            except ValueError as exc:
                out.append(Result(p, ts, error="bad_value", detail=str(exc)))
                continue
            out.append(scaled(p, raw, ts))
        return out

    async def close(self) -> None:
        self.client.close()
