"""Alarms: lists, operator actions with an audit trail, history, and the alarm-system KPIs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from accounts import audit, scope
from alarms import metrics, service
from alarms.config import AlarmConfig
from alarms.lifecycle import Action
from api.deps import Configurer, DbSession, Reader, State, audit_context, visible

router = APIRouter(tags=["alarms"])


class AlarmOut(BaseModel):
    id: int
    rule: int
    rule_name: str
    type: str
    meter: str | None
    site: str | None
    condition: str
    limit: float | None
    unit: str | None = Field(description="Unit of the limit (the rule's, or its quantity's)")
    value_unit: str | None = Field(description="Unit of value and last_value")
    priority: str
    message: str
    state: str = Field(
        description="normal | active_unacknowledged | active_acknowledged | "
        "returned_unacknowledged | shelved | suppressed | "
        "out_of_service"
    )
    condition_active: bool
    acknowledged: bool
    shelved_until: datetime | None
    suppressed: bool
    out_of_service: bool
    activation_count: int
    activated_at: datetime | None
    cleared_at: datetime | None
    acked_at: datetime | None
    acked_by: str | None
    value: float | None = Field(description="Value that raised the alarm last")
    reading_ts: datetime | None = Field(description="Time of that reading")
    last_value: float | None
    updated_at: datetime
    seq: int


class EventOut(BaseModel):
    seq: int
    at: datetime
    action: str
    from_state: str
    to_state: str
    user: str
    comment: str | None
    value: float | None
    reading_ts: datetime | None
    annunciated: bool
    detail: dict | None


class Comment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str | None = Field(default=None, max_length=2000)


class Shelve(Comment):
    duration_s: float | None = Field(default=None, description="Shelve for this long, or …")
    until: datetime | None = Field(default=None, description="… until this time")


def after_commit(request: Request, outbox_ids: list[int]) -> None:
    """Wake this process's delivery threads for what the request just committed."""
    engine = getattr(request.app.state, "alarms", None)
    if outbox_ids and engine is not None:
        engine.kick()


def _config(state: State) -> AlarmConfig:
    return AlarmConfig.from_settings(state.settings)


@router.get("/alarms", response_model=list[AlarmOut])
def list_alarms(
    session: DbSession,
    state: State,
    who: Reader,
    request: Request,
    alarm_state: Annotated[str, Query(alias="state")] = "active",
    meter: str | None = None,
    site: str | None = None,
    rule: int | None = None,
    priority: str | None = None,
    since: datetime | None = None,
    limit: int = 1000,
) -> list[dict]:
    """``state``: active | unacknowledged | shelved | suppressed | out_of_service | normal |
    all. ``since``: only alarms changed after this time (incremental polling)."""
    after_commit(request, service.expire(session, _config(state)))
    session.commit()
    found = service.list_alarms(
        session,
        alarm_state,
        meter=meter,
        site=site,
        rule=rule,
        priority=priority,
        since=since,
        limit=limit,
    )
    return visible(who, session, found)


@router.get("/alarms/metrics")
def alarm_metrics(
    session: DbSession,
    who: Reader,
    start: datetime | None = None,
    end: datetime | None = None,
    operators: int = 1,
    site: str | None = None,
) -> dict:
    """KPIs of the alarm system over (start, end] (default: the last 24 hours), of the alarms
    of ``site``'s subtree or, without it, of every site the caller sees."""
    sites = metrics.sites_of(session, site, who.sites)
    return metrics.alarm_metrics(session, start, end, operators, sites)


class RangeEventOut(BaseModel):
    alarm: int
    seq: int
    at: datetime
    action: str
    from_state: str
    to_state: str
    user: str
    comment: str | None
    value: float | None
    value_unit: str | None
    reading_ts: datetime | None
    rule: int
    rule_name: str
    type: str
    priority: str
    message: str
    condition: str
    meter: str | None
    site: str | None


