"""KPIs of the alarm system itself (ISA-18.2 section 16, EEMUA 191), over a period.

* ``alarms_per_operator_per_10min``: annunciated activations per operator per 10 minutes,
  average and peak (EEMUA 191: ~1 is manageable, more than 10 is a flood);
* ``flood_periods_pct``: share of 10-minute periods with more than 10 per operator;
* ``standing_alarms``: active now; ``stale_alarms``: active for more than 24 hours;
* ``chattering_alarms``: activated 3 or more times within 60 s of reading time;
* ``top_10``: the most frequent alarms and their share of all activations;
* priority distribution of activations, alarms shelved / suppressed / out of service now, and
  what flood protection held back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from accounts import scope
from core.errors import Invalid, NotFound

FLOOD_PER_10MIN = 10
STALE_AFTER = timedelta(hours=24)
CHATTER_COUNT, CHATTER_WINDOW_S = 3, 60

# an alarm's site is its rule's, or its rule's meter's; ``:estate`` true counts every site
_IN_SITES = "(:estate OR coalesce(r.site_id, m.site_id) = ANY(CAST(:sites AS integer[])))"
_RULE = "JOIN alarm_rule r ON r.id = a.rule_id LEFT JOIN meter m ON m.id = r.meter_id"

_ACTIVATIONS = f"""
SELECT e.alarm_id, e.at, coalesce(e.reading_ts, e.at) AS t, r.priority
FROM alarm_event e JOIN alarm a ON a.id = e.alarm_id {_RULE}
WHERE e.action = 'activate' AND e.annunciated AND e.at > :start AND e.at <= :end
  AND {_IN_SITES}
"""

_CHATTER = f"""
WITH act AS ({_ACTIVATIONS}), w AS (
  SELECT alarm_id, count(*) OVER (PARTITION BY alarm_id ORDER BY t
         RANGE BETWEEN INTERVAL '{CHATTER_WINDOW_S} seconds' PRECEDING AND CURRENT ROW) AS n
  FROM act)
