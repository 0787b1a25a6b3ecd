"""Hostile bodies: random bytes, nesting and numbers never escape the parsers as anything but
a 422 naming the field (``Invalid``) or per-item rejections; the columnar fast path and the
item path agree on every timestamp string."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core import limits
from core.errors import Invalid
from ingest.parsers import parse_body
from ingest.validate import validate
from metering.registry import MeterInfo

METERS = {
    "E": MeterInfo(1, "E", "delta", "kWh", "kWh", 1.0),
    "X": MeterInfo(2, "X", "delta", "kWh", "kWh", 1e9),
    "P": MeterInfo(3, "P", "delta", "kWh", "kWh", 1.0, max_interval_quantity=100.0),
    "G": MeterInfo(4, "G", "gauge", "kW", "kW", 1.0, max_value=50.0),
}
NOW = datetime(2026, 6, 1, tzinfo=UTC)
MEDIA = ["application/json", "application/x-ndjson", "text/csv"]


def lookup(codes):  # noqa: ANN001, ANN201
    return {c: METERS[c] for c in codes if c in METERS}


def _ingest(media: str, body: bytes):  # noqa: ANN202
    """Parse and validate; the only exception allowed is Invalid (→ 422)."""
    try:
        items = parse_body(media, body)
    except Invalid as exc:
        assert exc.field and exc.reason
        return None
    return validate(items, lookup, now=NOW)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(media=st.sampled_from(MEDIA), body=st.binary(max_size=400))
def test_random_bytes_never_escape(media: str, body: bytes) -> None:
    _ingest(media, body)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=20,
)
field_values = st.one_of(json_values, st.sampled_from(["E", "X", "P", "G", "", "\x00", "\ud800"]))


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.dictionaries(
            st.sampled_from(["meter", "ts", "value", "unit", "other"]), field_values, max_size=5
        ),
        max_size=20,
    ),
    columnar=st.booleans(),
)
def test_random_json_items_are_rejected_item_by_item(rows: list[dict], columnar: bool) -> None:
    if columnar:
        doc = {
            "series": [
                {
                    "meter": r.get("meter"),
                    "ts": [r.get("ts")] * 20,
                    "value": [r.get("value")] * 20,
                }
                for r in rows
            ]
        }
    else:
        doc = {"readings": rows}
    body = json.dumps(doc, allow_nan=True).encode("utf-8", "surrogatepass")
    batch = _ingest("application/json", body)
    if batch is not None:
        assert len(batch) + len(batch.rejected) + batch.duplicates == (
            20 * len(rows) if columnar else len(rows)
        )
        assert all(math.isfinite(v) and abs(v) <= limits.MAX_ABS_VALUE for v in batch.value)


@pytest.mark.parametrize("depth", [100, 1_100, 50_000])
@pytest.mark.parametrize("media", ["application/json", "application/x-ndjson"])
def test_deep_nesting_is_a_422_or_a_rejected_item(depth: int, media: str) -> None:
    body = b'{"readings":' + b"[" * depth + b"]" * depth + b"}"
    _ingest(media, body)


@settings(max_examples=200, deadline=None)
@given(
    value=st.one_of(
        st.integers(min_value=-(10**400), max_value=10**400),
        st.floats(allow_nan=True, allow_infinity=True),
    ),
    meter=st.sampled_from(sorted(METERS)),
    media=st.sampled_from(MEDIA),
)
def test_numbers_are_stored_finite_and_in_range(value: float, meter: str, media: str) -> None:
    ts = "2026-05-01T00:00:00+08:00"
    if media == "text/csv":
        body = f"meter,ts,value\n{meter},{ts},{value}\n".encode()
    else:
        row = json.dumps({"meter": meter, "ts": ts, "value": value}, allow_nan=True)
        body = (row if media.endswith("ndjson") else f'{{"readings": [{row}]}}').encode()
    batch = _ingest(media, body)
    assert batch is not None
    m = METERS[meter]
    for v in batch.value:
        assert math.isfinite(v) and abs(v) <= m.value_limit()
        if m.max_interval_quantity is not None:
            assert v <= m.max_interval_quantity
    for r in batch.rejected:
        assert r["error"].startswith("value: ")


def _same(a, b) -> None:  # noqa: ANN001
    assert a.rejected == b.rejected
    assert a.idx.tolist() == b.idx.tolist()
    assert a.ts_us.tolist() == b.ts_us.tolist()


stamp_text = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda d: d.isoformat(sep=" " if d.microsecond % 2 else "T")
    ),
    st.text(alphabet="0123456789-:+TtZz .,", max_size=32),
)
suffixes = st.sampled_from(
    ["Z", "z", "+08:00", "-08:00", "-08:00Z", "+24:00", "+05:60", "", "+0800"]
)


@settings(max_examples=400, deadline=None)
@given(local=stamp_text, suffix=suffixes, n=st.integers(16, 24))
def test_fast_and_item_paths_agree_on_every_timestamp(local: str, suffix: str, n: int) -> None:
    """Every series of one timestamp string: the numpy path and the item path (a short
    series, under the fast-path threshold, goes item by item) accept and reject alike."""
    stamp = local + suffix
    fast = parse_body(
        "application/json",
        json.dumps({"series": [{"meter": "E", "ts": [stamp] * n, "value": [1.0] * n}]}).encode(),
    )
    slow = parse_body(
        "application/json",
        json.dumps({"readings": [{"meter": "E", "ts": stamp, "value": 1.0}] * n}).encode(),
    )
    _same(validate(fast, lookup, now=NOW), validate(slow, lookup, now=NOW))


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(1899, 12, 30), max_value=datetime(2200, 1, 2)),
    step_s=st.integers(1, 86_400),
    offset_min=st.sampled_from([0, 480, -480, 345, -570]),
    z=st.booleans(),
)
def test_fast_path_ranges_match_item_path(
    start: datetime, step_s: int, offset_min: int, z: bool
) -> None:
    assume(start + timedelta(seconds=step_s * 20) < datetime(9000, 1, 1))
    sign = "+" if offset_min >= 0 else "-"
    sfx = "Z" if z else f"{sign}{abs(offset_min) // 60:02d}:{abs(offset_min) % 60:02d}"
    stamps = [(start + timedelta(seconds=step_s * i)).isoformat() + sfx for i in range(20)]
    fast = parse_body(
        "application/json",
        json.dumps({"series": [{"meter": "E", "ts": stamps, "value": [1.0] * 20}]}).encode(),
    )
    slow = parse_body(
        "application/json",
        json.dumps({"readings": [{"meter": "E", "ts": t, "value": 1.0} for t in stamps]}).encode(),
    )
    _same(validate(fast, lookup, now=NOW), validate(slow, lookup, now=NOW))


@pytest.mark.parametrize(
    ("media", "body", "field"),
    [
        ("application/json", b'{"readings": [], "series": []}', "body"),
        ("application/json", b'{"readings": [{"meter": "E", "meter": "X"}]}', "body"),
        ("application/x-ndjson", b'{"meter": "E", "value": 1, "value": 2}', None),
        ("text/csv", b"meter,ts,value,ts\nE,2026-01-01T00:00:00Z,1,x\n", "header"),
        ("text/csv; charset=latin-1", b"meter,ts,value\n", "content-type"),
        ("application/json; charset=utf-16", b"{}", "content-type"),
        ("text/csv", b"meter,ts,value\nE,2026-01-01T00:00:00Z," + b"9" * 200_000, "body"),
        ("application/json", b'{"series": [{"meter": ["E"], "ts": [], "value": []}]}', None),
    ],
)
def test_ambiguous_bodies_are_refused_never_half_read(
    media: str, body: bytes, field: str | None
) -> None:
    if field is None:  # rejected item by item
        batch = _ingest(media, body)
        assert batch is None or len(batch) == 0
        return
    with pytest.raises(Invalid) as exc:
        parse_body(media, body)
    assert exc.value.field == field


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ({"meter": ["E"], "ts": "2026-01-01T00:00:00Z", "value": 1}, "meter: must be a string"),
        ({"meter": {"a": 1}, "ts": "2026-01-01T00:00:00Z", "value": 1}, "meter: must be"),
        ({"meter": "E", "unit": ["kWh"], "ts": "2026-01-01T00:00:00Z", "value": 1}, "unit: "),
        ({"meter": "E\x00", "ts": "2026-01-01T00:00:00Z", "value": 1}, "meter: contains a NUL"),
        ({"meter": "\ud800", "ts": "2026-01-01T00:00:00Z", "value": 1}, "meter: is not valid"),
        ({"meter": "E", "ts": "0001-01-01T00:00:00+01:00", "value": 1}, "ts: "),
        ({"meter": "E", "ts": "", "value": 1}, "ts: "),
        ({"meter": "E", "ts": "2026-01-01T00:00:00Z", "value": 10**400}, "value: out of range"),
        ({"meter": "X", "ts": "2026-01-01T00:00:00Z", "value": 1e300}, "value: 1e+300 is inf"),
        ({"meter": "X", "ts": "2026-01-01T00:00:00Z", "value": 1e7}, "value: "),
        ({"meter": "P", "ts": "2026-01-01T00:00:00Z", "value": 101}, "value: interval quantity"),
        ({"meter": "G", "ts": "2026-01-01T00:00:00Z", "value": -51}, "value: -51"),
    ],
)
def test_each_bad_item_is_rejected_naming_the_field(row: dict, error: str) -> None:
    body = json.dumps({"readings": [row]}).encode("utf-8", "surrogatepass")
    batch = _ingest("application/json", body)
    assert batch is not None and len(batch) == 0
    assert batch.rejected[0]["error"].startswith(error), batch.rejected


def test_counter_step_limit_inside_one_request() -> None:
    meters = {"K": MeterInfo(9, "K", "counter", "kWh", "kWh", 1.0, max_counter_step=10.0)}
    rows = [
        {"meter": "K", "ts": f"2026-05-01T00:0{i}:00Z", "value": v}
        for i, v in enumerate([100.0, 105.0, 500.0, 112.0, 130.0])
    ]
    batch = validate(
        parse_body("application/json", json.dumps({"readings": rows}).encode()),
        lambda codes: {c: meters[c] for c in codes if c in meters},
        now=NOW,
    )
    assert batch.value.tolist() == [100.0, 105.0, 112.0]
    assert [r["index"] for r in batch.rejected] == [2, 4]
    assert "largest plausible step" in batch.rejected[0]["error"]
