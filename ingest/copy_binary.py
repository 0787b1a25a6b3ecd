"""PostgreSQL binary COPY payloads built with numpy (no per-row Python)."""

from __future__ import annotations

import numpy as np

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
TRAILER = b"\xff\xff"
PG_EPOCH_US = 946_684_800 * 1_000_000  # 2000-01-01 in Unix microseconds

_READING_E = np.dtype(
    [
        ("nf", ">i2"),
        ("l1", ">i4"),
        ("m", ">i4"),
        ("l2", ">i4"),
        ("ts", ">i8"),
        ("l3", ">i4"),
        ("v", ">f8"),
        ("l4", ">i4"),
        ("e", ">f8"),
    ]
)
_READING_N = np.dtype(
    [
        ("nf", ">i2"),
        ("l1", ">i4"),
        ("m", ">i4"),
        ("l2", ">i4"),
        ("ts", ">i8"),
        ("l3", ">i4"),
        ("v", ">f8"),
        ("l4", ">i4"),
    ]
)
_STAGE = np.dtype(
    [
        ("nf", ">i2"),
        ("l0", ">i4"),
        ("i", ">i4"),
        ("l1", ">i4"),
        ("m", ">i4"),
        ("l2", ">i4"),
        ("ts", ">i8"),
        ("l3", ">i4"),
        ("v", ">f8"),
    ]
)


def reading_rows(
    meter_id: np.ndarray, ts_us: np.ndarray, value: np.ndarray, energy: np.ndarray
) -> bytes:
    """Rows for ``COPY reading (meter_id, ts, value, energy)``; NaN energy → NULL."""
    has = ~np.isnan(energy)
    parts = [HEADER]
    for dtype, mask in ((_READING_E, has), (_READING_N, ~has)):
        n = int(mask.sum())
        if not n:
            continue
        arr = np.empty(n, dtype)
        arr["nf"], arr["l1"], arr["m"], arr["l2"] = 4, 4, meter_id[mask], 8
        arr["ts"] = ts_us[mask] - PG_EPOCH_US
        arr["l3"], arr["v"] = 8, value[mask]
        if dtype is _READING_E:
            arr["l4"], arr["e"] = 8, energy[mask]
        else:
            arr["l4"] = -1
        parts.append(arr.tobytes())
    parts.append(TRAILER)
    return b"".join(parts)


def stage_rows(
    idx: np.ndarray, meter_id: np.ndarray, ts_us: np.ndarray, value: np.ndarray
) -> bytes:
    """Rows for ``COPY ingest_stage (idx, meter_id, ts, value)``."""
    arr = np.empty(len(idx), _STAGE)
    arr["nf"], arr["l0"], arr["i"], arr["l1"], arr["m"] = 4, 4, idx, 4, meter_id
    arr["l2"], arr["ts"], arr["l3"], arr["v"] = 8, ts_us - PG_EPOCH_US, 8, value
    return HEADER + arr.tobytes() + TRAILER
