"""Decimal figures (money, metered quantities) as JSON numbers: the domain keeps ``Decimal``
end to end; the answer writes each one as the shortest number that reads back to it (every
figure here has at most 15 significant digits, so the float of a Decimal prints exactly)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def as_numbers(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    if isinstance(obj, dict):
        return {k: as_numbers(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [as_numbers(v) for v in obj]
    return obj
