"""The ISA-18.2 state machine and the condition evaluation, as properties (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alarms.conditions import DebounceState, debounce, limit_masks
from alarms.lifecycle import ACTIVE_STATES, OPERATOR_ACTIONS, Action, Point, apply
from alarms.schedule import in_windows, parse_windows
from core.errors import Conflict, Invalid
from models.alarms import AlarmState

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
S = 1_000_000

actions = st.sampled_from(list(Action))
steps = st.lists(st.tuples(actions, st.integers(0, 7200)), max_size=60)


def replay(seq: list[tuple[Action, int]]):  # noqa: ANN201
    """Apply actions at increasing times; returns the points and the recorded transitions."""
    p, now, points, transitions = Point(), T0, [Point()], []
    for action, dt in seq:
        now += timedelta(seconds=dt)
        until = now + timedelta(seconds=600) if action is Action.SHELVE else None
        try:
            q, t = apply(p, action, now=now, until=until)
        except (Conflict, Invalid):
            assert action in OPERATOR_ACTIONS  # only operators can be refused
            continue
        if t is not None:
            assert t.from_state is p.state and t.to_state is q.state
            transitions.append(t)
        else:
            assert q == p
        p = q
        points.append(p)
    return points, transitions


@settings(max_examples=400, deadline=None)
@given(steps)
def test_no_sequence_reaches_an_invalid_state(seq) -> None:  # noqa: ANN001
    points, transitions = replay(seq)
    assert all(p.valid() for p in points)
    # nothing lost: the transitions chain from normal to the final state
    state = AlarmState.NORMAL
    for t in transitions:
        assert t.from_state is state
        state = t.to_state
    assert state is points[-1].state


@settings(max_examples=300, deadline=None)
@given(steps)
def test_overrides_hide_and_release_annunciation(seq) -> None:  # noqa: ANN001
    points, transitions = replay(seq)
    for p in points:
        if p.overridden:
            assert p.acked and p.state in {
                AlarmState.SHELVED,
                AlarmState.SUPPRESSED,
                AlarmState.OUT_OF_SERVICE,
            }
        else:
            assert (
                p.state
                is {
                    (True, False): AlarmState.ACTIVE_UNACKNOWLEDGED,
                    (True, True): AlarmState.ACTIVE_ACKNOWLEDGED,
                    (False, False): AlarmState.RETURNED_UNACKNOWLEDGED,
                    (False, True): AlarmState.NORMAL,
                }[(p.condition_active, p.acked)]
            )
    for t in transitions:
        if t.action in (Action.SHELVE, Action.SUPPRESS, Action.REMOVE_FROM_SERVICE):
            assert not t.annunciated


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([Action.ACTIVATE, Action.CLEAR, Action.ACK]), max_size=40))
def test_repeated_conditions_record_nothing_more(seq) -> None:  # noqa: ANN001
    """A condition reported again (a re-sent reading) never records a second transition."""
    once, t1 = replay([(a, 1) for a in seq])
    twice, t2 = replay([(a, 1) for a in seq for _ in range(1 if a is Action.ACK else 2)])
    assert once[-1] == twice[-1]
    assert [(t.action, t.to_state) for t in t1] == [(t.action, t.to_state) for t in t2]


def test_the_isa_cycle() -> None:
    now = T0
    p, t = apply(Point(), Action.ACTIVATE, now=now)
    assert t.to_state is AlarmState.ACTIVE_UNACKNOWLEDGED and t.annunciated
    p, t = apply(p, Action.ACK, now=now)
    assert p.state is AlarmState.ACTIVE_ACKNOWLEDGED
    p, t = apply(p, Action.CLEAR, now=now)
    assert p.state is AlarmState.NORMAL
    p, _ = apply(p, Action.ACTIVATE, now=now)
    p, _ = apply(p, Action.CLEAR, now=now)
    assert p.state is AlarmState.RETURNED_UNACKNOWLEDGED
    with pytest.raises(Conflict):
        apply(Point(), Action.ACK, now=now)
    p, _ = apply(p, Action.SHELVE, now=now, until=now + timedelta(hours=1))
    assert p.state is AlarmState.SHELVED
    p, t = apply(p, Action.ACTIVATE, now=now)
    assert p.state is AlarmState.SHELVED and not t.annunciated
    assert apply(p, Action.SHELVE_EXPIRED, now=now)[1] is None  # not yet
    p, t = apply(p, Action.SHELVE_EXPIRED, now=now + timedelta(hours=1))
    assert p.state is AlarmState.ACTIVE_UNACKNOWLEDGED and t.annunciated
    with pytest.raises(Invalid):
        apply(p, Action.SHELVE, now=now, until=now - timedelta(seconds=1))
    p, _ = apply(p, Action.REMOVE_FROM_SERVICE, now=now)
    with pytest.raises(Conflict):
        apply(p, Action.SHELVE, now=now, until=now + timedelta(hours=1))
    p, _ = apply(p, Action.CLEAR, now=now)
    p, t = apply(p, Action.RETURN_TO_SERVICE, now=now)
    assert p.state is AlarmState.NORMAL and p.state not in ACTIVE_STATES


# --- conditions ---------------------------------------------------------------------------


def run(ts, x, limit=100.0, deadband=5.0, on_delay=0, off_delay=0, condition="high", state=None):  # noqa: ANN001, ANN201
    on, off = limit_masks(np.asarray(x, float), condition, limit, deadband)
    return debounce(
        np.asarray(ts, np.int64), on, off, state or DebounceState(), on_delay * S, off_delay * S
    )


def test_deadband_does_not_chatter_on_a_noisy_signal() -> None:
    """A signal wandering ±3 around its high limit of 100 with a deadband of 8: one alarm,
    not hundreds; without the deadband it chatters."""
    rng = np.random.default_rng(7)
    n = 2000
    ts = np.arange(n) * S
    x = 100 + rng.uniform(-3, 3, n)
    x[1500:] = 80.0  # and then it really falls back
    _, with_band = run(ts, x, deadband=8)
    assert [c.active for c in with_band] == [True, False]
    _, without = run(ts, x, deadband=0)
    assert len(without) > 100


def test_on_and_off_delay_in_reading_time() -> None:
    ts = np.arange(10) * 60 * S
    x = [120, 120, 120, 90, 120, 120, 120, 120, 50, 50]
    _, changes = run(ts, x, on_delay=120, off_delay=60)
    # on at minute 2 (held 120 s), short dip at 3 ignored, off at minute 9 (held 60 s)
    assert [(c.index, c.active) for c in changes] == [(2, True), (9, False)]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0, 200, allow_nan=False), min_size=1, max_size=80),
    st.lists(st.integers(1, 79), max_size=6),
    st.floats(0, 20),
    st.integers(0, 5),
    st.integers(0, 5),
    st.sampled_from(["high", "low"]),
)
def test_evaluating_in_pieces_equals_one_go(x, cuts, deadband, on_d, off_d, cond) -> None:  # noqa: ANN001, E501
    ts = np.arange(len(x)) * S
    whole_state, whole = run(ts, x, 100, deadband, on_d, off_d, cond)
    state, parts = DebounceState(), []
    bounds = sorted({0, len(x), *(c for c in cuts if c < len(x))})
    for a, b in zip(bounds, bounds[1:], strict=False):
        state, ch = run(ts[a:b], x[a:b], 100, deadband, on_d, off_d, cond, state)
        parts += [(c.index + a, c.active) for c in ch]
    assert parts == [(c.index, c.active) for c in whole]
    assert state == whole_state


# --- schedules ----------------------------------------------------------------------------


def test_idle_windows_wrap_midnight_and_weekends() -> None:
    windows = parse_windows(
        [
            {"days": [0, 1, 2, 3, 4], "start": "22:00", "end": "06:00"},
            {"days": [5, 6], "start": "00:00", "end": "00:00"},
        ],
        "idle",
    )
    local = [
        "2026-03-02T21:59",
        "2026-03-02T22:00",
        "2026-03-03T05:59",
        "2026-03-03T06:00",
        "2026-03-07T12:00",
        "2026-03-09T03:00",
        "2026-03-02T03:00",
    ]
    ts = np.array([int(datetime.fromisoformat(t + "+08:00").timestamp()) * S for t in local])
    assert in_windows(ts, "Asia/Shanghai", windows).tolist() == [
        False,
        True,
        True,
        False,
        True,
        False,
        False,
    ]  # Mon 03:00 follows Sunday, not Friday
    with pytest.raises(Invalid) as exc:
        parse_windows([{"days": [7], "start": "22:00", "end": "06:00"}], "idle_periods")
    assert exc.value.field == "idle_periods[0].days"
