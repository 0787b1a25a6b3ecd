"""The SQLite store-and-forward buffer: order, acknowledgement, restart, limits, counters."""

from __future__ import annotations

from pathlib import Path

from collectors.buffer import Buffer


def _rows(n: int, start: int = 0) -> list[tuple]:
    return [
        ("M1", f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}+00:00", float(i), "kWh")
        for i in range(start, start + n)
    ]


def test_forwards_in_order_and_deletes_only_what_was_acknowledged(tmp_path: Path) -> None:
    buf = Buffer(tmp_path / "b.sqlite")
    buf.put(_rows(5), now=1000.0)
    buf.put(_rows(5, 5), now=1001.0)
    first = buf.peek(4)
    assert [q.value for q in first] == [0.0, 1.0, 2.0, 3.0]
    assert buf.peek(4) == first  # nothing is gone before the center acknowledges it
    buf.ack(first, duplicates=1, rejected={2: "value: not finite"})
    assert [q.value for q in buf.peek(100)] == [4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    c = buf.counters()
    assert (c["acquired"], c["forwarded"], c["duplicates"], c["rejected"], c["queued"]) == (
        10,
        3,
        1,
        1,
        6,
    )
    assert buf.rejected_items()[0]["reason"] == "value: not finite"
    buf.close()


def test_survives_a_restart(tmp_path: Path) -> None:
    buf = Buffer(tmp_path / "b.sqlite")
    buf.put(_rows(3), now=1000.0)
    sent = buf.peek(2)
    buf.close()  # the process dies between sending and acknowledging …
    again = Buffer(tmp_path / "b.sqlite")
    assert again.peek(2) == sent  # … so the batch is sent again (the center counts it once)
    assert again.counters()["acquired"] == 3
    again.put(_rows(1, 3), now=1001.0)
    assert [q.seq for q in again.peek(10)] == [1, 2, 3, 4]
    again.close()


def test_limits_drop_the_oldest_and_count_them(tmp_path: Path, caplog) -> None:  # noqa: ANN001
    buf = Buffer(tmp_path / "b.sqlite", max_rows=5, max_age_s=60.0)
    buf.put(_rows(4), now=1000.0)
    buf.put(_rows(3, 4), now=1010.0)  # 7 rows, limit 5: the two oldest go
    assert [q.value for q in buf.peek(10)] == [2.0, 3.0, 4.0, 5.0, 6.0]
    assert "buffer limit reached" in caplog.text
    buf.put(_rows(1, 7), now=1065.0)  # the rows acquired at t=1000 are now older than 60 s
    assert [q.value for q in buf.peek(10)] == [4.0, 5.0, 6.0, 7.0]
    assert buf.counters()["dropped"] == 4
    buf.close()
