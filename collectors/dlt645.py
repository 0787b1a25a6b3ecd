"""DL/T 645-2007 over TCP (a meter behind a serial device server): framing written here.

Frame: ``68 A0..A5 68 C L DATA CS 16`` (optionally preceded by ``FE`` wake-up bytes). The
address is 6 BCD bytes, least significant first; every data byte is sent plus 0x33; CS is the
sum of all bytes from the first 68 modulo 256. Read data: C = 0x11 with the 4-byte data
identifier (DI, least significant byte first); a normal answer has C = 0x91 and carries the DI
then the value in BCD, least significant byte first; an error answer has C = 0xD1 and one error
byte. Value formats follow the standard's data dictionary (appendix A) for the families below;
energy registers (DI 00xxxxxx) are XXXXXX.XX kWh (kvarh for reactive).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from collectors.acquire import Result, failed, scaled
from collectors.config import Device

READ = 0x11
READ_OK = 0x91
READ_ERROR = 0xD1
# DI prefix → (bytes, decimals, signed): signed values use the top bit of the top byte as sign
FORMATS: dict[str, tuple[int, int, bool]] = {
    "00": (4, 2, False),  # energy, XXXXXX.XX kWh / kvarh
    "0201": (2, 1, False),  # voltage XXX.X V
    "0202": (3, 3, True),  # current XXX.XXX A
    "0203": (3, 4, True),  # active power XX.XXXX kW
    "0204": (3, 4, True),  # reactive power XX.XXXX kvar
    "0205": (3, 4, True),  # apparent power XX.XXXX kVA
    "0206": (2, 3, True),  # power factor X.XXX
    "02800002": (2, 2, False),  # grid frequency XX.XX Hz
}


class FrameError(ValueError):
    pass


def value_format(di: str) -> tuple[int, int, bool]:
    for prefix in sorted(FORMATS, key=len, reverse=True):
        if di.startswith(prefix):
            return FORMATS[prefix]
    raise FrameError(f"DI {di}: no value format known")


def address_bytes(address: str) -> bytes:
    """12 BCD digits → 6 bytes, least significant first (``AA…`` is the broadcast wildcard)."""
    return bytes(int(address[i : i + 2], 16) for i in range(0, 12, 2))[::-1]


def checksum(data: bytes) -> int:
    return sum(data) % 256


def build_frame(address: str, control: int, data: bytes) -> bytes:
    body = (
        b"\x68"
        + address_bytes(address)
        + b"\x68"
        + bytes([control, len(data)])
        + bytes((b + 0x33) % 256 for b in data)
    )
    return b"\xfe\xfe\xfe\xfe" + body + bytes([checksum(body), 0x16])


def read_request(address: str, di: str) -> bytes:
    return build_frame(address, READ, bytes.fromhex(di)[::-1])


def parse_frame(raw: bytes) -> tuple[str, int, bytes]:
    """``(address, control, data with 0x33 removed)`` of one complete frame."""
    start = raw.find(b"\x68")
    if start < 0 or len(raw) - start < 12:
        raise FrameError("incomplete frame")
    f = raw[start:]
    if f[7] != 0x68:
        raise FrameError("second 0x68 missing")
    length = f[9]
    end = 10 + length
    if len(f) < end + 2:
        raise FrameError("incomplete frame")
    if f[end + 1] != 0x16:
        raise FrameError("end byte 0x16 missing")
    if checksum(f[:end]) != f[end]:
        raise FrameError("checksum mismatch")
    address = f[1:7][::-1].hex().upper()
    data = bytes((b - 0x33) % 256 for b in f[10:end])
    return address, f[8], data


def frame_length(buf: bytes) -> int | None:
    """Bytes needed for the first frame in ``buf`` (None: not enough yet to tell)."""
    start = buf.find(b"\x68")
    if start < 0 or len(buf) < start + 10:
        return None
    return start + 10 + buf[start + 9] + 2


def bcd_to_value(data: bytes, decimals: int, signed: bool) -> float:
    """Little-endian BCD bytes → number; raises FrameError on a non-decimal nibble."""
    be = bytearray(data[::-1])
    negative = False
    if signed and be and be[0] & 0x80:
        negative = True
        be[0] &= 0x7F
    digits = be.hex()
    if not digits.isdigit():
        raise FrameError(f"not BCD: {data.hex()}")
    value = int(digits) / 10**decimals
    return -value if negative else value


def value_to_bcd(value: float, size: int, decimals: int, signed: bool = False) -> bytes:
    n = round(abs(value) * 10**decimals)
    digits = f"{n:0{size * 2}d}"
    if len(digits) > size * 2:
        raise ValueError(f"{value} does not fit in {size} BCD bytes")
    be = bytearray(bytes.fromhex(digits))
    if signed and value < 0:
        be[0] |= 0x80
    return bytes(be[::-1])


class Dlt645Source:
    def __init__(self, device: Device) -> None:
        self.device = device
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.device.host, self.device.port), self.device.timeout_s
        )

    async def _exchange(self, frame: bytes) -> tuple[str, int, bytes]:
        assert self._reader is not None and self._writer is not None
        self._writer.write(frame)
        await self._writer.drain()
        buf = b""
        while True:
            need = frame_length(buf)
            if need is not None and len(buf) >= need:
                return parse_frame(buf)
            chunk = await self._reader.read(256)
            if not chunk:
                raise ConnectionError("connection closed by the device server")
            buf += chunk

    async def read(self) -> list[Result]:
        d = self.device
        if self._writer is None:
            try:
                await self._connect()
            except (OSError, TimeoutError) as exc:
                return failed(d.points, time.time(), "timeout", str(exc) or "connect timed out")
        out: list[Result] = []
        for p in d.points:
            try:
                _, control, data = await asyncio.wait_for(
                    self._exchange(read_request(d.address, p.di)), d.timeout_s
                )
            except (OSError, TimeoutError, ConnectionError) as exc:
                await self.close()
                rest = d.points[len(out) :]
                return out + failed(rest, time.time(), "timeout", str(exc) or "no answer")
            except FrameError as exc:
                await self.close()
                out.append(Result(p, time.time(), error="bad_value", detail=str(exc)))
                continue
            ts = time.time()
            if control == READ_ERROR:
                code = data[0] if data else None
                out.append(Result(p, ts, error="exception", detail=f"DL/T 645 error byte {code}"))
                continue
            if control != READ_OK or data[:4][::-1].hex().upper() != p.di:
                out.append(Result(p, ts, error="bad_value", detail="unexpected answer"))
                continue
            try:
                size, decimals, signed = value_format(p.di)
                raw = bcd_to_value(data[4 : 4 + size], decimals, signed)
            except FrameError as exc:
                out.append(Result(p, ts, error="bad_value", detail=str(exc)))
                continue
            out.append(scaled(p, raw, ts))
        return out

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None
