"""Notifications as outbox rows written in the transaction of the transitions they announce,
with flood protection (token buckets per rule and in total, shared by every process).

Every transition goes to MQTT; annunciations (an alarm shown to operators, or its return to
normal) also go to the webhooks. Annunciations by the evaluator pass the flood gates: a rule
may send ``rule_burst`` per ``rule_window_s``, all rules together ``global_per_min`` per
minute, the most urgent first. What a gate holds back is stored as ``suppressed`` and counted
on the bucket; :func:`flood_summaries` later reports the count in one summary message.
Operator actions and system overrides are never held back.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Protocol

import orjson
from sqlalchemy import Connection, text

from alarms.config import AlarmConfig
from alarms.lifecycle import Action, Transition


class _Alarm(Protocol):
    @property
    def id(self) -> int: ...


class Event(Protocol):
    """What the outbox reads of a recorded transition (``alarms.store`` records them)."""

    @property
    def row(self) -> _Alarm: ...  # read-only: any row type with an ``id``

    seq: int
    transition: Transition
    user: str
    comment: str | None
    value: float | None
    reading_ts: datetime | None


PRIORITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
WEBHOOK_ACTIONS = {
    Action.ACTIVATE,
    Action.CLEAR,
    Action.UNSHELVE,
    Action.SHELVE_EXPIRED,
    Action.RETURN_TO_SERVICE,
    Action.UNSUPPRESS,
}
FLOOD_GATED = {Action.ACTIVATE, Action.CLEAR}

_INFO = """
SELECT a.id, a.condition, r.id, r.name, r.type, r.priority, r.message, r.unit,
       coalesce(r.high, CASE r.type WHEN 'demand' THEN s.contracted_demand_kw END), r.low,
       r.high_high, r.low_low, r.webhook_url, m.code, s.code
