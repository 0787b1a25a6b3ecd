"""Parsers and validation: property tests (hypothesis) and exact cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import limits
from core.errors import Invalid
from ingest.parsers import parse_body
from ingest.validate import _stamps_us, ts_to_us, validate
from metering.registry import MeterInfo

METERS = {
    "E": MeterInfo(1, "E", "delta", "kWh", "kWh", 1.0),
    "C": MeterInfo(2, "C", "counter", "MWh", "kWh", 40.0),
    "G": MeterInfo(3, "G", "gauge", "kW", "kW", 1.0),
}
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def lookup(codes):  # noqa: ANN001, ANN201
    return {c: METERS[c] for c in codes if c in METERS}


offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
stamps = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2026, 5, 1), timezones=offsets
)
readings = st.lists(
    st.fixed_dictionaries(
        {
            "meter": st.sampled_from(["E", "C", "G"]),
            "ts": stamps,
            "value": st.floats(0, 1e9, allow_nan=False),
        }
    ),
    max_size=40,
)


def _expected(rows: list[dict]) -> tuple[dict[tuple[int, int], float], list[int], int]:
    """First reading per (meter, ts) kept; repeats are duplicates or (other value) conflicts."""
    out: dict[tuple[int, int], float] = {}
    conflicts, duplicates = [], 0
    for i, r in enumerate(rows):
        m = METERS[r["meter"]]
        key = (m.id, ts_to_us(r["ts"]))
        factor = 1000.0 * m.multiplier if m.unit == "MWh" else m.multiplier
        value = r["value"] * factor
        if key not in out:
            out[key] = value
        elif out[key] == value:
            duplicates += 1
        else:
            conflicts.append(i)
    return out, conflicts, duplicates


@given(readings)
@settings(max_examples=200, deadline=None)
def test_all_formats_give_the_same_batch(rows: list[dict]) -> None:
    """JSON rows, columnar JSON, NDJSON and CSV of the same readings validate identically."""
    as_json = [{"meter": r["meter"], "ts": r["ts"].isoformat(), "value": r["value"]} for r in rows]
    bodies = {
        "application/json": json.dumps({"readings": as_json}).encode(),
        "application/x-ndjson": "\n".join(json.dumps(r) for r in as_json).encode(),
        "text/csv": (
            "meter,ts,value\n"
            + "".join(f"{r['meter']},{r['ts']},{r['value']!r}\n" for r in as_json)
        ).encode(),
    }
    series = {
        "series": [{"meter": r["meter"], "ts": [r["ts"]], "value": [r["value"]]} for r in as_json]
    }
    bodies["columnar"] = json.dumps(series).encode()
    expected, conflicts, duplicates = _expected(rows)
    for media, body in bodies.items():
        ctype = "application/json" if media == "columnar" else media
        if media == "application/x-ndjson" and not rows:
            continue
        batch = validate(parse_body(ctype, body), lookup, now=NOW)
        got = dict(
            zip(
                zip(batch.meter_id.tolist(), batch.ts_us.tolist(), strict=True),
                batch.value.tolist(),
                strict=True,
            )
        )
        assert [r["index"] for r in batch.rejected] == conflicts, media
        assert all("conflicts with another reading" in r["error"] for r in batch.rejected)
        assert batch.duplicates == duplicates, media
        assert got == pytest.approx(expected, rel=1e-12), media


@given(st.lists(stamps, min_size=1, max_size=300))
@settings(max_examples=200, deadline=None)
def test_vectorised_timestamps_match_fromisoformat(values: list[datetime]) -> None:
    texts = [v.isoformat() for v in values]
    got = _stamps_us(texts)
    assert got is not None
    assert got.tolist() == [ts_to_us(datetime.fromisoformat(t)) for t in texts]


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=20, max_size=80))
@settings(max_examples=100, deadline=None)
def test_columnar_fast_path_rejects_like_the_item_path(values: list[float]) -> None:
    """A long series (numpy path) and the same items one by one give the same rejections."""
    ts = [(NOW - timedelta(minutes=len(values) - i)).isoformat() for i in range(len(values))]
    col = parse_body(
        "application/json",
        json.dumps(
            {"series": [{"meter": "E", "ts": ts, "value": values}]}, allow_nan=True
        ).encode(),
    )
    rows = parse_body(
        "application/json",
        json.dumps(
            {
                "readings": [
                    {"meter": "E", "ts": t, "value": v} for t, v in zip(ts, values, strict=True)
                ]
            },
            allow_nan=True,
        ).encode(),
    )
    a, b = validate(col, lookup, now=NOW), validate(rows, lookup, now=NOW)
    assert a.rejected == b.rejected
    assert a.idx.tolist() == b.idx.tolist()
    np.testing.assert_array_equal(a.value, b.value)
    assert len(a.rejected) == sum(
        1 for v in values if not np.isfinite(v) or v < 0 or abs(v) > limits.MAX_ABS_VALUE
    )


def test_bool_and_string_values_are_rejected_in_columnar_form() -> None:
    ts = [(NOW - timedelta(minutes=i + 1)).isoformat() for i in range(20)]
    values: list = [1.0] * 20
    values[3], values[7] = True, "2"
    batch = validate(
        parse_body(
            "application/json",
            json.dumps({"series": [{"meter": "E", "ts": ts, "value": values}]}).encode(),
        ),
        lookup,
        now=NOW,
    )
    assert [r["index"] for r in batch.rejected] == [3, 7]
    assert batch.rejected[0]["error"] == "value: not a number: True"


def test_multiplier_and_unit_conversion() -> None:
    body = {
        "readings": [
            {"meter": "C", "ts": "2026-01-01T00:00:00+08:00", "value": 2.5},
            {"meter": "C", "ts": "2026-01-01T00:01:00+08:00", "value": 2500, "unit": "kWh"},
        ]
    }
    batch = validate(parse_body("application/json", json.dumps(body).encode()), lookup, now=NOW)
    assert batch.value.tolist() == [2.5 * 1000 * 40, 2500 * 40]


@pytest.mark.parametrize(
    ("ctype", "body", "field"),
    [
        ("application/json", b"[1, 2]", "body"),
        ("application/json", b'{"readings": 5}', "readings"),
        (
            "application/json",
            b'{"series": [{"meter": "E", "ts": ["x"], "value": []}]}',
            "series[0]",
        ),
        ("text/csv", b"meter,when,value\n", "header"),
        ("application/xml", b"<x/>", "content-type"),
    ],
)
def test_unreadable_bodies_name_the_field(ctype: str, body: bytes, field: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_body(ctype, body)
    assert err.value.field == field
