"""Alarm points in the database: lock, change through the state machine, record.

Every change of an alarm happens in a transaction that holds the alarm's row lock
(``SELECT … FOR UPDATE``), so API workers, their evaluators and the scheduler serialise per
alarm. Locks are always taken in alarm-id order in one statement (a rule's points together
with those of the rules it suppresses), so they cannot deadlock. Each transition becomes an
``alarm_event`` numbered ``seq + 1``; the unique (alarm, seq) key would refuse a second writer
that had not taken the lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import Connection, text

from alarms import outbox
from alarms.conditions import DebounceState
from alarms.config import AlarmConfig
from alarms.lifecycle import Action, Point, Transition, apply

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def us_to_dt(us: int | None) -> datetime | None:
    return None if us is None else EPOCH + timedelta(microseconds=int(us))


def db_now(conn: Connection) -> datetime:
    """The transaction's time on the database server (one clock for every process)."""
    return conn.execute(text("SELECT now()")).scalar_one()


@dataclass
class PointRow:
    id: int
    rule_id: int
    condition: str
    point: Point
    seq: int
    activation_count: int
    retired: bool
    debounce: DebounceState
    last_value: float | None
    stamps: dict = field(default_factory=dict)  # lifecycle timestamps to write


_LOCK = """
SELECT a.id, a.rule_id, a.condition, a.condition_active, a.acked, a.shelved_until,
       a.suppressed, a.out_of_service, a.seq, a.activation_count, a.retired_at IS NOT NULL,
       (extract(epoch FROM a.eval_ts) * 1000000)::bigint, a.raw_active,
       (extract(epoch FROM a.raw_since) * 1000000)::bigint, a.last_value
FROM alarm a
WHERE {where}
ORDER BY a.id
FOR UPDATE OF a
"""


def lock_points(
    conn: Connection,
    *,
    rule_ids: list[int] | None = None,
    alarm_ids: list[int] | None = None,
    include_retired: bool = False,
    family: bool = False,
) -> dict[int, PointRow]:
    """Lock alarm points by rule or alarm id, in id order. ``family`` adds the points of the
    live rules suppressed by these rules (so one statement takes every lock needed)."""
    where = []
    params: dict = {}
    if rule_ids is not None:
        params["r"] = list(rule_ids)
        if family:
            where.append(
                "(a.rule_id = ANY(:r) OR a.rule_id IN (SELECT c.id FROM alarm_rule c "
                "WHERE c.parent_rule_id = ANY(:r) AND c.deleted_at IS NULL))"
            )
        else:
            where.append("a.rule_id = ANY(:r)")
    if alarm_ids is not None:
        where.append("a.id = ANY(:a)")
        params["a"] = list(alarm_ids)
    if not include_retired:
        where.append("a.retired_at IS NULL")
    rows = conn.execute(text(_LOCK.format(where=" AND ".join(where) or "true")), params).all()
    out = {}
    for (
        aid,
        rid,
        cond,
        active,
        acked,
        until,
        supp,
        oos,
        seq,
        count,
        retired,
        eval_us,
        raw,
        since_us,
        last,
    ) in rows:
        out[aid] = PointRow(
            aid,
            rid,
            cond,
            Point(active, acked, until, supp, oos),
            seq,
            count,
            retired,
            DebounceState(eval_us, raw, since_us, active),
            last,
        )
    return out


def rules_active(conn: Connection, rule_ids: list[int | None]) -> dict[int, bool]:
    """Whether each rule has an active condition on a live point (its committed state)."""
    ids = [r for r in rule_ids if r is not None]
    if not ids:
        return {}
    rows = conn.execute(
        text(
            "SELECT a.rule_id, bool_or(a.condition_active) FROM alarm a JOIN alarm_rule r "
            "ON r.id = a.rule_id WHERE a.rule_id = ANY(:r) AND a.retired_at IS NULL "
            "AND r.deleted_at IS NULL GROUP BY a.rule_id"
        ),
        {"r": ids},
    ).all()
    return {rid: bool(active) for rid, active in rows}


def child_rules(conn: Connection, parent_ids: list[int]) -> dict[int, int]:
    """Live rules suppressed by these: child id → parent id."""
    if not parent_ids:
        return {}
    rows = conn.execute(
        text(
            "SELECT id, parent_rule_id FROM alarm_rule WHERE "
            "parent_rule_id = ANY(:p) AND deleted_at IS NULL"
        ),
        {"p": list(parent_ids)},
    ).all()
    return dict(rows)