FROM alarm a JOIN alarm_rule r ON r.id = a.rule_id
LEFT JOIN meter m ON m.id = r.meter_id
LEFT JOIN site s ON s.id = coalesce(r.site_id, m.site_id)
WHERE a.id = ANY(:ids)
"""


def _topic_part(code: str | None) -> str:
    return "-" if not code else "".join("_" if c in "+#/" else c for c in code)


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else ts.isoformat()


def _payload(eid: int, e: Event, info: tuple) -> dict:
    _, cond, rid, name, rtype, priority, message, unit, *limits, _hook, meter, site = info
    limit = dict(zip(("high", "low", "high_high", "low_low"), limits, strict=True)).get(cond)
    t = e.transition
    return {
        "event_id": eid,
        "alarm_id": e.row.id,
        "seq": e.seq,
        "action": t.action.value,
        "from_state": t.from_state.value,
        "state": t.to_state.value,
        "annunciated": t.annunciated,
        "user": e.user,
        "comment": e.comment,
        "value": e.value,
        "reading_ts": _iso(e.reading_ts),
        "condition": cond,
        "limit": limit,
        "unit": unit,
        "rule": rid,
        "rule_name": name,
        "type": rtype,
        "priority": priority,
        "message": message,
        "meter": meter,
        "site": site,
    }


def _admit(
    conn: Connection, gated: list[tuple[int, int, int]], now: datetime, config: AlarmConfig
) -> set[int]:
    """Positions admitted by the token buckets; ``gated`` holds (position, rule, rank)."""
    if not gated:
        return set()
    rule_cap = float(config.rule_burst)
    global_cap = float(config.global_per_min)
    caps = {"global": (global_cap, global_cap / 60.0)}
    for _, rid, _ in gated:
        caps[f"rule:{rid}"] = (rule_cap, rule_cap / config.rule_window_s)
    scopes = sorted(caps)
    conn.execute(
        text(
            "INSERT INTO alarm_rate (scope, tokens, updated_at) SELECT s, c, :now "
            "FROM unnest(CAST(:s AS text[]), CAST(:c AS float8[])) AS u(s, c) "
            "ON CONFLICT (scope) DO NOTHING"
        ),
        {"now": now, "s": scopes, "c": [caps[s][0] for s in scopes]},
    )
    rows = conn.execute(
        text(
            "SELECT scope, tokens, greatest(extract(epoch FROM (:now - updated_at)), 0) "
            "FROM alarm_rate WHERE scope = ANY(:s) ORDER BY scope FOR UPDATE"
        ),
        {"now": now, "s": scopes},
    ).all()
    tokens = {s: min(caps[s][0], t + float(el) * caps[s][1]) for s, t, el in rows}
    held: dict[str, int] = defaultdict(int)
    passed = []
    for pos, rid, rank in gated:
        scope = f"rule:{rid}"
        if tokens[scope] >= 1.0:
            tokens[scope] -= 1.0
            passed.append((rank, pos))
        else:
            held[scope] += 1
    admitted = set()
    for _, pos in sorted(passed):
        if tokens["global"] >= 1.0:
            tokens["global"] -= 1.0
            admitted.add(pos)
        else:
            held["global"] += 1
    conn.execute(
        text("""
        UPDATE alarm_rate r SET tokens = u.t, updated_at = greatest(r.updated_at, :now),
          suppressed = r.suppressed + u.h,
          suppressed_since = CASE WHEN u.h > 0 THEN coalesce(r.suppressed_since, :now)
                                  ELSE r.suppressed_since END
        FROM unnest(CAST(:s AS text[]), CAST(:t AS float8[]), CAST(:h AS int[])) AS u(s, t, h)
        WHERE r.scope = u.s"""),
        {
            "now": now,
            "s": scopes,
            "t": [tokens[s] for s in scopes],
            "h": [held.get(s, 0) for s in scopes],
        },
    )
    return admitted


def enqueue(
    conn: Connection, events: list[tuple[int, Event]], now: datetime, config: AlarmConfig
) -> list[int]:
    """Outbox rows for recorded events; returns the ids of those to deliver."""
    infos = {
        row[0]: row
        for row in conn.execute(text(_INFO), {"ids": list({e.row.id for _, e in events})}).all()
    }
    gated = [
        (i, infos[e.row.id][2], PRIORITY_RANK.get(infos[e.row.id][5], 9))
        for i, (_, e) in enumerate(events)
        if e.transition.annunciated and e.transition.action in FLOOD_GATED
    ]
    admitted = _admit(conn, gated, now, config)
    gated_pos = {g[0] for g in gated}
    out: dict[str, list] = defaultdict(list)
    for i, (eid, e) in enumerate(events):
        info = infos[e.row.id]
        payload = _payload(eid, e, info)
        status = "suppressed" if i in gated_pos and i not in admitted else "pending"
        targets = [
            ("mqtt", f"{config.topic}/{_topic_part(info[14])}/{_topic_part(info[13])}/{e.row.id}")
        ]
        if e.transition.annunciated and e.transition.action in WEBHOOK_ACTIONS:
            hooks = [*config.webhook_urls, *([info[12]] if info[12] else [])]
            targets += [("webhook", url) for url in dict.fromkeys(hooks)]
        for channel, target in targets:
            out["event_id"].append(eid)
            out["rule_id"].append(info[2])
            out["channel"].append(channel)
            out["target"].append(target)
            out["payload"].append(payload)
            out["status"].append(status)
    return _insert(conn, out)


def _insert(conn: Connection, cols: dict[str, list]) -> list[int]:
    """Insert the outbox rows (columns of equal length) in one statement. The rows travel as
    one JSON document: JSON payloads in a text[] parameter cost a regex pass per quote."""
    if not cols:
        return []
    names = list(cols)
    doc = orjson.dumps(
        [dict(zip(names, values, strict=True)) for values in zip(*cols.values(), strict=True)]
    ).decode()
    rows = conn.execute(
        text("""
        INSERT INTO alarm_notification (event_id, rule_id, channel, target, payload, status)
        SELECT u.event_id, u.rule_id, u.channel, u.target, u.payload, u.status
        FROM jsonb_to_recordset(CAST(:rows AS jsonb))
             AS u(event_id bigint, rule_id int, channel text, target text, payload jsonb,
                  status text)
        RETURNING id, status"""),
        {"rows": doc},
    ).all()
    return [nid for nid, status in rows if status == "pending"]


def flood_summaries(conn: Connection, now: datetime, config: AlarmConfig) -> list[int]:
    """One summary message per flood scope that has held notifications back for at least
    ``summary_interval_s``; the counts restart. Scopes locked elsewhere are skipped."""
    rows = conn.execute(
        text("""
        SELECT scope, suppressed, suppressed_since FROM alarm_rate
        WHERE suppressed > 0 AND suppressed_since <= :now - make_interval(secs => :after)
        ORDER BY scope FOR UPDATE SKIP LOCKED"""),
        {"now": now, "after": config.summary_interval_s},
    ).all()
    if not rows:
        return []
    cols: dict[str, list] = defaultdict(list)
    for scope, count, since in rows:
        rule = int(scope.split(":")[1]) if scope.startswith("rule:") else None
        payload = {
            "action": "flood_summary",
            "scope": scope,
            "rule": rule,
            "suppressed": count,
            "since": since.isoformat(),
            "until": now.isoformat(),
            "message": f"{count} alarm notification(s) held back by flood protection "
            f"({scope}) since {since.isoformat()}",
        }
        for channel, target in [
            ("mqtt", f"{config.topic}/summary"),
            *[("webhook", u) for u in config.webhook_urls],
        ]:
            cols["event_id"].append(None)
            cols["rule_id"].append(rule)
            cols["channel"].append(channel)
            cols["target"].append(target)
            cols["payload"].append(payload)
            cols["status"].append("pending")
    conn.execute(
        text("UPDATE alarm_rate SET suppressed = 0, suppressed_since = NULL WHERE scope = ANY(:s)"),
        {"s": [r[0] for r in rows]},
    )
    return _insert(conn, cols)
