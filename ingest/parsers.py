"""Body formats of ``POST /api/v1/readings``, all parsed into the same column lists.

- JSON rows: ``{"readings": [{"meter", "ts", "value", "unit"?}, ...]}``
- JSON columnar (high rates): ``{"series": [{"meter", "unit"?, "ts": [...], "value": [...]}]}``;
  item indexes count through the series in order.
- NDJSON: one reading object per line; the index is the line number (from 0).
- CSV: a header with ``meter,ts,value`` and optionally ``unit``; the index is the data row.

Parsing never stops at a bad item: items that cannot be read become per-index errors. Only a
body that cannot be read at all raises :class:`core.errors.Invalid` (field ``body``).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from core.errors import Invalid

JSON_TYPES = {"application/json", "text/json"}
NDJSON_TYPES = {
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonlines",
    "application/jsonl",
}
CSV_TYPES = {"text/csv", "application/csv"}
UTF8_CHARSETS = {"utf-8", "utf8", "us-ascii", "ascii"}


@dataclass
class RawItems:
    """Columns of raw items, index-aligned; ``errors`` holds items that could not be read."""

    meter: list[Any] = field(default_factory=list)
    ts: list[Any] = field(default_factory=list)
    value: list[Any] = field(default_factory=list)
    unit: list[Any] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)
    runs: list[tuple[int, int]] = field(default_factory=list)  # [lo, hi) of columnar series

    def __len__(self) -> int:
        return len(self.meter)

    def add_error(self, message: str) -> None:
        self.errors[len(self.meter)] = message
        self.meter.append(None)
        self.ts.append(None)
        self.value.append(None)
        self.unit.append(None)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return obj


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _loads(body: bytes) -> Any:
    """JSON with every key once. The standard library (not orjson) because it also reads
    NaN/Infinity and integers of any size, which validation rejects item by item naming the
    field, and it lets us refuse duplicate keys instead of silently keeping the last copy."""
    try:
        return json.loads(body, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise Invalid("body", f"duplicate key {exc.key!r} in one JSON object") from None
    except RecursionError:
        raise Invalid("body", "JSON nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid("body", f"not valid JSON: {exc}") from None


def _add_object(items: RawItems, obj: Any) -> None:
    if not isinstance(obj, dict):
        items.add_error(f"reading: expected an object, got {type(obj).__name__}")
        return
    items.meter.append(obj.get("meter"))
    items.ts.append(obj.get("ts"))
    items.value.append(obj.get("value", MISSING))
    items.unit.append(obj.get("unit"))


MISSING = object()


def parse_json(body: bytes) -> RawItems:
    doc = _loads(body)
    if not isinstance(doc, dict):
        raise Invalid("body", 'expected an object with "readings" or "series"')
    items = RawItems()
    if "readings" in doc and "series" in doc:
        raise Invalid("body", 'give either "readings" or "series", not both')
    if "readings" in doc:
        rows = doc["readings"]
        if not isinstance(rows, list):
            raise Invalid("readings", "must be a list")
        for obj in rows:
            _add_object(items, obj)
        return items
    if "series" in doc:
        series = doc["series"]
        if not isinstance(series, list):
            raise Invalid("series", "must be a list")
        for s_no, s in enumerate(series):
            _add_series(items, s, s_no)
        return items
    raise Invalid("body", 'expected an object with "readings" or "series"')


def _add_series(items: RawItems, s: Any, s_no: int) -> None:
    if not isinstance(s, dict):
        raise Invalid(f"series[{s_no}]", "must be an object with meter, ts and value")
    ts, values = s.get("ts"), s.get("value")
    meter, unit = s.get("meter"), s.get("unit")
    if not isinstance(meter, str):
        raise Invalid(f"series[{s_no}].meter", "must be a string")
    if unit is not None and not isinstance(unit, str):
        raise Invalid(f"series[{s_no}].unit", "must be a string")
    if not isinstance(ts, list) or not isinstance(values, list):
        raise Invalid(f"series[{s_no}]", '"ts" and "value" must be lists')
    if len(ts) != len(values):
        raise Invalid(f"series[{s_no}]", f'"ts" has {len(ts)} items but "value" {len(values)}')
    n = len(ts)
    items.runs.append((len(items.meter), len(items.meter) + n))
    items.meter.extend([meter] * n)
    items.unit.extend([unit] * n)
    items.ts.extend(ts)
    items.value.extend(values)


def parse_ndjson(body: bytes) -> RawItems:
    items = RawItems()
    for line_no, line in enumerate(body.splitlines()):
        if not line.strip():
            items.add_error("line: empty")
            continue
        try:
            obj = _loads(line)
        except Invalid as exc:
            items.add_error(f"line {line_no}: {exc.reason}")
            continue
        _add_object(items, obj)
    return items


def parse_csv(body: bytes) -> RawItems:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("body", f"CSV must be UTF-8: {exc}") from None
    reader = csv.reader(io.StringIO(text))
    try:
        return _read_csv(reader)
    except csv.Error as exc:  # e.g. a field longer than csv.field_size_limit()
        raise Invalid("body", f"CSV line {reader.line_num}: {exc}") from None


def _read_csv(reader: Any) -> RawItems:
    header = next(reader, None)
    if header is None:
        raise Invalid("body", "empty CSV")
    cols = [h.strip().lower() for h in header]
    repeated = sorted({c for c in cols if cols.count(c) > 1 and c})
    if repeated:
        raise Invalid("header", f"CSV header repeats {', '.join(repeated)}")
    missing = [c for c in ("meter", "ts", "value") if c not in cols]
    if missing:
        raise Invalid("header", f"CSV header lacks {', '.join(missing)}")
    i_m, i_t, i_v = cols.index("meter"), cols.index("ts"), cols.index("value")
    i_u = cols.index("unit") if "unit" in cols else None
    items = RawItems()
    width = len(cols)
    for row in reader:
        if len(row) != width:
            items.add_error(f"row: expected {width} fields, got {len(row)}")
            continue
        raw_value = row[i_v].strip()
        try:
            value: Any = float(raw_value)
        except ValueError:
            value = raw_value  # rejected by validation with the field named
        items.meter.append(row[i_m].strip())
        items.ts.append(row[i_t].strip())
        items.value.append(value)
        items.unit.append((row[i_u].strip() or None) if i_u is not None else None)
    return items


def parse_body(content_type: str | None, body: bytes) -> RawItems:
    """Dispatch on the media type; a charset other than UTF-8 is refused, never guessed."""
    media, *params = (content_type or "application/json").split(";")
    media = media.strip().lower()
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
            if charset not in UTF8_CHARSETS:
                raise Invalid("content-type", f"unsupported charset {charset!r}; send UTF-8")
    if media in JSON_TYPES:
        return parse_json(body)
    if media in NDJSON_TYPES:
        return parse_ndjson(body)
    if media in CSV_TYPES:
        return parse_csv(body)
    raise Invalid("content-type", f"unsupported media type {media!r}; use JSON, NDJSON or CSV")
