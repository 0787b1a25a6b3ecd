"""Modbus register words → numbers: int16/uint16/int32/uint32/float32/float64, word and byte order.

Registers are 16-bit words as the Modbus PDU carries them. ``byte_order: little`` swaps the two
bytes inside each word; ``word_order: little`` puts the least significant word first (the common
"CDAB" layout of many power meters is ``word_order: little, byte_order: big``).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from collectors.config import REGISTER_TYPES

_FORMATS = {
    "int16": ">h",
    "uint16": ">H",
    "int32": ">i",
    "uint32": ">I",
    "float32": ">f",
    "float64": ">d",
}


def decode(
    words: Sequence[int], type_: str, word_order: str = "big", byte_order: str = "big"
) -> float:
    """The number held by ``words`` (exactly ``REGISTER_TYPES[type_]`` of them)."""
    n = REGISTER_TYPES[type_]
    if len(words) != n:
        raise ValueError(f"{type_} needs {n} registers, got {len(words)}")
    ordered = list(words) if word_order == "big" else list(reversed(words))
    raw = b"".join(
        w.to_bytes(2, "big") if byte_order == "big" else w.to_bytes(2, "little") for w in ordered
    )
    return float(struct.unpack(_FORMATS[type_], raw)[0])


def encode(value: float, type_: str, word_order: str = "big", byte_order: str = "big") -> list[int]:
    """The inverse of :func:`decode` (simulators and tests write registers with it)."""
    fmt = _FORMATS[type_]
    raw = struct.pack(fmt, int(value) if fmt[1] in "hHiI" else value)
    words = [
        int.from_bytes(raw[i : i + 2], "big" if byte_order == "big" else "little")
        for i in range(0, len(raw), 2)
    ]
    return words if word_order == "big" else list(reversed(words))
