"""The rule every derivation (carbon, cost, footprints) is hashed by: canonical JSON and its
sha256. Ground floor, because several rooms on one floor address their figures the same way."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


def _default(o: Any) -> Any:
    if isinstance(o, datetime):  # one spelling per instant: UTC
        return o.astimezone(UTC).isoformat() if o.tzinfo else o.isoformat()
    if isinstance(o, date):
        return o.isoformat()
    if isinstance(o, Decimal):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def canonical_json(obj: Any) -> str:
    """Sorted keys, no spaces, UTF-8, timestamps as ISO 8601 in UTC, decimals as strings: the
    bytes hashed."""
    return json.dumps(
        obj,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=_default,
        allow_nan=False,
    )


def content_hash(inputs: dict, formulas: dict) -> str:
    """sha256 over ``{"formulas": …, "inputs": …}`` in canonical JSON."""
    blob = canonical_json({"formulas": formulas, "inputs": inputs})
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
