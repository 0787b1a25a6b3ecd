"""Bulk history import from a wide or long CSV file (``ecc load-csv``).

Rows go through the same validation and writer as the HTTP API, in batches. The mapping says
which column feeds which meter: ``--map METER=COLUMN`` (wide files, one column per meter).
Timestamps without an offset take ``tz`` (e.g. ``+09:00`` or ``Asia/Shanghai``); ``ts_format``
is a ``strptime`` format for files that are not ISO 8601.

``fix_midnight``: some exports label the reading that ends a day (24:00) with the date of the
day that ends, at 00:00, so the clock jumps back one day at every midnight. When set, a 00:00
timestamp that is not later than the row before it is moved forward one day.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from core.errors import Invalid
from ingest.parsers import RawItems


@dataclass(frozen=True)
class CsvMapping:
    ts_col: str
    meters: dict[str, str]  # meter code -> column
    tz: str | None = None
    ts_format: str | None = None
    fix_midnight: bool = False
    delimiter: str = ","


def parse_tz(text: str) -> tzinfo:
    if text.upper() in ("Z", "UTC"):
        return UTC
    if text[:1] in "+-":
        try:
            hours, minutes = text[1:].split(":") if ":" in text else (text[1:3], text[3:5] or "0")
            delta = timedelta(hours=int(hours), minutes=int(minutes))
        except ValueError:
            raise Invalid("tz", f"not an offset like +09:00: {text!r}") from None
        return timezone(delta if text[0] == "+" else -delta)
    try:
        return ZoneInfo(text)
    except Exception:  # noqa: BLE001 - ZoneInfo raises several types for bad names
        raise Invalid("tz", f"unknown timezone {text!r}") from None


def _open(path: Path):  # noqa: ANN202
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def count_rows(path: Path) -> int:
    with _open(path) as fh:
        return max(sum(1 for _ in fh) - 1, 0)


def read_batches(path: Path, mapping: CsvMapping, batch_rows: int = 5000) -> Iterator[RawItems]:
    """Yield ``RawItems`` batches (one item per mapped cell) with rows in file order."""
    tz = parse_tz(mapping.tz) if mapping.tz else None
    with _open(path) as fh:
        reader = csv.DictReader(fh, delimiter=mapping.delimiter)
        header = reader.fieldnames or []
        missing = [c for c in [mapping.ts_col, *mapping.meters.values()] if c not in header]
        if missing:
            raise Invalid(
                "map",
                f"columns not in the file: {', '.join(missing)}; "
                f"the header has {', '.join(header)}",
            )
        items, previous = RawItems(), None
        for rows, row in enumerate(reader, start=1):
            ts_text = (row[mapping.ts_col] or "").strip()
            ts = _parse(ts_text, mapping.ts_format, tz)
            if isinstance(ts, datetime):
                if (
                    mapping.fix_midnight
                    and previous is not None
                    and ts <= previous
                    and (ts.hour, ts.minute, ts.second) == (0, 0, 0)
                ):
                    ts += timedelta(days=1)
                previous = ts
                ts_out: object = ts.isoformat()
            else:
                ts_out = ts_text
            for code, column in mapping.meters.items():
                raw = (row[column] or "").strip()
                try:
                    value: object = float(raw)
                except ValueError:
                    value = raw
                items.meter.append(code)
                items.ts.append(ts_out)
                items.value.append(value)
                items.unit.append(None)
            if rows % batch_rows == 0:
                yield items
                items = RawItems()
        if len(items):
            yield items


def _parse(text: str, fmt: str | None, tz: tzinfo | None) -> datetime | None:
    try:
        ts = datetime.strptime(text, fmt) if fmt else datetime.fromisoformat(text)
    except ValueError:
        return None
    if ts.tzinfo is None and tz is not None:
        ts = ts.replace(tzinfo=tz)
    return ts
