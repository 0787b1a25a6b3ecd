"""What the API asks of alarms: list, read, operator actions (acknowledge, shelve, unshelve,
out of service, return to service) and history. Plain functions over a session; each action
takes the alarm's row lock, goes through the state machine and records the transition."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from alarms import evaluate, store
from alarms.config import AlarmConfig
from alarms.lifecycle import ACTIVE_STATES, UNACKED_STATES, Action
from core import units
from core.errors import Invalid, NotFound
from models.alarms import AlarmState

FILTERS = {
    "active": [s.value for s in ACTIVE_STATES],
    "unacknowledged": [s.value for s in UNACKED_STATES],
    "shelved": [AlarmState.SHELVED.value],
    "suppressed": [AlarmState.SUPPRESSED.value],
    "out_of_service": [AlarmState.OUT_OF_SERVICE.value],
    "normal": [AlarmState.NORMAL.value],
    "all": [s.value for s in AlarmState],
}

_SELECT = """
SELECT a.id, a.rule_id, r.name, r.type, m.code AS meter, s.code AS site, a.condition,
       CASE a.condition WHEN 'high' THEN coalesce(r.high, CASE r.type WHEN 'demand'
                                 THEN s.contracted_demand_kw END) WHEN 'low' THEN r.low
            WHEN 'high_high' THEN r.high_high WHEN 'low_low' THEN r.low_low END AS limit_value,
       r.unit, m.canonical_unit, r.params, r.priority, r.message, a.state, a.condition_active,
       a.acked, a.shelved_until,
       a.suppressed, a.out_of_service, a.activation_count, a.activated_at, a.cleared_at,
       a.acked_at, a.acked_by, a.trigger_value, a.trigger_ts, a.last_value, a.updated_at, a.seq
FROM alarm a JOIN alarm_rule r ON r.id = a.rule_id
LEFT JOIN meter m ON m.id = r.meter_id
LEFT JOIN site s ON s.id = coalesce(r.site_id, m.site_id)
"""


def units_of(rtype: str, unit: str | None, canonical: str | None, params: dict | None) -> tuple:
    """(unit of the limits, unit of the values) of an alarm: the rule's ``unit`` or, when it
    has none, the unit of the quantity it compares (see :mod:`alarms.catalog`)."""
    if rtype == "stale":
        return "s", "s"
    if rtype == "budget":
        return "%", "%"
    quantity = canonical
    if rtype == "demand":
        quantity = "kW"
    elif rtype == "forecast_deviation":
        target = (params or {}).get("target", "energy")
        quantity = "kW" if target == "load" else canonical
    if unit is None:
        return quantity, quantity
    value_unit = quantity
    power = rtype == "idle" and canonical is not None and units.lookup(unit).dimension == "power"
    if power and units.lookup(str(canonical)).dimension != "power":
        value_unit = "kW"  # energy per interval compared as average power
    return unit, value_unit


def _out(row) -> dict:  # noqa: ANN001
    d = dict(row._mapping)
    limit_unit, value_unit = units_of(d["type"], d["unit"], d["canonical_unit"], d["params"])
    return {
        "id": d["id"],
        "rule": d["rule_id"],
        "rule_name": d["name"],
        "type": d["type"],
        "meter": d["meter"],
        "site": d["site"],
        "condition": d["condition"],
        "limit": d["limit_value"],
        "unit": limit_unit,
        "value_unit": value_unit,
        "priority": d["priority"],
        "message": d["message"],
        "state": d["state"],
        "condition_active": d["condition_active"],
        "acknowledged": d["acked"],
        "shelved_until": d["shelved_until"],
        "suppressed": d["suppressed"],
        "out_of_service": d["out_of_service"],
        "activation_count": d["activation_count"],
        "activated_at": d["activated_at"],
        "cleared_at": d["cleared_at"],
        "acked_at": d["acked_at"],
        "acked_by": d["acked_by"],
        "value": d["trigger_value"],
        "reading_ts": d["trigger_ts"],
        "last_value": d["last_value"],
        "updated_at": d["updated_at"],
        "seq": d["seq"],
    }


def expire(session: Session, config: AlarmConfig) -> list[int]:
    """Lazy shelving expiry before a read, so a list never shows an expired shelving."""
    return evaluate.expire_shelves(session.connection(), config)


def list_alarms(
    session: Session,
    state: str = "active",
    *,
    meter: str | None = None,
    site: str | None = None,
    rule: int | None = None,
    priority: str | None = None,
    since: datetime | None = None,
    limit: int = 1000,
) -> list[dict]:
    if state not in FILTERS:
        raise Invalid("state", f"must be one of {', '.join(FILTERS)}")
    if since is not None and since.tzinfo is None:
        raise Invalid("since", "timestamp without UTC offset")
    if not 1 <= limit <= 10_000:
        raise Invalid("limit", "must be 1 to 10000")
    where = ["a.retired_at IS NULL", "r.deleted_at IS NULL"]
    params: dict = {"limit": limit}
    if state != "all":
        where.append("a.state = ANY(:states)")
        params["states"] = FILTERS[state]
    for name, value, clause in (
        ("meter", meter, "m.code = :meter"),
        ("site", site, "s.code = :site"),
        ("rule", rule, "a.rule_id = :rule"),
        ("priority", priority, "r.priority = :priority"),
        ("since", since, "a.updated_at > :since"),
    ):
        if value is not None:
            where.append(clause)
            params[name] = value
    sql = (
        f"{_SELECT} WHERE {' AND '.join(where)} "
        "ORDER BY CASE r.priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 "
        "WHEN 'medium' THEN 2 ELSE 3 END, a.activated_at DESC NULLS LAST, a.id LIMIT :limit"
    )
    return [_out(r) for r in session.execute(text(sql), params)]


def get_alarm(session: Session, alarm_id: int) -> dict:
    row = session.execute(text(f"{_SELECT} WHERE a.id = :id"), {"id": alarm_id}).first()
    if row is None:
        raise NotFound("id", f"unknown alarm {alarm_id}")
    return _out(row)


def history(session: Session, alarm_id: int) -> list[dict]:
    get_alarm(session, alarm_id)
    rows = session.execute(
        text(
            "SELECT seq, at, action, from_state, to_state, user_name, comment, value, reading_ts, "
            "annunciated, detail FROM alarm_event WHERE alarm_id = :id ORDER BY seq"
        ),
        {"id": alarm_id},
    )
    return [
        {
            "seq": r.seq,
            "at": r.at,
            "action": r.action,
            "from_state": r.from_state,
            "to_state": r.to_state,
            "user": r.user_name,
            "comment": r.comment,
            "value": r.value,
            "reading_ts": r.reading_ts,
            "annunciated": r.annunciated,
            "detail": r.detail,
        }
        for r in rows
    ]


_EVENTS = """
SELECT e.alarm_id, e.seq, e.at, e.action, e.from_state, e.to_state, e.user_name, e.comment,
       e.value, e.reading_ts, a.rule_id, r.name, r.type, r.priority, r.message, a.condition,
       m.code AS meter, s.code AS site, r.unit, m.canonical_unit, r.params