@router.get("/alarms/events", response_model=list[RangeEventOut])
def alarm_events(
    session: DbSession, who: Reader, start: datetime, end: datetime, limit: int = 1000
) -> list[dict]:
    """The alarm history over (start, end]: every transition of every alarm (state, person,
    time, comment), newest first."""
    return visible(who, session, service.events(session, start, end, limit))


@router.get("/alarms/{alarm_id}", response_model=AlarmOut)
def get_alarm(alarm_id: int, session: DbSession, _: Reader) -> dict:
    return service.get_alarm(session, alarm_id)


@router.get("/alarms/{alarm_id}/history", response_model=list[EventOut])
def alarm_history(alarm_id: int, session: DbSession, _: Reader) -> list[dict]:
    """Every transition, in order (``seq`` 1, 2, …), with time, user and comment."""
    return service.history(session, alarm_id)


def _act(
    request: Request,
    session: DbSession,
    state: State,
    alarm_id: int,
    action: Action,
    user: str,
    body: Comment,
) -> dict:
    extra = {"duration_s": body.duration_s, "until": body.until} if isinstance(body, Shelve) else {}
    before = service.get_alarm(session, alarm_id)
    alarm, outbox = service.act(
        session, alarm_id, action, user, _config(state), comment=body.comment, **extra
    )
    audit.record(
        session,
        audit_context(request),
        action.value,
        "alarm",
        str(alarm_id),
        before=before,
        after=alarm,
        site_id=scope.site_of_alarm(session, alarm_id),
    )
    session.commit()
    after_commit(request, outbox)
    return alarm


@router.post("/alarms/{alarm_id}/ack", response_model=AlarmOut)
def acknowledge(
    alarm_id: int,
    request: Request,
    session: DbSession,
    state: State,
    who: Configurer,
    body: Comment | None = None,
) -> dict:
    return _act(request, session, state, alarm_id, Action.ACK, who.name, body or Comment())


@router.post("/alarms/{alarm_id}/shelve", response_model=AlarmOut)
def shelve(
    alarm_id: int, body: Shelve, request: Request, session: DbSession, state: State, who: Configurer
) -> dict:
    """Shelve for ``duration_s`` or until ``until`` (at most ECC_ALARM_MAX_SHELVE_S)."""
    return _act(request, session, state, alarm_id, Action.SHELVE, who.name, body)


@router.post("/alarms/{alarm_id}/unshelve", response_model=AlarmOut)
def unshelve(
    alarm_id: int,
    request: Request,
    session: DbSession,
    state: State,
    who: Configurer,
    body: Comment | None = None,
) -> dict:
    return _act(request, session, state, alarm_id, Action.UNSHELVE, who.name, body or Comment())


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field(min_length=1, max_length=2000)


@router.post("/alarms/{alarm_id}/comment", response_model=AlarmOut)
def comment(
    alarm_id: int,
    body: CommentIn,
    request: Request,
    session: DbSession,
    state: State,
    who: Configurer,
) -> dict:
    """A note in the alarm's history (the state does not change)."""
    return _act(
        request, session, state, alarm_id, Action.COMMENT, who.name, Comment(comment=body.comment)
    )


@router.post("/alarms/{alarm_id}/out-of-service", response_model=AlarmOut)
def remove_from_service(
    alarm_id: int,
    request: Request,
    session: DbSession,
    state: State,
    who: Configurer,
    body: Comment | None = None,
) -> dict:
    return _act(
        request, session, state, alarm_id, Action.REMOVE_FROM_SERVICE, who.name, body or Comment()
    )


@router.post("/alarms/{alarm_id}/return-to-service", response_model=AlarmOut)
def return_to_service(
    alarm_id: int,
    request: Request,
    session: DbSession,
    state: State,
    who: Configurer,
    body: Comment | None = None,
) -> dict:
    return _act(
        request, session, state, alarm_id, Action.RETURN_TO_SERVICE, who.name, body or Comment()
    )
