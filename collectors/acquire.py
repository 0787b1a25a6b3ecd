"""What every protocol adapter hands back: one result per point, a value or a counted error."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from collectors.config import Point


@dataclass(frozen=True)
class Result:
    point: Point
    ts: float  # unix seconds: when acquired, or the device's own time where it carries one
    value: float | None = None
    error: str | None = None  # timeout | exception | bad_value
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    def row(self) -> tuple[str, str, float, str | None]:
        """The queued reading: ``(meter, RFC 3339 UTC ts, value, unit)``."""
        assert self.value is not None
        return (self.point.meter, iso_utc(self.ts), self.value, self.point.unit)


def iso_utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds")


def scaled(point: Point, raw: object, ts: float) -> Result:
    """Apply the point's scale and offset; anything not a finite number is a bad value."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return Result(point, ts, error="bad_value", detail=f"not a number: {raw!r}")
    value = float(raw) * point.scale + point.offset
    if not math.isfinite(value):
        return Result(point, ts, error="bad_value", detail=f"not finite: {raw!r}")
    return Result(point, ts, value=value)


def failed(
    points: tuple[Point, ...] | list[Point], ts: float, kind: str, detail: str
) -> list[Result]:
    return [Result(p, ts, error=kind, detail=detail) for p in points]
