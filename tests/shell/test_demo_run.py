"""The hand-over from the demo's backfill to its live stream adds no minute twice.

Worked by hand: the backfill ends at 06:00:00 (a minute mark). Its last delta reading must be
the one stamped 06:00:00, closing (05:59, 06:00]; the first live reading at 06:00:40 then
carries 40 s. Before the fix the backfill stopped at 05:59:00 and the first live reading
carried 100 s, all in the 1-minute bucket (06:00, 06:01]: about two minutes of energy there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shell.demo import history, plant
from shell.demo.run import HANDOVER, SEED, catch_up_rows

NOW = datetime(2025, 3, 4, 6, 0, tzinfo=UTC)  # a Tuesday, 14:00 in the plant's zone


def test_backfill_ends_on_its_end_and_live_carries_only_the_time_after() -> None:
    state = history.GeneratorState(seed=SEED)
    last: dict[str, float] = {}
    for chunk in history.generate(
        plant.METERS, NOW - timedelta(minutes=30), NOW + HANDOVER, step_s=60, seed=SEED, state=state
    ):
        last[chunk.meter] = float(chunk.value[-1])
        assert chunk.ts[-1] <= NOW.timestamp()
    assert state.last_ts == NOW.timestamp()  # the reading stamped at the end is written
    live = history.live_step(plant.METERS, state, NOW + timedelta(seconds=40))
    # a delta meter's first live quantity covers 40 s: two thirds of a minute like the last
    assert live["EL-WELD"] == pytest.approx(last["EL-WELD"] * 40 / 60, rel=0.25)
    assert live["EL-WELD"] < 0.9 * last["EL-WELD"]  # not a minute and more (the 2× bucket)


def test_the_minutes_of_a_pause_are_written_before_the_first_live_reading() -> None:
    """The API took 130 s to start after the backfill ended at 06:00: the readings of 06:01
    and 06:02 are generated first, so the live reading at 06:02:10 carries 10 s, not 130."""
    state = history.GeneratorState(seed=SEED)
    last: dict[str, float] = {}
    for chunk in history.generate(
        plant.METERS, NOW - timedelta(minutes=5), NOW + HANDOVER, step_s=60, seed=SEED, state=state
    ):
        last[chunk.meter] = float(chunk.value[-1])
    series = catch_up_rows(state, NOW + timedelta(seconds=130))
    weld = next(s for s in series if s["meter"] == "EL-WELD")
    assert weld["ts"] == [
        (NOW + timedelta(minutes=1)).isoformat(),
        (NOW + timedelta(minutes=2)).isoformat(),
    ]
    assert state.last_ts == (NOW + timedelta(minutes=2)).timestamp()
    live = history.live_step(plant.METERS, state, NOW + timedelta(seconds=130))
    assert live["EL-WELD"] == pytest.approx(weld["value"][-1] * 10 / 60, rel=0.3)
    assert catch_up_rows(state, NOW + timedelta(seconds=135)) == []  # within the minute


def test_a_pause_after_a_live_step_closes_that_minute_exactly() -> None:
    """Live readings until 06:00:40, then a 100 s stall: a reading at 06:01:00 carries the
    20 s (06:00:40, 06:01:00], one at 06:02:00 its whole minute, and the next live reading at
    06:02:20 the 20 s after it — nothing counted twice, no minute holding more than its own."""
    state = history.GeneratorState(seed=SEED)
    for _chunk in history.generate(
        plant.METERS, NOW - timedelta(minutes=5), NOW + HANDOVER, step_s=60, seed=SEED, state=state
    ):
        pass
    minute = history.live_step(plant.METERS, state, NOW + timedelta(seconds=40))["EL-WELD"] * 1.5
    assert catch_up_rows(state, NOW + timedelta(seconds=45)) == []  # no pause: nothing to do
    series = catch_up_rows(state, NOW + timedelta(seconds=140))
    weld = next(s for s in series if s["meter"] == "EL-WELD")
    assert weld["ts"] == [
        (NOW + timedelta(minutes=1)).isoformat(),
        (NOW + timedelta(minutes=2)).isoformat(),
    ]
    assert weld["value"][0] == pytest.approx(minute / 3, rel=0.3)  # 20 s of a minute
    assert weld["value"][1] == pytest.approx(minute, rel=0.3)  # a whole minute
    assert state.last_ts == (NOW + timedelta(minutes=2)).timestamp()
    live = history.live_step(plant.METERS, state, NOW + timedelta(seconds=140))["EL-WELD"]
    assert live == pytest.approx(minute / 3, rel=0.3)  # 20 s
