"""Item-by-item validation of raw readings into canonical, insert-ready numpy columns.

Every rejection names the field and the reason. Canonical value =
``value × multiplier × unit factor + unit offset`` (the multiplier is the meter's CT/PT ratio,
applied to what the meter registers). Timestamps become integer microseconds since the Unix
epoch (UTC), exactly. Columnar series with clean values are validated with numpy in one pass;
anything irregular falls back to the item-by-item path, which gives the same answers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from core import limits
from core.errors import Invalid
from ingest.parsers import MISSING, RawItems
from metering.registry import MeterInfo

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
EARLIEST_US = (limits.EARLIEST - EPOCH) // US
LATEST_US = (limits.LATEST - EPOCH) // US


@dataclass
class ValidBatch:
    """Insert-ready columns sorted by (meter, ts), plus what was rejected or duplicated."""

    idx: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    meter_id: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    ts_us: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    value: np.ndarray = field(default_factory=lambda: np.empty(0, np.float64))
    rejected: list[dict] = field(default_factory=list)
    duplicates: int = 0
    meters: dict[int, MeterInfo] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.idx)

    def timestamps(self) -> list[datetime]:
        return [EPOCH + timedelta(microseconds=int(t)) for t in self.ts_us]

    def timestamps_at(self, positions: np.ndarray) -> list[datetime]:
        return [EPOCH + timedelta(microseconds=int(t)) for t in self.ts_us[positions]]


def ts_to_us(ts: datetime) -> int:
    return (ts - EPOCH) // US


def _parse_ts(raw: object) -> datetime | str:
    """A timezone-aware datetime, or the rejection reason."""
    if not isinstance(raw, str):
        return "missing" if raw is None else f"must be an RFC 3339 string, got {raw!r}"
    try:
        ts = datetime.fromisoformat(raw)
    except ValueError:
        return f"not an RFC 3339 timestamp: {raw!r}"
    if ts.tzinfo is None or ts.utcoffset() is None:
        return f"timestamp without UTC offset: {raw!r}"
    problem = limits.ts_problem(ts)
    if problem is not None:
        return f"{raw!r} is {problem}"
    return ts


class _Collector:
    def __init__(self) -> None:
        self.idx: list[np.ndarray] = []
        self.meter: list[np.ndarray] = []
        self.ts: list[np.ndarray] = []
        self.value: list[np.ndarray] = []

    def add(self, idx, meter_id, ts_us, value) -> None:  # noqa: ANN001
        self.idx.append(np.asarray(idx, np.int64))
        self.meter.append(np.asarray(meter_id, np.int32))
        self.ts.append(np.asarray(ts_us, np.int64))
        self.value.append(np.asarray(value, np.float64))


def validate(
    items: RawItems,
    lookup_meters: Callable[[set[str]], Mapping[str, MeterInfo]],
    now: datetime | None = None,
    future_tolerance_s: int = 300,
) -> ValidBatch:
    """Validate raw items; ``lookup_meters`` maps codes to meters (unknown codes absent)."""
    now = now or datetime.now(UTC)
    horizon_us = ts_to_us(now) + future_tolerance_s * 1_000_000
    codes = {m for m in items.meter if type(m) is str and limits.text_problem(m) is None}
    meters = lookup_meters(codes)
    out = ValidBatch()
    col = _Collector()
    done = 0
    for lo, hi in items.runs:
        if lo > done:  # items outside any series run
            _validate_items(
                items, range(done, lo), meters, horizon_us, future_tolerance_s, out, col
            )
        if not _validate_run_fast(items, lo, hi, meters, horizon_us, col):
            _validate_items(items, range(lo, hi), meters, horizon_us, future_tolerance_s, out, col)
        done = hi
    if done < len(items):
        _validate_items(
            items, range(done, len(items)), meters, horizon_us, future_tolerance_s, out, col
        )
    _finish(out, col, meters)
    return out


def _validate_run_fast(
    items: RawItems,
    lo: int,
    hi: int,
    meters: Mapping[str, MeterInfo],
    horizon_us: int,
    col: _Collector,
) -> bool:
    """One series (same meter and unit) validated with numpy; False → use the slow path."""
    if hi - lo < 16:
        return False
    code, unit = items.meter[lo], items.unit[lo]
    meter = meters.get(code) if isinstance(code, str) else None
    if meter is None or (unit is not None and not isinstance(unit, str)):
        return False
    values = items.value[lo:hi]
    if not set(map(type, values)) <= {float, int}:
        return False
    try:
        factor, offset = meter.factor_offset(unit)
    except Invalid:
        return False
    ts_us = _stamps_us(items.ts[lo:hi])
    if ts_us is None:
        return False
    try:
        v = np.asarray(values, np.float64)
    except OverflowError:  # an integer beyond double precision
        return False
    if not np.isfinite(v).all() or (meter.kind != "gauge" and (v < 0).any()):
        return False
    if (ts_us > horizon_us).any() or (ts_us < EARLIEST_US).any() or (ts_us >= LATEST_US).any():
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        canonical = v * factor + offset
    limit = meter.value_limit()
    if not (np.abs(canonical) <= limit).all():  # also False for NaN/inf
        return False
    most = meter.max_interval_quantity
    if meter.kind == "delta" and most is not None and (canonical > most).any():
        return False
    col.add(np.arange(lo, hi), np.full(hi - lo, meter.id), ts_us, canonical)
    return True


_OFFSET_CHARS = set("0123456789")
# What the numpy parser may see: exactly the subset of RFC 3339 local times that
# ``datetime.fromisoformat`` reads the same way (ASCII digits, "T" or space, up to 6 decimals).
_LOCAL_RUN = re.compile(
    r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?\n)*"
)


def _stamps_us(stamps: list) -> np.ndarray | None:
    """Microseconds since the epoch for RFC 3339 strings, or None if any is irregular.

    Common case first: every string has the same UTC offset suffix (``Z`` or ``±HH:MM``); the
    rest is parsed by numpy in C. Otherwise each string goes through ``fromisoformat``.
    """
    if not stamps or not all(type(t) is str for t in stamps):
        return None
    suffixes = {t[-6:] for t in stamps}
    if len(suffixes) == 1:
        sfx = next(iter(suffixes))
        cut, offset_s = 0, 0
        if sfx.endswith("Z"):
            cut = 1
        elif (
            len(sfx) == 6
            and sfx[0] in "+-"
            and sfx[3] == ":"
            and set(sfx[1:3] + sfx[4:]) <= _OFFSET_CHARS
            and int(sfx[1:3]) < 24
            and int(sfx[4:]) < 60
        ):
            cut = 6
            offset_s = (int(sfx[1:3]) * 3600 + int(sfx[4:]) * 60) * (1 if sfx[0] == "+" else -1)
        if cut:
            local_s = [t[:-cut] for t in stamps]
            if _LOCAL_RUN.fullmatch("\n".join(local_s) + "\n"):
                try:
                    local = np.array(local_s, dtype="datetime64[us]")
                except ValueError:  # e.g. 2026-02-30: the item path says why
                    return None
                return local.astype(np.int64) - offset_s * 1_000_000
    try:
        parsed = [datetime.fromisoformat(t) for t in stamps]
    except ValueError:
        return None
    if any(t.utcoffset() is None or limits.ts_problem(t) for t in parsed):
        return None
    return np.fromiter(((t - EPOCH) // US for t in parsed), np.int64, len(parsed))


def _validate_items(
    items: RawItems,
    indexes: range,
    meters: Mapping[str, MeterInfo],
    horizon_us: int,
    future_tolerance_s: int,
    out: ValidBatch,
    col: _Collector,
) -> None:
    reject = out.rejected.append
    conversions: dict[tuple[str, object], tuple[float, float] | str] = {}
    errors = items.errors
    isfinite = math.isfinite
    idx_l, meter_l, ts_l, value_l = [], [], [], []
    for i in indexes:
        if i in errors:
            reject({"index": i, "error": errors[i]})
            continue
        code, raw_ts, raw_value, unit = items.meter[i], items.ts[i], items.value[i], items.unit[i]
        meter = meters.get(code) if type(code) is str else None
        if meter is None:
            if code is None:
                reason = "missing"
            elif type(code) is not str:
                reason = f"must be a string, got {type(code).__name__}"
            else:
                reason = limits.text_problem(code) or f"unknown meter {code!r}"
            reject({"index": i, "error": f"meter: {reason}"})
            continue
        if unit is not None and type(unit) is not str:
            reject({"index": i, "error": f"unit: must be a string, got {type(unit).__name__}"})
            continue
        if type(raw_value) is not float and type(raw_value) is not int:
            shown = "missing" if raw_value is MISSING else f"not a number: {raw_value!r}"
            reject({"index": i, "error": f"value: {shown}"})
            continue
        try:
            finite = isfinite(raw_value)
        except OverflowError:
            reject({"index": i, "error": "value: out of range (an integer beyond 1e308)"})
            continue
        if not finite:
            reject({"index": i, "error": f"value: not finite ({raw_value})"})
            continue
        ts = _parse_ts(raw_ts)
        if isinstance(ts, str):
            reject({"index": i, "error": f"ts: {ts}"})
            continue
        ts_us = (ts - EPOCH) // US
        if ts_us > horizon_us:
            reject({"index": i, "error": f"ts: more than {future_tolerance_s} s in the future"})
            continue
        conv = conversions.get((code, unit))
        if conv is None:
            conv = _conversion(meter, unit)
            conversions[(code, unit)] = conv
        if isinstance(conv, str):
            reject({"index": i, "error": conv})
            continue
        if raw_value < 0 and meter.kind != "gauge":
            what = "interval quantity" if meter.kind == "delta" else "register reading"
            reject(
                {
                    "index": i,
                    "error": f"value: negative {what} ({raw_value}) on a {meter.kind} meter",
                }
            )
            continue
        canonical = _canonical(raw_value, conv, meter)
        if isinstance(canonical, str):
            reject({"index": i, "error": canonical})
            continue
        idx_l.append(i)
        meter_l.append(meter.id)
        ts_l.append(ts_us)
        value_l.append(canonical)
    if idx_l:
        col.add(idx_l, meter_l, ts_l, value_l)


def _finish(out: ValidBatch, col: _Collector, meters: Mapping[str, MeterInfo]) -> None:
    """Concatenate, sort by (meter, ts, index) and resolve repeats inside the request."""
    if not col.idx:
        out.rejected.sort(key=lambda r: r["index"])
        return
    idx, meter_id = np.concatenate(col.idx), np.concatenate(col.meter)
    ts_us, value = np.concatenate(col.ts), np.concatenate(col.value)
    order = np.lexsort((idx, ts_us, meter_id))
    idx, meter_id, ts_us, value = idx[order], meter_id[order], ts_us[order], value[order]
    repeat = np.zeros(len(idx), bool)
    repeat[1:] = (meter_id[1:] == meter_id[:-1]) & (ts_us[1:] == ts_us[:-1])
    if repeat.any():
        by_id = {m.id: m for m in meters.values()}
        first = np.maximum.accumulate(np.where(~repeat, np.arange(len(idx)), 0))
        for j in np.flatnonzero(repeat):
            if same_value(value[first[j]], value[j]):
                out.duplicates += 1
            else:
                out.rejected.append(
                    {
                        "index": int(idx[j]),
                        "error": (
                            f"value: conflicts with another reading of meter "
                            f"{by_id[int(meter_id[j])].code!r} at the same ts in this request"
                        ),
                    }
                )
        keep = ~repeat
        idx, meter_id, ts_us, value = idx[keep], meter_id[keep], ts_us[keep], value[keep]
    steps_ok = _counter_steps(idx, meter_id, value, meters, out)
    if steps_ok is not None:
        idx, meter_id = idx[steps_ok], meter_id[steps_ok]
        ts_us, value = ts_us[steps_ok], value[steps_ok]
    out.idx, out.meter_id, out.ts_us, out.value = idx, meter_id, ts_us, value
    out.rejected.sort(key=lambda r: r["index"])
    present = set(np.unique(meter_id).tolist())
    out.meters = {m.id: m for m in meters.values() if m.id in present}


def _counter_steps(
    idx: np.ndarray,
    meter_id: np.ndarray,
    value: np.ndarray,
    meters: Mapping[str, MeterInfo],
    out: ValidBatch,
) -> np.ndarray | None:
    """Counters with ``max_counter_step``: a register increase larger than the limit between
    consecutive readings of the request is rejected (rows sorted by meter and ts)."""
    limited = {m.id: m for m in meters.values() if m.kind == "counter" and m.max_counter_step}
    if not limited or not np.isin(meter_id, list(limited)).any():
        return None
    keep = np.ones(len(idx), bool)
    for mid, m in limited.items():
        prev = None
        step = float(m.max_counter_step or 0.0)
        for j in np.flatnonzero(meter_id == mid):
            v = float(value[j])
            if prev is not None and v - prev > step:
                keep[j] = False
                out.rejected.append(
                    {
                        "index": int(idx[j]),
                        "error": f"value: register increase {v - prev:g} {m.canonical_unit} "
                        f"exceeds the largest plausible step of meter {m.code!r} "
                        f"({m.max_counter_step:g})",
                    }
                )
                continue
            prev = v
    return keep


def _canonical(raw: float | int, conv: tuple[float, float], meter: MeterInfo) -> float | str:
    """``raw × factor + offset`` in canonical units, or the rejection naming the field."""
    try:
        value = raw * conv[0] + conv[1]
    except OverflowError:
        value = math.inf
    limit = meter.value_limit()
    if not abs(value) <= limit:  # also catches NaN and ±inf
        if meter.max_value is not None and math.isfinite(value):
            return (
                f"value: {value:g} {meter.canonical_unit} exceeds the largest plausible "
                f"value of meter {meter.code!r} ({meter.max_value:g} {meter.canonical_unit})"
            )
        return (
            f"value: {raw!r} is {value!r} {meter.canonical_unit} after unit conversion and "
            f"multiplier; stored values must be finite and within ±{limits.MAX_ABS_VALUE:g}"
        )
    if (
        meter.kind == "delta"
        and meter.max_interval_quantity is not None
        and value > meter.max_interval_quantity
    ):
        return (
            f"value: interval quantity {value:g} {meter.canonical_unit} exceeds the largest "
            f"plausible one of meter {meter.code!r} ({meter.max_interval_quantity:g})"
        )
    return value


def _conversion(meter: MeterInfo, unit: object) -> tuple[float, float] | str:
    if unit is not None and not isinstance(unit, str):
        return f"unit: must be a string, got {unit!r}"
    try:
        return meter.factor_offset(unit)
    except Invalid as exc:
        return f"unit: {exc.reason} (meter {meter.code!r} reports {meter.unit})"


def same_value(a: float, b: float) -> bool:
    """Equal up to floating-point noise from unit conversion."""
    return bool(a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b)))
