"""The ISA-18.2 (IEC 62682) alarm state machine, as a pure function of (point, action).

A point is the debounced process condition (``condition_active``), whether its last
annunciation was acknowledged (``acked``) and three overrides: out of service, shelved (with an
expiry) and suppressed by design. The state shown to operators follows from them::

    overrides first:  out_of_service > shelved > suppressed
    otherwise:        active & unacked   → active_unacknowledged        (B)
                      active & acked     → active_acknowledged          (C)
                      normal & unacked   → returned_unacknowledged      (D)
                      normal & acked     → normal                       (A)

While an override holds, the condition is still tracked (and every change recorded) but
nothing is annunciated and nothing waits for acknowledgement (``acked`` is True). When the
last override ends, an active condition is annunciated afresh (B), otherwise the point is
normal (A). :func:`apply` returns the new point and one :class:`Transition` to record, None
when the action changes nothing (a repeated condition, an expiry that already happened), or
raises :class:`~core.errors.Conflict` for an operator action the state does not allow.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from core.errors import Conflict, Invalid
from models.alarms import AlarmState


class Action(StrEnum):
    ACTIVATE = "activate"  # condition became active (evaluator)
    CLEAR = "clear"  # condition returned to normal (evaluator)
    ACK = "ack"
    SHELVE = "shelve"
    UNSHELVE = "unshelve"
    SHELVE_EXPIRED = "shelve_expired"
    REMOVE_FROM_SERVICE = "remove_from_service"
    RETURN_TO_SERVICE = "return_to_service"
    SUPPRESS = "suppress"  # by design: the parent alarm became active
    UNSUPPRESS = "unsuppress"
    RESET = "reset"  # the rule changed or was deleted: condition forced to normal
    COMMENT = "comment"  # an operator's note in the history; the state does not change


OPERATOR_ACTIONS = {
    Action.ACK,
    Action.SHELVE,
    Action.UNSHELVE,
    Action.REMOVE_FROM_SERVICE,
    Action.RETURN_TO_SERVICE,
    Action.COMMENT,
}
ACTIVE_STATES = {AlarmState.ACTIVE_UNACKNOWLEDGED, AlarmState.ACTIVE_ACKNOWLEDGED}
UNACKED_STATES = {AlarmState.ACTIVE_UNACKNOWLEDGED, AlarmState.RETURNED_UNACKNOWLEDGED}


@dataclass(frozen=True)
class Point:
    condition_active: bool = False
    acked: bool = True
    shelved_until: datetime | None = None
    suppressed: bool = False
    out_of_service: bool = False

    @property
    def overridden(self) -> bool:
        return self.out_of_service or self.shelved_until is not None or self.suppressed

    @property
    def state(self) -> AlarmState:
        if self.out_of_service:
            return AlarmState.OUT_OF_SERVICE
        if self.shelved_until is not None:
            return AlarmState.SHELVED
        if self.suppressed:
            return AlarmState.SUPPRESSED
        if self.condition_active:
            return (
                AlarmState.ACTIVE_ACKNOWLEDGED if self.acked else AlarmState.ACTIVE_UNACKNOWLEDGED
            )
        return AlarmState.NORMAL if self.acked else AlarmState.RETURNED_UNACKNOWLEDGED

    def valid(self) -> bool:
        """The invariant every reachable point satisfies."""
        return not self.overridden or self.acked


@dataclass(frozen=True)
class Transition:
    action: Action
    from_state: AlarmState
    to_state: AlarmState
    annunciated: bool  # shown to operators and notified (False while overridden)


def _release(p: Point) -> Point:
    """After an override ends: an active condition is annunciated again, else normal."""
    if p.overridden:
        return p
    return replace(p, acked=not p.condition_active)


def apply(
    p: Point, action: Action, *, now: datetime, until: datetime | None = None
) -> tuple[Point, Transition | None]:
    """The point after ``action`` and the transition to record (None: nothing changed)."""
    before = p.state
    annunciated = not p.overridden
    match action:
        case Action.ACTIVATE:
            if p.condition_active:
                return p, None
            q = replace(p, condition_active=True, acked=p.overridden)
        case Action.CLEAR:
            if not p.condition_active:
                return p, None
            q = replace(p, condition_active=False)
        case Action.ACK:
            if p.overridden or p.acked:
                raise Conflict("state", f"nothing to acknowledge: the alarm is {before.value}")
            q = replace(p, acked=True)
        case Action.SHELVE:
            if p.out_of_service:
                raise Conflict("state", "an alarm out of service cannot be shelved")
            if until is None or until <= now:
                raise Invalid("until", "the shelving expiry must be in the future")
            q = replace(p, shelved_until=until, acked=True)
            annunciated = False
        case Action.UNSHELVE | Action.SHELVE_EXPIRED:
            if p.shelved_until is None:
                if action is Action.SHELVE_EXPIRED:
                    return p, None
                raise Conflict("state", f"the alarm is not shelved: it is {before.value}")
            if action is Action.SHELVE_EXPIRED and p.shelved_until > now:
                return p, None
            q = _release(replace(p, shelved_until=None))
            annunciated = q.state in UNACKED_STATES
        case Action.REMOVE_FROM_SERVICE:
            if p.out_of_service:
                raise Conflict("state", "the alarm is already out of service")
            q = replace(p, out_of_service=True, acked=True)
            annunciated = False
        case Action.RETURN_TO_SERVICE:
            if not p.out_of_service:
                raise Conflict("state", f"the alarm is in service: it is {before.value}")
            q = _release(replace(p, out_of_service=False))
            annunciated = q.state in UNACKED_STATES
        case Action.SUPPRESS:
            if p.suppressed:
                return p, None
            q = replace(p, suppressed=True, acked=True)
            annunciated = False
        case Action.UNSUPPRESS:
            if not p.suppressed:
                return p, None
            q = _release(replace(p, suppressed=False))
            annunciated = q.state in UNACKED_STATES
        case Action.RESET:
            if not p.condition_active and p.acked:
                return p, None
            q = replace(p, condition_active=False, acked=True)
            annunciated = False
        case Action.COMMENT:
            return p, Transition(action, before, before, False)
        case _:  # pragma: no cover - exhaustive over Action
            raise Invalid("action", f"unknown action {action!r}")
    return q, Transition(action, before, q.state, annunciated)
