"""Item-by-item validation of raw readings into canonical, insert-ready columns.

Every rejection names the field and the reason. Canonical value =
``value × multiplier × unit factor + unit offset`` (the multiplier is the meter's CT/PT ratio,
applied to what the meter registers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ecc import units
from ecc.errors import Invalid
from ingest.parsers import MISSING, RawItems


@dataclass(frozen=True)
class MeterInfo:
    """What validation and the writer need to know about a meter."""

    id: int
    code: str
    kind: str
    unit: str
    canonical_unit: str
    multiplier: float
    rollover: float | None = None

    def factor_offset(self, unit: str | None) -> tuple[float, float]:
        """``(factor, offset)`` from a reading in ``unit`` (meter unit if None) to canonical."""
        factor, offset = units.conversion(unit or self.unit, self.canonical_unit, "unit")
        return factor * self.multiplier, offset


@dataclass
class ValidBatch:
    """Insert-ready columns plus what was rejected or found duplicated within the request."""

    idx: list[int] = field(default_factory=list)
    meter_id: list[int] = field(default_factory=list)
    ts: list[datetime] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    duplicates: int = 0
    meters: dict[int, MeterInfo] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.idx)


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
    return ts


def validate(
    items: RawItems,
    lookup_meters: Callable[[Iterable[str]], Mapping[str, MeterInfo]],
    now: datetime | None = None,
    future_tolerance_s: int = 300,
) -> ValidBatch:
    """Validate raw items; ``lookup_meters`` maps codes to meters (unknown codes absent)."""
    now = now or datetime.now(UTC)
    horizon = now + timedelta(seconds=future_tolerance_s)
    codes = {m for m in set(items.meter) if isinstance(m, str)}
    meters = lookup_meters(codes)
    out = ValidBatch()
    reject = out.rejected.append
    conversions: dict[tuple[str, object], tuple[float, float] | str] = {}
    seen: dict[tuple[int, datetime], float] = {}
    errors = items.errors
    isfinite = math.isfinite

    for i, (code, raw_ts, raw_value, unit) in enumerate(
        zip(items.meter, items.ts, items.value, items.unit, strict=True)
    ):
        if i in errors:
            reject({"index": i, "error": errors[i]})
            continue
        meter = meters.get(code) if isinstance(code, str) else None
        if meter is None:
            reason = "missing" if code is None else f"unknown meter {code!r}"
            reject({"index": i, "error": f"meter: {reason}"})
            continue
        if type(raw_value) is not float and type(raw_value) is not int:
            shown = "missing" if raw_value is MISSING else f"not a number: {raw_value!r}"
            reject({"index": i, "error": f"value: {shown}"})
            continue
        if not isfinite(raw_value):
            reject({"index": i, "error": f"value: not finite ({raw_value})"})
            continue
        ts = _parse_ts(raw_ts)
        if isinstance(ts, str):
            reject({"index": i, "error": f"ts: {ts}"})
            continue
        if ts > horizon:
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
            reject({"index": i, "error": f"value: negative {what} ({raw_value}) on a "
                                         f"{meter.kind} meter"})
            continue
        value = raw_value * conv[0] + conv[1]
        key = (meter.id, ts)
        earlier = seen.get(key)
        if earlier is not None:
            if _same(earlier, value):
                out.duplicates += 1
            else:
                reject({"index": i, "error": f"value: conflicts with another reading of meter "
                                             f"{code!r} at {raw_ts} in this request"})
            continue
        seen[key] = value
        out.idx.append(i)
        out.meter_id.append(meter.id)
        out.ts.append(ts)
        out.value.append(value)
        out.meters[meter.id] = meter
    return out


def _conversion(meter: MeterInfo, unit: object) -> tuple[float, float] | str:
    if unit is not None and not isinstance(unit, str):
        return f"unit: must be a string, got {unit!r}"
    try:
        return meter.factor_offset(unit)
    except Invalid as exc:
        return f"unit: {exc.reason} (meter {meter.code!r} reports {meter.unit})"


def _same(a: float, b: float) -> bool:
    """Equal up to floating-point noise from unit conversion."""
    return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))

