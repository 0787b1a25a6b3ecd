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

import orjson

from core.errors import Invalid

JSON_TYPES = {"application/json", "text/json"}
NDJSON_TYPES = {
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonlines",
    "application/jsonl",
}
CSV_TYPES = {"text/csv", "application/csv"}


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


def _loads(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:  # the standard library also reads NaN/Infinity, which we reject item by item
        return json.loads(body)
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
    if not isinstance(ts, list) or not isinstance(values, list):
        raise Invalid(f"series[{s_no}]", '"ts" and "value" must be lists')
    if len(ts) != len(values):
        raise Invalid(f"series[{s_no}]", f'"ts" has {len(ts)} items but "value" {len(values)}')
    n = len(ts)
    items.runs.append((len(items.meter), len(items.meter) + n))
    items.meter.extend([s.get("meter")] * n)
    items.unit.extend([s.get("unit")] * n)
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
    header = next(reader, None)
    if header is None:
        raise Invalid("body", "empty CSV")
    cols = [h.strip().lower() for h in header]
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
    """Dispatch on the media type (parameters such as charset are ignored)."""
    media = (content_type or "application/json").split(";")[0].strip().lower()
    if media in JSON_TYPES:
        return parse_json(body)
    if media in NDJSON_TYPES:
        return parse_ndjson(body)
    if media in CSV_TYPES:
        return parse_csv(body)
    raise Invalid("content-type", f"unsupported media type {media!r}; use JSON, NDJSON or CSV")
