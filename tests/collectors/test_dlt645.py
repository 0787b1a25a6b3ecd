"""DL/T 645-2007 framing (hand-checked frames) and reads against a minimal responder."""

from __future__ import annotations

import asyncio

import pytest

from collectors import dlt645
from collectors.config import Device, Point
from collectors.dlt645 import Dlt645Source
from tests.support.field import Dlt645Responder


def test_broadcast_read_of_total_active_energy_is_the_textbook_frame() -> None:
    frame = dlt645.read_request("AAAAAAAAAAAA", "00000000")
    assert frame.hex(" ").upper() == "FE FE FE FE 68 AA AA AA AA AA AA 68 11 04 33 33 33 33 AD 16"


def test_address_is_bcd_least_significant_first() -> None:
    frame = dlt645.read_request("000000001234", "00010000")  # forward active total
    assert frame[4:].hex(" ").upper() == "68 34 12 00 00 00 00 68 11 04 33 33 34 33 F8 16"


def test_energy_answer_decodes() -> None:
    # 12345.67 kWh: BCD 01 23 45 67, least significant byte first, each byte + 0x33
    data = bytes.fromhex("00000000")[::-1] + dlt645.value_to_bcd(12345.67, 4, 2)
    frame = dlt645.build_frame("000000001234", dlt645.READ_OK, data)
    assert frame.hex().upper().endswith("9A785634" + f"{frame[-2]:02X}" + "16")
    address, control, payload = dlt645.parse_frame(frame)
    assert (address, control) == ("000000001234", 0x91)
    assert dlt645.bcd_to_value(payload[4:8], 2, False) == pytest.approx(12345.67)


def test_signed_power_and_bad_frames() -> None:
    assert dlt645.bcd_to_value(dlt645.value_to_bcd(-1.2345, 3, 4, True), 4, True) == -1.2345
    good = dlt645.build_frame("000000001234", 0x91, b"\x00\x00\x00\x00")
    broken = good[:-2] + bytes([(good[-2] + 1) % 256]) + b"\x16"
    with pytest.raises(dlt645.FrameError, match="checksum"):
        dlt645.parse_frame(broken)
    with pytest.raises(dlt645.FrameError, match="BCD"):
        dlt645.bcd_to_value(b"\x0a\x00", 1, False)


def _device(port: int, points: list[Point], timeout_s: float = 1.0) -> Device:
    return Device(
        name="m645",
        protocol="dlt645_tcp",
        line=1,
        points=tuple(points),
        port=port,
        address="000000001234",
        timeout_s=timeout_s,
    )


def _read(device: Device) -> list:
    async def go() -> list:
        src = Dlt645Source(device)
        try:
            return await src.read()
        finally:
            await src.close()

    return asyncio.run(go())


def test_reads_energy_voltage_and_counts_error_frames() -> None:
    values = {"00000000": 12345.67, "02010100": 229.8, "02030000": -12.3456}
    with Dlt645Responder("000000001234", values) as meter:
        points = [
            Point(meter="E", line=1, di="00000000"),
            Point(meter="U", line=2, di="02010100"),
            Point(meter="P", line=3, di="02030000"),
            Point(meter="MISSING", line=4, di="00010000"),
        ]
        by = {r.point.meter: r for r in _read(_device(meter.port, points))}
    assert by["E"].value == pytest.approx(12345.67)
    assert by["U"].value == pytest.approx(229.8)
    assert by["P"].value == pytest.approx(-12.3456)
    assert by["MISSING"].error == "exception" and by["MISSING"].value is None


def test_a_silent_meter_is_a_timeout() -> None:
    with Dlt645Responder("000000001234", {"00000000": 1.0}) as meter:
        meter.silent = True
        results = _read(_device(meter.port, [Point(meter="E", line=1, di="00000000")], 0.3))
    assert [r.error for r in results] == ["timeout"]