FROM alarm_event e JOIN alarm a ON a.id = e.alarm_id JOIN alarm_rule r ON r.id = a.rule_id
LEFT JOIN meter m ON m.id = r.meter_id
LEFT JOIN site s ON s.id = coalesce(r.site_id, m.site_id)
WHERE e.at > :start AND e.at <= :end
ORDER BY e.at DESC, e.alarm_id, e.seq DESC LIMIT :limit
"""


def events(session: Session, start: datetime, end: datetime, limit: int = 1000) -> list[dict]:
    """Every recorded transition of every alarm in (start, end], newest first: the alarm
    history over a time range (the history of one alarm is :func:`history`)."""
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None:
            raise Invalid(name, "timestamp without UTC offset")
    if end <= start:
        raise Invalid("end", "must be after start")
    if end - start > timedelta(days=366):
        raise Invalid("start", "a range of at most 366 days")
    if not 1 <= limit <= 10_000:
        raise Invalid("limit", "must be 1 to 10000")
    rows = session.execute(text(_EVENTS), {"start": start, "end": end, "limit": limit})
    out = []
    for r in rows:
        _, value_unit = units_of(r.type, r.unit, r.canonical_unit, r.params)
        out.append(
            {
                "alarm": r.alarm_id,
                "seq": r.seq,
                "at": r.at,
                "action": r.action,
                "from_state": r.from_state,
                "to_state": r.to_state,
                "user": r.user_name,
                "comment": r.comment,
                "value": r.value,
                "value_unit": value_unit,
                "reading_ts": r.reading_ts,
                "rule": r.rule_id,
                "rule_name": r.name,
                "type": r.type,
                "priority": r.priority,
                "message": r.message,
                "condition": r.condition,
                "meter": r.meter,
                "site": r.site,
            }
        )
    return out


def act(
    session: Session,
    alarm_id: int,
    action: Action,
    user: str,
    config: AlarmConfig,
    *,
    comment: str | None = None,
    duration_s: float | None = None,
    until: datetime | None = None,
) -> tuple[dict, list[int]]:
    """An operator action on one alarm; returns the alarm and the outbox ids to deliver."""
    conn = session.connection()
    now = store.db_now(conn)
    if action is Action.SHELVE:
        until = _shelve_until(now, duration_s, until, config)
    rows = store.lock_points(conn, alarm_ids=[alarm_id])
    if alarm_id not in rows:
        raise NotFound("id", f"unknown alarm {alarm_id}")
    rec = store.Recorder(conn, now, config)
    rec.act(rows[alarm_id], action, user=user, comment=comment, until=until)
    ids = rec.flush()
    return get_alarm(session, alarm_id), ids


def _shelve_until(
    now: datetime, duration_s: float | None, until: datetime | None, config: AlarmConfig
) -> datetime:
    if (duration_s is None) == (until is None):
        raise Invalid("duration_s", "give exactly one of duration_s or until")
    if until is not None:
        if until.tzinfo is None:
            raise Invalid("until", "timestamp without UTC offset")
        if until <= now:
            raise Invalid("until", "must be in the future")
        duration_s = (until - now).total_seconds()
    assert duration_s is not None
    field = "until" if until is not None else "duration_s"
    if duration_s <= 0:
        raise Invalid(field, "must be positive")
    if duration_s > config.max_shelve_s:
        raise Invalid(field, f"shelving is limited to {config.max_shelve_s:g} s")
    return until or now + timedelta(seconds=duration_s)