SELECT alarm_id, max(n) FROM w WHERE n >= {CHATTER_COUNT} GROUP BY alarm_id ORDER BY 2 DESC
"""

_DESCRIBE = """
SELECT a.id, a.rule_id, r.name, m.code, a.condition, a.state, a.activated_at
FROM alarm a JOIN alarm_rule r ON r.id = a.rule_id LEFT JOIN meter m ON m.id = r.meter_id
WHERE a.id = ANY(:ids)
"""


def _describe(session: Session, counts: list[tuple[int, int]], key: str) -> list[dict]:
    info = {r[0]: r for r in session.execute(text(_DESCRIBE), {"ids": [c[0] for c in counts]})}
    return [
        {
            "alarm": aid,
            "rule": info[aid][1],
            "rule_name": info[aid][2],
            "meter": info[aid][3],
            "condition": info[aid][4],
            key: n,
        }
        for aid, n in counts
        if aid in info
    ]


def sites_of(
    session: Session, site: str | None, within: frozenset[int] | None
) -> frozenset[int] | None:
    """The sites whose alarms count: ``site``'s subtree, or all of ``within`` (a credential's
    scope; ``None``: the whole estate) when no site is named. A site unknown or outside
    ``within`` is not found."""
    if site is None:
        return within
    root = scope.site_of_code(session, site)
    if root is None or (within is not None and root not in within):
        raise NotFound("site", f"no site {site!r}")
    return scope.subtree(session, root)


def alarm_metrics(
    session: Session,
    start: datetime | None,
    end: datetime | None,
    operators: int = 1,
    sites: frozenset[int] | None = None,
) -> dict:
    """The KPIs over (start, end] of the alarms of ``sites`` (``None``: every site)."""
    now = session.execute(text("SELECT now()")).scalar_one()
    end = end or now
    start = start or end - timedelta(hours=24)
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None:
            raise Invalid(name, "timestamp without UTC offset")
    if end <= start:
        raise Invalid("end", "must be after start")
    if operators < 1:
        raise Invalid("operators", "must be at least 1")
    period = {"start": start, "end": end}
    where = {"estate": sites is None, "sites": sorted(sites or ())}
    acts = session.execute(text(_ACTIVATIONS), {**period, **where}).all()
    periods = max(1, int((end - start).total_seconds() // 600))
    per_bucket: dict[int, int] = {}
    by_alarm: dict[int, int] = {}
    by_priority: dict[str, int] = {}
    for alarm_id, at, _, priority in acts:
        b = int((at - start).total_seconds() // 600)
        per_bucket[b] = per_bucket.get(b, 0) + 1
        by_alarm[alarm_id] = by_alarm.get(alarm_id, 0) + 1
        by_priority[priority] = by_priority.get(priority, 0) + 1
    total = len(acts)
    top = sorted(by_alarm.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    states: dict[str, int] = dict(
        session.execute(
            text(
                f"SELECT a.state, count(*) FROM alarm a {_RULE} "
                f"WHERE a.retired_at IS NULL AND r.deleted_at IS NULL AND {_IN_SITES} "
                "GROUP BY a.state"
            ),
            where,
        ).all()
    )
    stale = session.execute(
        text(
            f"SELECT a.id, extract(epoch FROM (:now - a.activated_at)) FROM alarm a {_RULE} "
            "WHERE a.retired_at IS NULL AND r.deleted_at IS NULL AND a.condition_active "
            "AND a.state IN ('active_unacknowledged', 'active_acknowledged') "
            f"AND a.activated_at < :cut AND {_IN_SITES} ORDER BY a.activated_at"
        ),
        {"now": now, "cut": now - STALE_AFTER, **where},
    ).all()
    chatter = session.execute(text(_CHATTER), {**period, **where}).all()
    held: dict[str, int] = dict(
        session.execute(
            text(
                "SELECT n.status, count(*) FROM alarm_notification n "
                "LEFT JOIN alarm_rule r ON r.id = n.rule_id LEFT JOIN meter m ON m.id = r.meter_id "
                f"WHERE n.created_at > :start AND n.created_at <= :end AND {_IN_SITES} "
                "GROUP BY n.status"
            ),
            {**period, **where},
        ).all()
    )
    flood = sum(1 for n in per_bucket.values() if n / operators > FLOOD_PER_10MIN)
    # who acted: since people sign in, each acknowledgement names its person
    people = session.execute(
        text(
            "SELECT count(DISTINCT e.user_name) FROM alarm_event e "
            f"JOIN alarm a ON a.id = e.alarm_id {_RULE} WHERE e.at > :start AND e.at <= :end "
            "AND e.action IN ('ack', 'shelve', 'unshelve', 'remove_from_service', "
            f"'return_to_service') AND {_IN_SITES}"
        ),
        {**period, **where},
    ).scalar_one()
    return {
        **period,
        "operators": operators,
        "people_acting": people,
        "activations": total,
        "alarms_per_operator_per_10min": round(total / periods / operators, 3),
        "peak_alarms_per_operator_per_10min": max(per_bucket.values(), default=0) / operators,
        "flood_periods_pct": round(100.0 * flood / periods, 2),
        "standing_alarms": states.get("active_unacknowledged", 0)
        + states.get("active_acknowledged", 0),
        "unacknowledged_alarms": states.get("active_unacknowledged", 0)
        + states.get("returned_unacknowledged", 0),
        "stale_alarms": len(stale),
        "stale": [{"alarm": aid, "active_s": float(age)} for aid, age in stale[:100]],
        "chattering_alarms": len(chatter),
        "chattering": _describe(session, [(a, int(n)) for a, n in chatter[:100]], "max_per_minute"),
        "top_10": [
            {**d, "share_pct": round(100.0 * d["activations"] / total, 2)}
            for d in _describe(session, top, "activations")
        ],
        "priority_distribution_pct": {
            p: round(100.0 * n / total, 2) for p, n in sorted(by_priority.items())
        },
        "shelved": states.get("shelved", 0),
        "suppressed": states.get("suppressed", 0),
        "out_of_service": states.get("out_of_service", 0),
        "notifications": {s: held.get(s, 0) for s in ("sent", "pending", "failed", "suppressed")},
    }