@dataclass
class _Event:
    row: PointRow
    seq: int
    transition: Transition
    user: str
    comment: str | None
    value: float | None
    reading_ts: datetime | None
    detail: dict | None


class Recorder:
    """Collects transitions of locked points; :meth:`flush` writes rows, history and outbox."""

    def __init__(self, conn: Connection, now: datetime, config: AlarmConfig) -> None:
        self.conn = conn
        self.now = now
        self.config = config
        self.events: list[_Event] = []
        self.dirty: dict[int, PointRow] = {}
        self.eval_dirty: dict[int, PointRow] = {}

    def act(
        self,
        row: PointRow,
        action: Action,
        *,
        user: str,
        comment: str | None = None,
        value: float | None = None,
        reading_us: int | None = None,
        until: datetime | None = None,
        detail: dict | None = None,
    ) -> Transition | None:
        new, t = apply(row.point, action, now=self.now, until=until)
        if t is None:
            return None
        row.point = new
        row.seq += 1
        reading_ts = us_to_dt(reading_us)
        if action is Action.ACTIVATE:
            row.activation_count += 1
            row.stamps.update(activated_at=self.now, trigger_value=value, trigger_ts=reading_ts)
        elif action in (Action.CLEAR, Action.RESET):
            row.stamps["cleared_at"] = self.now
        elif action is Action.ACK:
            row.stamps.update(acked_at=self.now, acked_by=user)
        if action is Action.RESET:
            row.debounce = DebounceState(eval_ts=row.debounce.eval_ts)
            self.eval_dirty[row.id] = row
        if until is not None:
            detail = {**(detail or {}), "shelved_until": until.isoformat()}
        self.events.append(_Event(row, row.seq, t, user, comment, value, reading_ts, detail))
        self.dirty[row.id] = row
        return t

    def retire(self, row: PointRow) -> None:
        row.retired = True
        self.dirty[row.id] = row

    def evaluated(self, row: PointRow, debounce: DebounceState, last_value: float | None) -> None:
        row.debounce = debounce
        row.last_value = last_value
        self.eval_dirty[row.id] = row

    def flush(self) -> list[int]:
        """Write everything; returns the ids of the outbox rows to deliver."""
        self._write_eval()
        self._write_points()
        if not self.events:
            return []
        events = self.events
        ids = self._write_events()
        return outbox.enqueue(self.conn, list(zip(ids, events, strict=True)), self.now, self.config)

    def _write_eval(self) -> None:
        rows = list(self.eval_dirty.values())
        if not rows:
            return
        self.conn.execute(
            text("""
            UPDATE alarm a SET
              eval_ts = CASE WHEN u.ev IS NULL THEN NULL
                             ELSE timestamptz 'epoch' + u.ev * interval '1 microsecond' END,
              raw_active = u.raw,
              raw_since = CASE WHEN u.since IS NULL THEN NULL
                               ELSE timestamptz 'epoch' + u.since * interval '1 microsecond' END,
              last_value = u.lv
            FROM unnest(CAST(:id AS int[]), CAST(:ev AS bigint[]), CAST(:raw AS bool[]),
                        CAST(:since AS bigint[]), CAST(:lv AS float8[]))
                 AS u(id, ev, raw, since, lv)
            WHERE a.id = u.id"""),
            {
                "id": [r.id for r in rows],
                "ev": [r.debounce.eval_ts for r in rows],
                "raw": [r.debounce.raw for r in rows],
                "since": [r.debounce.raw_since for r in rows],
                "lv": [r.last_value for r in rows],
            },
        )
        self.eval_dirty.clear()

    def _write_points(self) -> None:
        rows = list(self.dirty.values())
        if not rows:
            return

        def col(name: str) -> list:
            return [r.stamps.get(name) for r in rows]

        self.conn.execute(
            text("""
            UPDATE alarm a SET state = u.state, condition_active = u.active, acked = u.acked,
              shelved_until = u.until, suppressed = u.supp, out_of_service = u.oos,
              seq = u.seq, activation_count = u.cnt,
              activated_at = coalesce(u.act_at, a.activated_at),
              trigger_value = CASE WHEN u.act_at IS NULL THEN a.trigger_value ELSE u.tv END,
              trigger_ts = CASE WHEN u.act_at IS NULL THEN a.trigger_ts ELSE u.tts END,
              cleared_at = coalesce(u.clr_at, a.cleared_at),
              acked_at = coalesce(u.ack_at, a.acked_at), acked_by = coalesce(u.ack_by, a.acked_by),
              retired_at = CASE WHEN u.retired THEN coalesce(a.retired_at, :now) END,
              updated_at = :now
            FROM unnest(CAST(:id AS int[]), CAST(:state AS text[]), CAST(:active AS bool[]),
                        CAST(:acked AS bool[]), CAST(:until AS timestamptz[]),
                        CAST(:supp AS bool[]), CAST(:oos AS bool[]), CAST(:seq AS int[]),
                        CAST(:cnt AS int[]), CAST(:act_at AS timestamptz[]),
                        CAST(:tv AS float8[]), CAST(:tts AS timestamptz[]),
                        CAST(:clr_at AS timestamptz[]), CAST(:ack_at AS timestamptz[]),
                        CAST(:ack_by AS text[]), CAST(:retired AS bool[]))
                 AS u(id, state, active, acked, until, supp, oos, seq, cnt, act_at, tv, tts,
                      clr_at, ack_at, ack_by, retired)
            WHERE a.id = u.id"""),
            {
                "now": self.now,
                "id": [r.id for r in rows],
                "state": [r.point.state.value for r in rows],
                "active": [r.point.condition_active for r in rows],
                "acked": [r.point.acked for r in rows],
                "until": [r.point.shelved_until for r in rows],
                "supp": [r.point.suppressed for r in rows],
                "oos": [r.point.out_of_service for r in rows],
                "seq": [r.seq for r in rows],
                "cnt": [r.activation_count for r in rows],
                "act_at": col("activated_at"),
                "tv": col("trigger_value"),
                "tts": col("trigger_ts"),
                "clr_at": col("cleared_at"),
                "ack_at": col("acked_at"),
                "ack_by": col("acked_by"),
                "retired": [r.retired for r in rows],
            },
        )
        for r in rows:
            r.stamps.clear()
        self.dirty.clear()

    def _write_events(self) -> list[int]:
        """The history rows in one statement, travelling as one JSON document (comments and
        details in text[] parameters cost a regex pass per quote)."""
        ev = self.events
        seqs = [e.seq for e in ev]
        doc = orjson.dumps(
            [
                {
                    "alarm_id": e.row.id,
                    "seq": e.seq,
                    "action": e.transition.action.value,
                    "from_state": e.transition.from_state.value,
                    "to_state": e.transition.to_state.value,
                    "user_name": e.user,
                    "comment": e.comment,
                    "value": e.value,
                    "reading_ts": None if e.reading_ts is None else e.reading_ts.isoformat(),
                    "annunciated": e.transition.annunciated,
                    "detail": e.detail,
                }
                for e in ev
            ]
        ).decode()
        rows = self.conn.execute(
            text("""
            INSERT INTO alarm_event (alarm_id, seq, at, action, from_state, to_state, user_name,
                                     comment, value, reading_ts, annunciated, detail)
            SELECT u.alarm_id, u.seq, :now, u.action, u.from_state, u.to_state, u.user_name,
                   u.comment, u.value, u.reading_ts, u.annunciated,
                   CASE WHEN jsonb_typeof(j.doc->'detail') = 'object' THEN j.doc->'detail' END
            FROM jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS j(doc, n),
                 jsonb_to_record(j.doc) AS u(alarm_id int, seq int, action text,
                                             from_state text, to_state text, user_name text,
                                             comment text, value float8,
                                             reading_ts timestamptz, annunciated bool)
            ORDER BY j.n
            RETURNING id, alarm_id, seq"""),
            {"now": self.now, "rows": doc},
        ).all()
        by_key = {(aid, seq): eid for eid, aid, seq in rows}
        self.events = []
        return [by_key[(e.row.id, s)] for e, s in zip(ev, seqs, strict=True)]


def resync_children(
    conn: Connection,
    parent_ids: list[int],
    now: datetime,
    config: AlarmConfig,
    rows: dict[int, PointRow] | None = None,
) -> list[int]:
    """Suppress (or release) the points of rules whose parent's activity differs from their
    suppression. ``rows`` are points already locked by the caller (locked here otherwise)."""
    children = child_rules(conn, parent_ids)
    if not children:
        return []
    active = rules_active(conn, list(set(children.values())))
    if rows is None:
        rows = lock_points(conn, rule_ids=list(children))
    rec = Recorder(conn, now, config)
    for row in rows.values():
        parent = children.get(row.rule_id)
        if parent is None or row.retired:
            continue
        if active.get(parent, False):
            rec.act(row, Action.SUPPRESS, user="system", comment=f"parent rule {parent} active")
        else:
            rec.act(row, Action.UNSUPPRESS, user="system", comment=f"parent rule {parent} normal")
    return rec.flush()
