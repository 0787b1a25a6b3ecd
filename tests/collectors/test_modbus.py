"""Modbus TCP and RTU-over-TCP against the pymodbus server: decoding, NaN, exception codes,
timeouts. Bad values are counted and never become readings."""

from __future__ import annotations

import asyncio
import math
import socket
import threading

import pytest

from collectors.acquire import Result
from collectors.config import Device, Point
from collectors.modbus import ModbusSource, plan_blocks
from collectors.registers import decode, encode
from tests.support.field import ModbusSim, free_port


def _device(port: int, points: list[Point], protocol: str = "modbus_tcp", unit_id: int = 1):
    return Device(
        name="pm1",
        protocol=protocol,
        line=1,
        points=tuple(points),
        port=port,
        unit_id=unit_id,
        timeout_s=0.5,
    )


def _read(device: Device) -> list[Result]:
    async def go() -> list[Result]:
        source = ModbusSource(device)
        try:
            return await source.read()
        finally:
            await source.close()

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("type_", "value"),
    [
        ("int16", -1234),
        ("uint16", 65000),
        ("int32", -70000),
        ("uint32", 4_000_000_000),
        ("float32", 1234.5),
        ("float64", 98765.4321),
    ],
)
@pytest.mark.parametrize("word_order", ["big", "little"])
@pytest.mark.parametrize("byte_order", ["big", "little"])
def test_register_round_trip(type_: str, value: float, word_order: str, byte_order: str) -> None:
    words = encode(value, type_, word_order, byte_order)
    assert decode(words, type_, word_order, byte_order) == pytest.approx(value)


def test_reference_layouts() -> None:
    # 123.456 as IEEE 754 float32 is 0x42F6E979: ABCD = [0x42F6, 0xE979], CDAB = [0xE979, 0x42F6]
    assert decode([0x42F6, 0xE979], "float32") == pytest.approx(123.456, abs=1e-4)
    assert decode([0xE979, 0x42F6], "float32", word_order="little") == pytest.approx(
        123.456, abs=1e-4
    )
    assert decode([0xF642, 0x79E9], "float32", byte_order="little") == pytest.approx(
        123.456, abs=1e-4
    )
    assert decode([0xFFFF], "int16") == -1
    assert decode([0x0001, 0x0000], "uint32", word_order="little") == 1


def test_blocks_group_contiguous_registers() -> None:
    pts = [
        Point(meter=f"M{i}", line=1, register=r, type="float32")
        for i, r in enumerate([0, 2, 4, 10, 100])
    ]
    pts.append(Point(meter="IN", line=1, register=0, function="input", type="uint16"))
    blocks = plan_blocks(pts)
    assert [(b.function, b.start, b.count) for b in blocks] == [
        ("holding", 0, 6),
        ("holding", 10, 2),
        ("holding", 100, 2),
        ("input", 0, 1),
    ]


@pytest.mark.parametrize("protocol", ["modbus_tcp", "modbus_rtu_over_tcp"])
def test_reads_scale_offset_and_counts_nan(protocol: str) -> None:
    framer = "rtu" if protocol == "modbus_rtu_over_tcp" else "socket"
    with ModbusSim(framer=framer) as sim:
        sim.set(0, 1500.25, "float32")
        sim.set(2, 4_000_000_000, "uint32", word_order="little")
        sim.set(10, math.nan, "float32")
        sim.set(20, -321, "int16", function="input")
        points = [
            Point(meter="KWH", line=1, register=0, type="float32"),
            Point(meter="CNT", line=2, register=2, type="uint32", word_order="little", scale=0.01),
            Point(meter="NAN", line=3, register=10, type="float32"),
            Point(
                meter="P", line=4, register=20, function="input", type="int16", scale=0.1, offset=1
            ),
        ]
        by_meter = {r.point.meter: r for r in _read(_device(sim.port, points, protocol))}
    assert by_meter["KWH"].value == pytest.approx(1500.25)
    assert by_meter["CNT"].value == pytest.approx(40_000_000.0)
    assert by_meter["NAN"].error == "bad_value" and by_meter["NAN"].value is None
    assert by_meter["P"].value == pytest.approx(-31.1)


def test_exception_code_is_counted() -> None:
    with ModbusSim(size=10) as sim:
        points = [Point(meter="FAR", line=1, register=500, type="float32")]
        (result,) = _read(_device(sim.port, points))
    assert result.error == "exception"
    assert "code 2" in result.detail  # ILLEGAL DATA ADDRESS


def test_no_answer_is_a_timeout() -> None:
    # a device server that accepts the connection and never answers
    port = free_port()
    srv = socket.socket()
    srv.bind(("127.0.0.1", port))
    srv.listen()
    held = []
    threading.Thread(target=lambda: held.append(srv.accept()), daemon=True).start()
    try:
        (result,) = _read(_device(port, [Point(meter="X", line=1, register=0)]))
    finally:
        srv.close()
    assert result.error == "timeout"


def test_refused_connection_is_a_timeout() -> None:
    (result,) = _read(_device(free_port(), [Point(meter="X", line=1, register=0)]))
    assert result.error == "timeout"
