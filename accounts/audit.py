"""The one audit trail: who changed what, when, the state before and after, the request id.

Two ways in, both into the append-only ``audit_log`` (the database refuses UPDATE/DELETE):

* ``install(sessionmaker)`` hooks the ORM: every flushed insert, update or delete of an audited
  model (``__audited__ = True`` on the class, or named in ``AUDITED_TABLES``) is recorded in
  the same transaction, with the actor and request taken from ``session.info["audit"]``. A new
  domain (tariffs, budgets, assets …) opts in by setting ``__audited__ = True`` on its models.
  Each row names its site (``site_id``, so a site-scoped auditor sees it): the row's own
  ``site_id`` or, for a row without one, that of the parent its ``__audit_parent__`` names.
* ``record(...)`` for changes made in SQL (alarm actions, recalculations) and for writes that
  touched no audited model (the API records the request itself then).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from accounts.keys import Principal
from models.accounts import AuditLog

# audited tables of rooms written before the attribute existed
AUDITED_TABLES = {
    "carbon_factor",
    "carbon_meter_source",
    "carbon_activity",
    "carbon_production",
    "carbon_certificate",
    "carbon_calc_version",
    "alarm_rule",
}
SECRET_COLUMNS = {"password_hash", "secret_hash", "token_hash"}
COLUMNS = (
    "id",
    "at",
    "actor",
    "actor_kind",
    "actor_login",
    "action",
    "entity",
    "entity_id",
    "site_id",
    "before",
    "after",
    "request_id",
    "method",
    "path",
)


@dataclass
class Context:
    """One request (or CLI command): who acts, and whether anything was recorded yet."""

    request_id: str | None = None
    method: str | None = None
    path: str | None = None
    principal: Principal | None = None
    actor: str | None = None  # for the CLI: "cli:<os user>"
    recorded: int = field(default=0)

    def who(self) -> tuple[str, str, str | None] | None:
        if self.principal is not None:
            p = self.principal
            return p.name, p.kind, p.login
        if self.actor is not None:
            return self.actor, "cli", None
        return None


def jsonable(v: Any) -> Any:  # noqa: ANN401
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple | set | frozenset):
        return [jsonable(x) for x in v]
    return str(v)


def _audited(obj: object) -> bool:
    table = getattr(obj, "__tablename__", None)
    return bool(getattr(type(obj), "__audited__", False)) or table in AUDITED_TABLES


def _value(name: str, v: Any) -> Any:  # noqa: ANN401
    return "***" if name in SECRET_COLUMNS and v is not None else jsonable(v)


def _state(obj: object, before: bool) -> dict:
    out = {}
    st = inspect(obj)
    for attr in st.mapper.column_attrs:
        hist = st.attrs[attr.key].history
        if before and hist.deleted:
            v = hist.deleted[0]
        elif before and hist.added and not hist.deleted and st.persistent:
            v = None  # an attribute set for the first time
        else:
            v = st.dict.get(attr.key)  # never load: we are inside a flush
        out[attr.key] = _value(attr.key, v)
    return out


def _entity_id(obj: object) -> str | None:
    st = inspect(obj)
    for name in ("code", "login"):
        v = st.dict.get(name)
        if isinstance(v, str):
            return v
    ident = st.mapper.primary_key_from_instance(obj)
    return None if None in ident else "/".join(str(i) for i in ident)


def _site(obj: object) -> int | None:
    """The site of a change: the site itself, its ``site_id``, or that of the parent named by
    ``__audit_parent__`` (a relationship set when the row is made; never loaded here)."""
    st = inspect(obj)
    v = st.dict.get("id" if getattr(obj, "__tablename__", None) == "site" else "site_id")
    if isinstance(v, int):
        return v
    parent = getattr(type(obj), "__audit_parent__", None)
    found = st.dict.get(parent) if parent else None
    return None if found is None else _site(found)


def _after_flush(session: Session, _ctx: object) -> None:
    ctx: Context | None = session.info.get("audit")
    if ctx is None or ctx.who() is None:
        return
    rows = []
    for action, objs in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objs:
            if not _audited(obj):
                continue
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            before = None if action == "create" else _state(obj, before=True)
            after = None if action == "delete" else _state(obj, before=False)
            if action == "update" and before == after:
                continue
            entity = obj.__tablename__
            rows.append(_row(ctx, action, entity, _entity_id(obj), _site(obj), before, after))
    if rows:
        session.connection().execute(insert(AuditLog), rows)
        ctx.recorded += len(rows)


def _row(
    ctx: Context,
    action: str,
    entity: str,
    entity_id: str | None,
    site_id: int | None,
    before: dict | None,
    after: dict | None,
) -> dict:
    actor, kind, login = ctx.who() or ("system", "system", None)
    return {
        "actor": actor,
        "actor_kind": kind,
        "actor_login": login,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "site_id": site_id,
        "before": before,
        "after": after,
        "request_id": ctx.request_id,
        "method": ctx.method,
        "path": ctx.path,
    }


def install(target: sessionmaker | type[Session]) -> None:
    """Record audited ORM changes of every session made by ``target``."""
    if not event.contains(target, "after_flush", _after_flush):
        event.listen(target, "after_flush", _after_flush)


def record(
    session: Session,
    ctx: Context,
    action: str,
    entity: str,
    entity_id: str | None = None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    site_id: int | None = None,
) -> None:
    """One explicit row, in the caller's transaction."""
    row = _row(ctx, action, entity, entity_id, site_id, jsonable(before), jsonable(after))
    session.execute(insert(AuditLog), [row])
    ctx.recorded += 1


def query(
    session: Session,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    sites: frozenset[int] | None = None,
    limit: int = 1000,
) -> list[dict]:
    q = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if entity:
        q = q.where(AuditLog.entity == entity)
    if entity_id:
        q = q.where(AuditLog.entity_id == entity_id)
    if since is not None:
        q = q.where(AuditLog.at >= since)
    if until is not None:
        q = q.where(AuditLog.at < until)
    if actor:
        q = q.where((AuditLog.actor == actor) | (AuditLog.actor_login == actor))
    if sites is not None:
        q = q.where(AuditLog.site_id.in_(sites))
    return [{c: getattr(r, c) for c in COLUMNS} for r in session.scalars(q)]


def to_csv(rows: list[dict]) -> str:
    import json

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow(
            [
                json.dumps(r[c], ensure_ascii=False, sort_keys=True)
                if c in ("before", "after") and r[c] is not None
                else jsonable(r[c])
                if r[c] is not None
                else ""
                for c in COLUMNS
            ]
        )
    return buf.getvalue()
